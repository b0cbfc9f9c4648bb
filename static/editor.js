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

// Images dropped or pasted into the body: each is uploaded to the library (with progress)
// and its Markdown put where the cursor was. Without this script the Upload button does the
// same with a plain form.
(function () {
  'use strict';
  var body = document.getElementById('body');
  var csrf = document.querySelector('form.editor input[name=csrf]');
  var status = document.getElementById('upload-status');
  if (!body || !csrf || !status || !window.FormData || !window.XMLHttpRequest) return;

  function say(text) { status.textContent = text; }

  function insert(markdown, at) {
    var before = body.value.slice(0, at);
    var lead = before === '' || /\n\n$/.test(before) ? '' : (/\n$/.test(before) ? '\n' : '\n\n');
    var text = lead + markdown + '\n\n';
    body.setRangeText(text, at, at, 'end');
    body.dispatchEvent(new Event('input'));
    return at + text.length;
  }

  // Each new image joins the editor's list of recent ones, with its "Use as featured image"
  // button: the same plain form button the server renders.
  function list(image) {
    var items = document.querySelector('.editor-library');
    var place = document.querySelector('.editor-media');
    if (!items && !place) return;
    if (!items) {
      items = document.createElement('ul');
      items.className = 'editor-library';
      place.appendChild(items);
    }
    var item = document.createElement('li');
    var thumb = document.createElement('img');
    thumb.src = image.thumbnail;
    thumb.alt = '';
    thumb.width = 64;
    var text = document.createElement('span');
    var name = document.createElement('span');
    name.className = 'media-name';
    name.textContent = image.file_name;
    var code = document.createElement('code');
    code.textContent = image.markdown;
    var button = document.createElement('button');
    button.type = 'submit';
    button.name = 'action';
    button.value = 'feature-' + image.id;
    button.formNoValidate = true;
    button.className = 'link';
    button.textContent = 'Use as featured image';
    text.append(name, ' ', code, ' ', button);
    item.append(thumb, ' ', text, describe(image));
    items.insertBefore(item, items.firstChild);
  }

  // A dropped or pasted image came without a description: it is asked for beside it, and
  // saved to the library (where the article's Markdown takes it from when it gives none).
  function describe(image) {
    var id = 'describe-' + image.id;
    var box = document.createElement('span');
    box.className = 'describe';
    var label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = 'Description (alt text) of ' + image.file_name;
    var input = document.createElement('input');
    input.type = 'text';
    input.id = id;
    input.maxLength = 500;
    var save = document.createElement('button');
    save.type = 'button';
    save.className = 'secondary';
    save.textContent = 'Save description';
    var said = document.createElement('span');
    said.id = id + '-status';
    said.setAttribute('role', 'status');
    function send() {
      var form = new URLSearchParams();
      form.set('csrf', csrf.value);
      form.set('alt', input.value);
      form.set('caption', '');
      form.set('credit', '');
      said.textContent = 'Saving…';
      fetch('/admin/media/' + image.id + '/', { method: 'POST', body: form, credentials: 'same-origin', redirect: 'manual' })
        .then(function (r) {
          // Saved, the page answers with a redirect to the image's page.
          said.textContent = r.type === 'opaqueredirect' || r.ok ? 'Saved.' : 'Not saved (' + r.status + '): edit it on the Media page.';
        })
        .catch(function () { said.textContent = 'Not saved: the connection was lost.'; });
    }
    save.addEventListener('click', send);
    // Enter saves the description rather than sending the whole editor.
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') { e.preventDefault(); send(); }
    });
    box.append(label, ' ', input, ' ', save, ' ', said);
    return box;
  }

  function send(file, done) {
    var form = new FormData();
    form.append('csrf', csrf.value);
    form.append('alt', '');
    form.append('file', file, file.name || 'pasted-image');
    var request = new XMLHttpRequest();
    request.open('POST', '/admin/media');
    request.setRequestHeader('Accept', 'application/json');
    request.upload.onprogress = function (e) {
      if (e.lengthComputable) say('Uploading ' + (file.name || 'image') + ': ' + Math.round(100 * e.loaded / e.total) + '%');
    };
    request.onload = function () {
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (e) { /* not JSON */ }
      if (request.status === 201 && answer && answer.images) done(null, answer.images);
      else done((answer && answer.error) || ('The upload failed (' + request.status + ').'));
    };
    request.onerror = function () { done('The upload failed: the connection was lost.'); };
    request.send(form);
  }

  function upload(files) {
    var queue = Array.prototype.slice.call(files);
    var at = body.selectionStart;
    var added = 0;
    var problems = [];
    function next() {
      var file = queue.shift();
      if (!file) {
        say((added ? added + (added === 1 ? ' image added. ' : ' images added. ') : '') +
          problems.join(' ') + (added ? ' Describe each below, for readers who cannot see it.' : ''));
        return;
      }
      send(file, function (error, images) {
        if (error) problems.push(error);
        else images.forEach(function (image) { at = insert(image.markdown, at); list(image); added += 1; });
        next();
      });
    }
    next();
  }

  function hasFiles(e) {
    var types = e.dataTransfer && e.dataTransfer.types;
    return types && Array.prototype.indexOf.call(types, 'Files') !== -1;
  }
  body.addEventListener('dragover', function (e) {
    if (hasFiles(e)) { e.preventDefault(); document.body.classList.add('dragging'); }
  });
  body.addEventListener('dragleave', function () { document.body.classList.remove('dragging'); });
  body.addEventListener('drop', function (e) {
    document.body.classList.remove('dragging');
    if (e.dataTransfer && e.dataTransfer.files.length) { e.preventDefault(); upload(e.dataTransfer.files); }
  });
  body.addEventListener('paste', function (e) {
    var files = e.clipboardData && e.clipboardData.files;
    if (files && files.length) { e.preventDefault(); upload(files); }
  });
})();

// Unsaved work: what is typed is kept in this browser as it is typed, offered back when the
// editor is opened again before it was saved, and leaving with changes not saved asks first.
// Without this script nothing is kept, and the editor works the same.
(function () {
  'use strict';
  var form = document.querySelector('form.editor');
  if (!form) return;
  var store = null;
  try { store = window.localStorage; } catch (e) { store = null; }
  var key = 'byline:editor:' + location.pathname;
  var names = ['headline', 'standfirst', 'body', 'slug', 'section', 'tags', 'image_url',
    'image_alt', 'image_caption', 'seo_title', 'seo_description', 'social_image'];

  function values() {
    var found = {};
    names.forEach(function (name) {
      var field = form.elements[name];
      if (field) found[name] = field.value;
    });
    return found;
  }

  // The revision the form was opened on: text typed against an older one must not overwrite
  // a colleague's save when it is put back (the server refuses a stale revision with a 409).
  var opened = form.elements.opened;
  var revision = opened ? opened.value : '';
  var loaded = JSON.stringify(values());
  var submitting = false;
  function dirty() { return JSON.stringify(values()) !== loaded; }

  function put(saved) {
    names.forEach(function (name) {
      var field = form.elements[name];
      if (field && typeof saved[name] === 'string') {
        field.value = saved[name];
        field.dispatchEvent(new Event('input', { bubbles: true }));
      }
    });
  }

  if (store) {
    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || 'null'); } catch (e) { saved = null; }
    // Sent and answered with a newer revision: that save went through (a refused one comes
    // back with the text in the form), so nothing is left to offer.
    var landed = saved && saved.sent && saved.revision !== revision;
    if (saved && (landed || JSON.stringify(saved.values) === loaded)) {
      store.removeItem(key);
    } else if (saved && saved.values) {
      var stale = opened && saved.revision && saved.revision !== revision;
      var notice = document.createElement('div');
      notice.className = 'autosave-notice';
      notice.setAttribute('role', 'status');
      var when = new Date(saved.at);
      var text = document.createElement('p');
      text.textContent = 'Changes typed here on ' + when.toLocaleString() +
        ' were not saved. They are kept in this browser.' + (stale
        ? ' Someone has saved this article since: saving them shows what changed first.'
        : '');
      var restore = document.createElement('button');
      restore.type = 'button';
      restore.textContent = 'Put them back';
      restore.addEventListener('click', function () {
        put(saved.values);
        if (stale) opened.value = saved.revision;
        notice.remove();
        form.querySelector('#headline').focus();
      });
      var discard = document.createElement('button');
      discard.type = 'button';
      discard.className = 'secondary';
      discard.textContent = 'Discard them';
      discard.addEventListener('click', function () {
        store.removeItem(key);
        notice.remove();
      });
      notice.append(text, restore, document.createTextNode(' '), discard);
      form.parentNode.insertBefore(notice, form);
    }
  }

  var timer = null;
  form.addEventListener('input', function () {
    if (!store) return;
    clearTimeout(timer);
    timer = setTimeout(function () {
      try {
        if (dirty()) store.setItem(key, JSON.stringify(kept(false)));
        else store.removeItem(key);
      } catch (e) { /* a full or refused store keeps nothing */ }
    }, 500);
  });

  function kept(sent) {
    return { at: Date.now(), values: values(), revision: opened ? opened.value : '', sent: sent };
  }

  // Kept until the answer shows the save went through: a request lost on the way (the
  // network, the server away) leaves the text to be offered back.
  form.addEventListener('submit', function () {
    submitting = true;
    clearTimeout(timer);
    if (store && dirty()) {
      try { store.setItem(key, JSON.stringify(kept(true))); } catch (e) { /* nothing kept */ }
    }
  });

  window.addEventListener('beforeunload', function (event) {
    if (submitting || !dirty()) return;
    event.preventDefault();
    event.returnValue = '';
  });
})();

// The body's word count, as the server counts it, while it is typed.
(function () {
  'use strict';
  var body = document.getElementById('body');
  var shown = document.getElementById('word-count');
  if (!body || !shown) return;
  var cjk = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]/g;
  function count(text) {
    var words = 0;
    text.split(/\s+/).forEach(function (token) {
      var ideographs = (token.match(cjk) || []).length;
      var rest = token.replace(cjk, '');
      words += ideographs + (/[\p{L}\p{N}]/u.test(rest) ? 1 : 0);
    });
    return words;
  }
  body.addEventListener('input', function () {
    var n = count(body.value);
    shown.textContent = n + (n === 1 ? ' word' : ' words');
  });
})();
