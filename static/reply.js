// The reply form, a little closer to the reader. Every page works without this script: Reply
// links then load the page with the form at its foot, saying which reply it answers.
(function () {
  'use strict';

  // A refused form: its summary (which lists each problem as a link to its field) is what a
  // screen reader should read first. `autofocus` does this too; some browsers ignore it on
  // elements that are not form controls.
  var summary = document.getElementById('form-errors');
  if (summary && document.activeElement !== summary) summary.focus();
  // Each problem links to its field: following the link puts the cursor there.
  if (summary) {
    summary.addEventListener('click', function (event) {
      var link = event.target.closest && event.target.closest('a[href^="#"]');
      var field = link && document.getElementById(link.getAttribute('href').slice(1));
      if (!field) return;
      event.preventDefault();
      var label = document.querySelector('label[for="' + field.id + '"]');
      (label || field).scrollIntoView({ block: 'center' });
      field.focus({ preventScroll: true });
    });
  }

  var respond = document.getElementById('respond');
  var form = respond && respond.querySelector('form.reply-form');
  var parent = form && form.querySelector('input[name=parent]');
  var heading = respond && respond.querySelector('#respond-title');
  if (!form || !parent || !heading) return;

  // Where the form lives when it answers nobody, and what its heading says there.
  var home = document.createComment('reply form');
  respond.parentNode.insertBefore(home, respond);
  var homeHeading = 'Leave a Reply';
  var cancel = null;
  var opener = null;

  function removeServerContext() {
    // The form as the server sent it for ?replytocom: its quote and link are for readers
    // without this script.
    var quote = respond.querySelector('.replying-to');
    var link = respond.querySelector('p.cancel-reply');
    if (quote) quote.remove();
    if (link) link.remove();
  }

  function cancelButton() {
    if (cancel) return cancel;
    cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'secondary cancel-reply';
    cancel.textContent = 'Cancel reply';
    cancel.addEventListener('click', putBack);
    return cancel;
  }

  // The form moves under the reply it answers, and the reader's cursor with it.
  function answer(item, link) {
    var card = item.querySelector(':scope > .reply-card');
    var name = item.querySelector(':scope > .reply-card .reply-author bdi');
    if (!card) return false;
    removeServerContext();
    parent.value = item.id.replace('comment-', '');
    heading.textContent = 'Reply to ';
    var who = document.createElement('bdi');
    who.textContent = name ? name.textContent : 'this reply';
    heading.appendChild(who);
    heading.after(cancelButton());
    card.after(respond);
    respond.classList.add('in-thread');
    opener = link;
    var comment = form.querySelector('#comment');
    if (comment) comment.focus();
    return true;
  }

  function putBack() {
    parent.value = '';
    heading.textContent = homeHeading;
    if (cancel) cancel.remove();
    home.after(respond);
    respond.classList.remove('in-thread');
    if (opener) opener.focus();
    opener = null;
  }

  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a.reply-link');
    if (!link) return;
    var item = link.closest('li.reply');
    if (item && answer(item, link)) event.preventDefault();
  });

  // Loaded with ?replytocom=ID (a shared link, or the back button): answer in place too.
  var answering = parent.value && document.getElementById('comment-' + parent.value);
  if (answering && !summary) {
    var link = answering.querySelector(':scope > .reply-card a.reply-link');
    answer(answering, link);
  }
})();
