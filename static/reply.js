// The reply form, a little closer to the reader, and new replies as they come. Every page
// works without this script: Reply links then load the page with the form at its foot, saying
// which reply it answers; the form posts and the page comes back; new replies show on the
// next visit.
(function () {
  'use strict';

  live();

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
  postWithoutReload();

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
  // Posting without a reload: the reply appears in its place, or the messages beside their
  // fields with everything typed kept. Any other answer (or none) sends the form again the
  // plain way, which shows the server's own page.
  function postWithoutReload() {
    if (!window.fetch || !window.URLSearchParams || !window.FormData) return;
    var sending = false;
    var status = document.createElement('p');
    status.className = 'visually-hidden';
    status.setAttribute('role', 'status');
    form.appendChild(status);
    form.addEventListener('submit', function (event) {
      if (sending) { event.preventDefault(); return; }
      event.preventDefault();
      sending = true;
      var button = form.querySelector('button[type=submit]');
      if (button) button.disabled = true;
      status.textContent = 'Posting your reply…';
      var body = new URLSearchParams(new FormData(form));
      var plain = function () { sending = false; if (button) button.disabled = false; form.submit(); };
      fetch(form.action, {
        method: 'POST',
        body: body,
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      }).then(function (response) {
        var json = (response.headers.get('Content-Type') || '').indexOf('json') >= 0;
        if (!json || [201, 422, 429].indexOf(response.status) < 0) return plain();
        return response.json().then(function (data) {
          sending = false;
          if (button) button.disabled = false;
          if (response.status === 201) posted(data); else refused(data.errors || []);
        });
      }).catch(plain);
    });

    function posted(data) {
      clearErrors();
      var item = placeReply(data.id, data.parent_id, data.html);
      // Its place is on another page of replies: go there, as the plain form would.
      if (!item) { location.assign(data.location); return; }
      var comment = form.querySelector('#comment');
      if (comment) comment.value = '';
      if (parent.value) putBack();
      status.textContent = data.held
        ? 'Your reply is posted and awaits moderation: only you see it for now.'
        : 'Your reply is posted.';
      if (item) {
        item.classList.add('just-posted');
        item.setAttribute('tabindex', '-1');
        item.scrollIntoView({ block: 'center' });
        item.focus({ preventScroll: true });
      }
    }

    function clearErrors() {
      var old = document.getElementById('form-errors');
      if (old) old.remove();
      form.querySelectorAll('.field-error').forEach(function (e) { e.remove(); });
      form.querySelectorAll('[aria-invalid]').forEach(function (field) {
        field.removeAttribute('aria-invalid');
        field.removeAttribute('aria-describedby');
      });
    }

    // As the server's page shows them: a summary first (each message a link to its field),
    // and each field's message beside it.
    function refused(errors) {
      clearErrors();
      var box = document.createElement('div');
      box.id = 'form-errors';
      box.className = 'form-errors';
      box.tabIndex = -1;
      box.setAttribute('aria-labelledby', 'form-errors-title');
      var title = document.createElement('h3');
      title.id = 'form-errors-title';
      title.textContent = 'Your reply has not been posted yet';
      var list = document.createElement('ul');
      errors.forEach(function (error) {
        var field = form.querySelector('[name="' + error.field + '"]:not([type=hidden])');
        var entry = document.createElement('li');
        if (field && field.id) {
          var link = document.createElement('a');
          link.href = '#' + field.id;
          link.textContent = error.message;
          entry.appendChild(link);
          var note = document.createElement('span');
          note.className = 'field-error';
          note.id = field.id + '-error';
          note.textContent = error.message;
          field.after(note);
          field.setAttribute('aria-invalid', 'true');
          field.setAttribute('aria-describedby', note.id);
        } else {
          entry.textContent = error.message;
        }
        list.appendChild(entry);
      });
      var kept = document.createElement('p');
      kept.textContent = 'Everything you typed is still here.';
      box.append(title, list, kept);
      form.prepend(box);
      box.addEventListener('click', function (event) {
        var link = event.target.closest && event.target.closest('a[href^="#"]');
        var field = link && document.getElementById(link.getAttribute('href').slice(1));
        if (!field) return;
        event.preventDefault();
        field.focus();
      });
      status.textContent = '';
      box.focus();
    }
  }

  // Where a reply goes in the thread as this page shows it: under its parent (answers too
  // deep follow their parent at the deepest level, after the answers before them), or at the
  // end of the newest page. Returns the reply's item, or null when it is not on this page.
  function placeReply(id, parentId, html) {
    var replies = document.getElementById('replies');
    if (!replies || document.getElementById('comment-' + id)) return null;
    var maxDepth = parseInt(replies.getAttribute('data-max-depth'), 10) || 5;
    var item = document.createElement('li');
    item.id = 'comment-' + id;
    if (parentId) item.setAttribute('data-parent', parentId);
    item.innerHTML = html;
    var parentItem = parentId && document.getElementById('comment-' + parentId);
    if (parentItem) {
      var depth = depthOf(parentItem);
      if (depth < maxDepth) {
        var children = parentItem.querySelector(':scope > ol.children');
        if (!children) {
          children = document.createElement('ol');
          children.className = 'children';
          parentItem.appendChild(children);
        }
        item.className = 'reply depth-' + (depth + 1);
        children.appendChild(item);
      } else {
        item.className = 'reply depth-' + depth;
        var after = parentItem;
        while (after.nextElementSibling && descends(after.nextElementSibling, parentItem)) {
          after = after.nextElementSibling;
        }
        after.after(item);
      }
      return item;
    }
    if (parentId || !replies.hasAttribute('data-newest')) return null;
    var list = replies.querySelector('ol.reply-list');
    if (!list) {
      list = document.createElement('ol');
      list.className = 'reply-list';
      var none = replies.querySelector('.no-replies');
      if (none) none.remove();
      replies.appendChild(list);
    }
    item.className = 'reply depth-1';
    list.appendChild(item);
    return item;
  }

  function depthOf(item) {
    var match = /depth-(\d+)/.exec(item.className);
    return match ? parseInt(match[1], 10) : 1;
  }

  // Whether `item` answers `ancestor`, however deep (items at the deepest level name their
  // parent).
  function descends(item, ancestor) {
    for (var guard = 0; item && guard < 1000; guard++) {
      var parentId = item.getAttribute('data-parent');
      if (!parentId) return false;
      if ('comment-' + parentId === ancestor.id) return true;
      item = document.getElementById('comment-' + parentId);
    }
    return false;
  }

  // New replies while the reader is here: counted in a bar at the foot of the window, shown
  // when they ask, each in its place; the text under their eyes stays where it is.
  function live() {
    var replies = document.getElementById('replies');
    var url = replies && replies.getAttribute('data-events');
    if (!url || !window.EventSource || !window.JSON) return;
    var waiting = [];
    var removed = [];
    var bar = null;
    var source = new EventSource(url);
    function arrived(event) {
      var data = JSON.parse(event.data);
      var there = document.getElementById('comment-' + data.reply_id);
      if (there && !there.querySelector(':scope > .reply-card.held')) return;
      if (waiting.some(function (w) { return w.reply_id === data.reply_id; })) return;
      waiting.push(data);
      update();
    }
    source.addEventListener('reply.posted', arrived);
    source.addEventListener('reply.approved', arrived);
    source.addEventListener('reply.removed', function (event) {
      var data = JSON.parse(event.data);
      waiting = waiting.filter(function (w) { return w.reply_id !== data.reply_id; });
      if (document.getElementById('comment-' + data.reply_id)) removed.push(data.reply_id);
      update();
    });
    // More was missed than the site keeps: the page itself is newer.
    source.addEventListener('reset', function () { waiting = []; update(true); });

    function update(reload) {
      var count = waiting.length;
      if (!count && !reload) { if (bar) { bar.remove(); bar = null; } return; }
      if (!bar) {
        bar = document.createElement('div');
        bar.className = 'new-replies';
        bar.setAttribute('role', 'status');
        var button = document.createElement('button');
        button.type = 'button';
        bar.appendChild(button);
        document.body.appendChild(bar);
        button.addEventListener('click', function () {
          if (bar.getAttribute('data-reload')) { location.reload(); return; }
          show();
        });
      }
      var label = reload ? 'New replies — reload to see them'
        : (count === 1 ? '1 new reply — show' : count + ' new replies — show');
      if (reload) bar.setAttribute('data-reload', 'yes');
      bar.firstChild.textContent = label;
    }

    function show() {
      var anchor = firstVisible();
      var before = anchor ? anchor.getBoundingClientRect().top : 0;
      var shown = [];
      waiting.forEach(function (data) {
        var there = document.getElementById('comment-' + data.reply_id);
        if (there) {
          // The poster's own held reply, now public.
          var card = there.querySelector(':scope > .reply-card');
          if (card && data.html) card.outerHTML = data.html;
          shown.push(there);
          return;
        }
        var item = placeReply(data.reply_id, data.reply && data.reply.parent_id, data.html);
        if (item) { item.classList.add('just-arrived'); shown.push(item); }
      });
      removed.forEach(function (id) {
        var item = document.getElementById('comment-' + id);
        var card = item && item.querySelector(':scope > .reply-card');
        if (!card) return;
        var note = document.createElement('p');
        note.className = 'removed-note';
        note.textContent = 'This reply was removed.';
        card.replaceWith(note);
        item.classList.add('removed');
      });
      waiting = [];
      removed = [];
      if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - before);
      bar.remove();
      bar = null;
      if (shown[0]) {
        shown[0].setAttribute('tabindex', '-1');
        shown[0].focus({ preventScroll: true });
      }
    }

    // The first reply (or heading) on screen: what the reader is looking at.
    function firstVisible() {
      var candidates = document.querySelectorAll('#replies li.reply, #replies h2, #respond');
      for (var i = 0; i < candidates.length; i++) {
        var box = candidates[i].getBoundingClientRect();
        if (box.bottom > 0) return candidates[i];
      }
      return null;
    }
  }
})();
