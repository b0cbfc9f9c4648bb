// Byline's replies on another site's page. The page holds
//   <div id="byline-replies"><a href="…">Read and reply on …</a></div>
//   <script src="https://news.example/embed.js" async></script>
// and this script, served by the Byline site, replaces the div's content with the page's
// thread and a Leave a Reply form, in a shadow root (the host's styles do not reach in; a few
// --byline-* custom properties do). Links marked data-byline-count get reply counts. Nothing is
// kept but in the page's localStorage: the poster's signed list of held replies, and the name
// and website they asked to be remembered; never the email address.
(function () {
  'use strict';
  var me = document.currentScript || document.querySelector('script[src$="/embed.js"]');
  if (!me || !window.fetch) return;
  var site = new URL(me.src).origin;
  var api = site + '/api/v1';
  var store = window.localStorage;
  var KEY = 'byline:' + site;
  var saved = {};
  try { saved = JSON.parse(store.getItem(KEY) || '{}') || {}; } catch (e) { saved = {}; }
  function keep() { try { store.setItem(KEY, JSON.stringify(saved)); } catch (e) { /* full or off */ } }

  function canonical(href) {
    var link = document.querySelector('link[rel=canonical]');
    var url = new URL(href || (link && link.href) || location.href, location.href);
    if (!href && !link) url.search = '';
    url.hash = '';
    return url.href;
  }

  function get(path, params) {
    var query = new URLSearchParams(params).toString();
    return fetch(api + path + (query ? '?' + query : ''), { credentials: 'omit' })
      .then(function (r) { return r.json().then(function (data) { return { status: r.status, data: data }; }); });
  }

  // h('p', {class: 'x'}, 'text', child…): text is always text.
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    [].concat(children || []).forEach(function (c) {
      if (c != null) el.append(c);
    });
    return el;
  }

  // A reader's text as paragraphs, line breaks and links: built from text nodes, never HTML.
  function body(text) {
    return text.split(/\n\s*\n/).map(function (para) {
      var p = h('p');
      para.split('\n').forEach(function (line, i) {
        if (i) p.append(h('br'));
        line.split(/(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'])/).forEach(function (part, j) {
          p.append(j % 2 ? h('a', { href: part, rel: 'nofollow ugc noopener' }, part) : part);
        });
      });
      return p;
    });
  }

  var CSS = ':host{display:block;font:inherit;font-family:var(--byline-font,inherit);color:var(--byline-text,inherit)}' +
    '*{box-sizing:border-box}h2{font-size:1.3em;margin:1.5em 0 .5em}ol{list-style:none;margin:0;padding:0}' +
    'ol ol{margin-left:1.2em;padding-left:1em;border-left:2px solid var(--byline-rule,#ddd)}' +
    'li{margin:1em 0}.meta{font-size:.9em;color:var(--byline-muted,#555)}.who{font-weight:bold;font-style:normal}' +
    '.staff{font-size:.8em;border:1px solid currentColor;border-radius:3px;padding:0 .3em;margin-left:.4em}' +
    '.held{border-left:4px solid var(--byline-accent,#1f3a5f);padding-left:.6em}.removed{color:var(--byline-muted,#555);font-style:italic}' +
    'p{margin:.4em 0}label{display:block;font-weight:bold;margin-top:.8em}' +
    'input[type=text],input[type=email],input[type=url],textarea{width:100%;font:inherit;padding:.4em;border:1px solid var(--byline-muted,#767676);border-radius:4px;background:var(--byline-background,#fff);color:inherit}' +
    'button{font:inherit;padding:.45em 1em;border:0;border-radius:4px;background:var(--byline-accent,#1f3a5f);color:var(--byline-background,#fff);cursor:pointer;min-height:24px}' +
    'button.link{background:none;color:var(--byline-accent,#1f3a5f);padding:0;text-decoration:underline}' +
    ':focus-visible{outline:3px solid var(--byline-accent,#1f3a5f);outline-offset:2px}.check label{display:inline;font-weight:normal}' +
    '.error{color:var(--byline-error,#b00020);display:block}.errors{border:2px solid var(--byline-error,#b00020);padding:.5em 1em;margin:1em 0}' +
    '.hp{position:absolute;left:-10000px}.req{color:var(--byline-error,#b00020)}.bar{position:sticky;bottom:.5em;text-align:center}' +
    '.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}';

  function style(root) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.append(h('style', {}, CSS));
    }
  }

  function when(iso) {
    var d = new Date(iso);
    return h('time', { datetime: iso }, d.toLocaleString(undefined, { dateStyle: 'long', timeStyle: 'short' }));
  }

  function thread(host) {
    var url = canonical();
    var root = host.attachShadow({ mode: 'open' });
    style(root);
    var status = h('p', { class: 'vh', role: 'status' });
    var list = h('ol');
    var heading = h('h2', { id: 'replies-title' }, 'Replies');
    var older = h('button', { type: 'button', class: 'link', hidden: '' }, 'Older replies');
    var section = h('section', { 'aria-labelledby': 'replies-title' }, [heading, older, list]);
    root.append(section, status);
    var threadId = null;
    var form;

    function item(r) {
      var li = h('li', { id: 'comment-' + r.id, 'data-depth': r.depth });
      if (r.removed) { li.append(h('p', { class: 'removed' }, 'This reply was removed.')); return li; }
      var a = r.author;
      var name = a.website ? h('a', { href: a.website, rel: 'nofollow ugc noopener' }, a.name) : a.name;
      var art = h('article', r.held ? { class: 'held' } : {}, [
        h('p', { class: 'meta' }, [h('cite', { class: 'who' }, h('bdi', {}, name)), a.staff ? h('span', { class: 'staff' }, 'Staff') : null, ' · ', when(r.created_at)]),
        r.held ? h('p', {}, h('em', {}, 'Your comment is awaiting moderation.')) : null,
        h('div', { dir: 'auto' }, body(r.body))
      ]);
      if (!r.held && form) {
        var answer = h('button', { type: 'button', class: 'link', 'aria-label': 'Reply to ' + a.name }, 'Reply');
        answer.addEventListener('click', function () { form.answer(r.id, a.name, li); });
        art.append(h('p', {}, answer));
      }
      li.append(art);
      return li;
    }

    // Replies in the page's order, nested by depth.
    function place(replies, into, before) {
      var stack = [into];
      replies.forEach(function (r) {
        stack.length = Math.min(stack.length, r.depth);
        var parent = stack[stack.length - 1];
        var li = item(r);
        if (before && parent === into) into.insertBefore(li, before); else parent.append(li);
        var kids = h('ol');
        li.append(kids);
        stack.push(kids);
      });
    }

    function add(r) {
      if (root.getElementById('comment-' + r.id)) return null;
      var parent = r.parent_id && root.getElementById('comment-' + r.parent_id);
      var into = parent ? parent.querySelector(':scope > ol') : list;
      var li = item(r);
      li.append(h('ol'));
      into.append(li);
      return li;
    }

    function load(cursor) {
      var params = { url: url };
      if (saved.poster) params.poster = saved.poster;
      if (cursor) params.cursor = cursor;
      return get('/threads/replies', params).then(function (res) {
        if (res.status !== 200) throw new Error(res.data.detail || 'no thread');
        var t = res.data;
        place(t.replies, list, cursor ? list.firstChild : null);
        older.hidden = !t.older;
        older.onclick = function () { load(t.older); };
        if (t.thread) {
          heading.textContent = t.thread.reply_count === 1 ? 'One reply' : t.thread.reply_count + ' replies';
          listen(t.thread.id);
        }
        if (!cursor && !form && t.replies_open) { form = reply(t.mail); section.after(form.el); }
        else if (!cursor && !t.replies_open) section.after(h('p', {}, 'Comments are closed.'));
        if (location.hash && !cursor) {
          var target = root.getElementById(location.hash.slice(1));
          if (target) target.scrollIntoView();
        }
      });
    }

    var listening = false;
    function listen(id) {
      if (listening || !window.EventSource) return;
      listening = true;
      threadId = id;
      var waiting = [];
      var bar = h('p', { class: 'bar', hidden: '' });
      var show = h('button', { type: 'button' });
      bar.append(show);
      section.append(bar);
      var gone = [];
      var source = new EventSource(api + '/threads/' + id + '/events');
      // Changes wait for the reader's word, so that the text does not move under them.
      function offer() {
        var n = waiting.length;
        var parts = [];
        if (n) parts.push(n === 1 ? '1 new reply' : n + ' new replies');
        if (gone.length) parts.push(gone.length === 1 ? '1 reply removed' : gone.length + ' replies removed');
        show.textContent = parts.join(', ') + (gone.length ? ' — update' : ' — show');
        bar.hidden = !parts.length;
      }
      function arrived(e) {
        var d = JSON.parse(e.data);
        var there = root.getElementById('comment-' + d.reply_id);
        if (there && !there.querySelector(':scope > article.held')) return;
        if (waiting.some(function (r) { return r.id === d.reply_id; })) return;
        waiting.push(d.reply);
        offer();
      }
      source.addEventListener('reply.posted', arrived);
      source.addEventListener('reply.approved', arrived);
      source.addEventListener('reply.removed', function (e) {
        var d = JSON.parse(e.data);
        waiting = waiting.filter(function (r) { return r.id !== d.reply_id; });
        if (root.getElementById('comment-' + d.reply_id) && gone.indexOf(d.reply_id) < 0) gone.push(d.reply_id);
        offer();
      });
      // More was missed than the site keeps: the thread is read again.
      source.addEventListener('reset', function () {
        waiting = [];
        gone = [];
        offer();
        list.textContent = '';
        load();
      });
      show.addEventListener('click', function () {
        waiting.forEach(function (r) {
          var there = root.getElementById('comment-' + r.id);
          if (there) there.replaceWith(item(r));
          else add(r);
        });
        gone.forEach(function (id) {
          var there = root.getElementById('comment-' + id);
          if (!there) return;
          // Answers keep their place under a note, as on the site's own pages.
          var kids = there.querySelector(':scope > ol');
          if (kids && kids.children.length) {
            var note = item({ id: id, removed: true, depth: there.getAttribute('data-depth') });
            note.append(kids);
            there.replaceWith(note);
          } else {
            there.remove();
          }
        });
        waiting = [];
        gone = [];
        bar.hidden = true;
        status.textContent = 'The replies are up to date.';
      });
    }

    // The form: the fields, labels, marks and promise of Byline's own.
    function reply(mail) {
      function field(name, label, type, required, extra) {
        var id = 'byline-' + name;
        var input = type === 'textarea' ? h('textarea', { id: id, name: name, rows: 6 })
          : h('input', Object.assign({ id: id, name: name, type: type }, extra || {}));
        if (required) input.required = true;
        return h('p', {}, [h('label', { for: id }, [label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null]), input]);
      }
      var title = h('h2', { id: 'respond-title' }, 'Leave a Reply');
      var cancel = h('button', { type: 'button', class: 'link', hidden: '' }, 'Cancel reply');
      var errors = h('div', { class: 'errors', tabindex: '-1', hidden: '' });
      var remember = h('input', { id: 'byline-remember', type: 'checkbox' });
      function box(name, label) {
        return mail ? h('p', { class: 'check' }, [h('input', { id: 'byline-' + name, name: name, type: 'checkbox' }), ' ', h('label', { for: 'byline-' + name }, label)]) : null;
      }
      var f = h('form', { novalidate: '' }, [
        errors,
        h('p', {}, ['Your email address will not be published. Required fields are marked ', h('span', { class: 'req', 'aria-hidden': 'true' }, '*')]),
        field('comment', 'Comment', 'textarea', true),
        field('name', 'Name', 'text', true, { autocomplete: 'name' }),
        field('email', 'Email', 'email', true, { autocomplete: 'email' }),
        field('website', 'Website', 'url', false, { autocomplete: 'url' }),
        h('p', { class: 'check' }, [remember, ' ', h('label', { for: 'byline-remember' }, 'Save my name and website in this browser for the next time I comment.')]),
        box('notify_replies', 'Notify me of replies to my comment by email'),
        box('follow_article', 'Notify me of new replies to this page'),
        h('p', { class: 'hp', 'aria-hidden': 'true' }, [h('label', { for: 'byline-homepage' }, 'Leave this field empty'), h('input', { id: 'byline-homepage', name: 'homepage', type: 'text', tabindex: '-1', autocomplete: 'off' })]),
        h('p', {}, h('button', { type: 'submit' }, 'Post Reply'))
      ]);
      var el = h('section', { 'aria-labelledby': 'respond-title' }, [title, cancel, f]);
      var parent = null;
      var token = null;
      var v = f.elements;
      if (saved.name) { v.name.value = saved.name; v.website.value = saved.website || ''; remember.checked = true; }
      function fresh() { get('/token', { url: url }).then(function (r) { token = r.data.token; }); }
      fresh();
      function home() { parent = null; title.textContent = 'Leave a Reply'; cancel.hidden = true; section.after(el); }
      cancel.addEventListener('click', home);

      function clear() {
        errors.hidden = true;
        errors.textContent = '';
        f.querySelectorAll('.error').forEach(function (e) { e.remove(); });
        f.querySelectorAll('[aria-invalid]').forEach(function (e) { e.removeAttribute('aria-invalid'); e.removeAttribute('aria-describedby'); });
      }
      function refused(list) {
        clear();
        var ul = h('ul');
        list.forEach(function (e) {
          var input = v[e.field];
          if (input && input.id) {
            var note = h('span', { class: 'error', id: input.id + '-error' }, e.message);
            input.after(note);
            input.setAttribute('aria-invalid', 'true');
            input.setAttribute('aria-describedby', note.id);
          }
          ul.append(h('li', {}, e.message));
        });
        errors.append(h('h3', {}, 'Your reply has not been posted yet'), ul, h('p', {}, 'Everything you typed is still here.'));
        errors.hidden = false;
        errors.focus();
      }

      f.addEventListener('submit', function (e) {
        e.preventDefault();
        var button = f.querySelector('button[type=submit]');
        button.disabled = true;
        status.textContent = 'Posting your reply…';
        var sent = {
          comment: v.comment.value, name: v.name.value, email: v.email.value, website: v.website.value,
          homepage: v.homepage.value, token: token || '', url: url, title: document.title,
          parent: parent, poster: saved.poster || '',
          notify_replies: !!(v.notify_replies && v.notify_replies.checked),
          follow_article: !!(v.follow_article && v.follow_article.checked)
        };
        fetch(api + '/threads/replies', {
          method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(sent)
        }).then(function (r) { return r.json().then(function (d) { return { status: r.status, data: d }; }); })
          .then(function (res) {
            button.disabled = false;
            var d = res.data;
            if (res.status === 201) {
              clear();
              saved.poster = d.poster;
              if (remember.checked) { saved.name = sent.name; saved.website = sent.website; }
              else { delete saved.name; delete saved.website; }
              keep();
              v.comment.value = '';
              var li = add(d.reply) || root.getElementById('comment-' + d.reply.id);
              home();
              status.textContent = d.held ? 'Your reply is posted and awaits moderation: only you see it for now.' : 'Your reply is posted.';
              if (li) { li.tabIndex = -1; li.focus(); }
              if (!threadId) listen(d.article_id);
              fresh();
            } else {
              refused(d.errors && d.errors.length ? d.errors : [{ field: 'form', message: d.detail || 'Your reply could not be posted.' }]);
              if (res.status === 422) fresh();
            }
          })
          .catch(function () {
            button.disabled = false;
            refused([{ field: 'form', message: 'The site could not be reached, so your reply was not posted. Please try again.' }]);
          });
      });
      return {
        el: el,
        answer: function (id, name, li) {
          parent = id;
          title.textContent = 'Reply to ';
          title.append(h('bdi', {}, name));
          cancel.hidden = false;
          li.querySelector(':scope > article').after(el);
          v.comment.focus();
        }
      };
    }

    // Not here (an unlisted site, the Byline site down): the page's own link shows.
    load().catch(function () { root.replaceChildren(h('slot')); });
  }

  // Reply counts for links to pages with replies.
  function counts() {
    var links = [].slice.call(document.querySelectorAll('a[data-byline-count]'));
    if (!links.length) return;
    var urls = links.map(function (a) { return canonical(a.href); });
    var params = new URLSearchParams();
    urls.slice(0, 100).forEach(function (u) { params.append('url', u); });
    fetch(api + '/counts?' + params, { credentials: 'omit' }).then(function (r) { return r.json(); }).then(function (d) {
      links.forEach(function (a, i) {
        var found = (d.urls || []).filter(function (c) { return c.url === urls[i]; })[0];
        var n = found ? found.replies : 0;
        a.textContent = n === 1 ? '1 reply' : n + ' replies';
      });
    });
  }

  function start() {
    var host = document.getElementById('byline-replies');
    if (host && !host.shadowRoot) thread(host);
    counts();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
