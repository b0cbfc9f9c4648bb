// Live preview for the article editor. The editor works without it: the Preview button
// renders the same HTML on the server.
(function () {
  'use strict';
  var body = document.getElementById('body');
  var target = body && document.getElementById(body.dataset.preview);
  var csrf = document.querySelector('form.editor input[name=csrf]');
  if (!body || !target || !csrf) return;
  var timer = null;
  var latest = 0;
  function refresh() {
    var ticket = ++latest;
    var form = new URLSearchParams();
    form.set('csrf', csrf.value);
    form.set('body', body.value);
    fetch('/admin/preview', { method: 'POST', body: form, credentials: 'same-origin' })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        // The server sanitized this HTML exactly as it does when the article is saved.
        if (html !== null && ticket === latest) target.innerHTML = html;
      })
      .catch(function () { /* keep the last preview */ });
  }
  body.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  refresh();
})();
