/*
 * Kituo agent console, served at /console together with /console.css.
 * Plain ES2019, no dependencies, no build step. Talks to the JSON API under
 * /api and to the live socket /ws/agent. User data only ever reaches the page
 * through textContent / setAttribute, never innerHTML.
 */
(function () {
  'use strict';

  const w = window;
  const d = document;

  // ------------------------------------------------------------------ config
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 15000;
  const HELLO_WAIT = 10000;
  const LISTS_FALLBACK = 3000;
  const TYPING_SEND_EVERY = 3000;
  const TYPING_SHOW_FOR = 4000;
  const TOAST_FOR = 6000;
  const TICK_EVERY = 30000;
  const MAX_LEN = 4000;
  const LOGIN_URL = '/login?next=/console';
  const WS_URL = (w.location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + w.location.host + '/ws/agent';
  const TABS = ['queue', 'mine', 'open'];
  const CHANNELS = { web: 'Web', email: 'Email', discord: 'Discord' };
  const STATUS = { bot: 'Bot', queued: 'Queued', assigned: 'Assigned', resolved: 'Resolved' };
  const AUTHORS = { customer: 'Customer', bot: 'Bot', agent: 'Agent', system: 'System' };
  const VERIFY = {
    none: ['Unverified', 'v-none'],
    order_email: ['Verified · order email', 'v-ok'],
    hmac: ['Verified · signed in', 'v-ok'],
    email_channel: ['Verified · email channel', 'v-ok']
  };
  const EMPTY_LIST = {
    queue: 'Nobody is waiting. Nice.',
    mine: 'Nothing assigned to you.',
    open: 'No open conversations.'
  };
  const ICONS = {
    lock: 'M7 10V7a5 5 0 0 1 10 0v3h1a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2v-8a2 2 0 0 1 2-2h1zm2 0h6V7a3 3 0 0 0-6 0v3z',
    web: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm6.9 6h-3a15.7 15.7 0 0 0-1.3-3.9A8 8 0 0 1 18.9 8zM12 4c.8 1.2 1.5 2.5 1.9 4h-3.8c.4-1.5 1.1-2.8 1.9-4zM4.3 14a8.2 8.2 0 0 1 0-4h3.4a16.5 16.5 0 0 0 0 4H4.3zm.8 2h3a15.7 15.7 0 0 0 1.3 3.9A8 8 0 0 1 5.1 16zm3-8h-3a8 8 0 0 1 4.3-3.9A15.7 15.7 0 0 0 8.1 8zM12 20c-.8-1.2-1.5-2.5-1.9-4h3.8c-.4 1.5-1.1 2.8-1.9 4zm2.3-6H9.7a14.7 14.7 0 0 1 0-4h4.6a14.7 14.7 0 0 1 0 4zm.3 5.9c.6-1.2 1-2.5 1.3-3.9h3a8 8 0 0 1-4.3 3.9zm1.7-5.9a16.5 16.5 0 0 0 0-4h3.4a8.2 8.2 0 0 1 0 4h-3.4z',
    email: 'M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm0 4.2V18h16V8.2l-8 5-8-5zM4.4 6l7.6 4.8L19.6 6H4.4z',
    discord: 'M19.3 5.3A16.6 16.6 0 0 0 15.2 4l-.5 1a15.4 15.4 0 0 0-5.4 0l-.5-1a16.6 16.6 0 0 0-4.1 1.3C2.1 9.2 1.4 13 1.8 16.7a16.7 16.7 0 0 0 5 2.5l1.1-1.7-1.7-.8.4-.3a11.9 11.9 0 0 0 10.8 0l.4.3-1.7.8 1.1 1.7a16.6 16.6 0 0 0 5-2.5c.4-4.3-.7-8-2.9-11.4zM8.5 14.5c-1 0-1.8-.9-1.8-2s.8-2 1.8-2 1.8.9 1.8 2-.8 2-1.8 2zm7 0c-1 0-1.8-.9-1.8-2s.8-2 1.8-2 1.8.9 1.8 2-.8 2-1.8 2z'
  };

  // ----------------------------------------------------------------- helpers
  function $(id) {
    return d.getElementById(id);
  }
  function h(tag, attrs, text) {
    const n = d.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) n.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
      });
    }
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  function sv(tag, attrs, text) {
    const n = d.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function icon(name, cls) {
    const s = sv('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false', class: 'ic ' + (cls || '') });
    s.appendChild(sv('path', { d: ICONS[name] || '' }));
    return s;
  }
  function clear(n) {
    while (n.firstChild) n.removeChild(n.firstChild);
  }
  function pad(n) {
    return String(n).padStart(2, '0');
  }
  function enc(s) {
    return encodeURIComponent(String(s));
  }
  function str(v) {
    return v === null || v === undefined ? '' : String(v);
  }
  function ms(iso) {
    const t = iso ? Date.parse(iso) : NaN;
    return isNaN(t) ? 0 : t;
  }
  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }
  function shortDate(dt) {
    const o = { day: 'numeric', month: 'short' };
    if (dt.getFullYear() !== new Date().getFullYear()) o.year = 'numeric';
    try {
      return dt.toLocaleDateString(undefined, o);
    } catch (e) {
      return dt.toDateString();
    }
  }
  // HH:MM today, otherwise a short date.
  function fmtTime(iso) {
    const t = ms(iso);
    if (!t) return '';
    const dt = new Date(t);
    return sameDay(dt, new Date()) ? pad(dt.getHours()) + ':' + pad(dt.getMinutes()) : shortDate(dt);
  }
  function fmtDate(iso) {
    const t = ms(iso);
    return t ? shortDate(new Date(t)) : '—';
  }
  function fmtFull(iso) {
    const t = ms(iso);
    return t ? new Date(t).toLocaleString() : '';
  }
  function fmtAgo(iso) {
    const t = ms(iso);
    if (!t) return '';
    const s = Math.max(0, (Date.now() - t) / 1000);
    if (s < 45) return 'now';
    if (s < 3600) return Math.round(s / 60) + 'm';
    if (s < 86400) return Math.floor(s / 3600) + 'h';
    if (s < 7 * 86400) return Math.floor(s / 86400) + 'd';
    return shortDate(new Date(t));
  }
  function fmtWait(iso) {
    const t = ms(iso);
    if (!t) return '';
    const m = Math.max(0, Math.floor((Date.now() - t) / 60000));
    if (m < 1) return 'under a minute';
    if (m < 60) return m + ' min';
    if (m < 1440) return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
    return Math.floor(m / 1440) + ' d ' + Math.floor((m % 1440) / 60) + ' h';
  }
  function fmtDuration(s) {
    if (s === null || s === undefined || isNaN(s)) return '—';
    s = Math.round(s);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + pad(s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + pad(Math.floor((s % 3600) / 60)) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }
  function pct(r) {
    return r === null || r === undefined || isNaN(r) ? '—' : Math.round(r * 100) + '%';
  }
  function timeEl(iso, text, cls) {
    const t = h('time', { class: cls || null, datetime: iso || null, title: fmtFull(iso) || null }, text);
    return t;
  }
  function initials(name) {
    const parts = str(name).trim().split(/\s+/).filter(Boolean);
    if (!parts.length) return '?';
    return (parts[0].charAt(0) + (parts.length > 1 ? parts[parts.length - 1].charAt(0) : '')).toUpperCase();
  }
  function safeImg(url) {
    try {
      const u = new URL(url, w.location.href);
      if (u.protocol === 'https:' || (u.protocol === 'http:' && u.host === w.location.host)) return u.href;
    } catch (e) { /* not a URL */ }
    return null;
  }
  function setAvatar(el, name, url) {
    clear(el);
    const src = url ? safeImg(url) : null;
    el.textContent = initials(name);
    if (src) {
      const img = h('img', { src: src, alt: '', referrerpolicy: 'no-referrer', loading: 'lazy' });
      img.addEventListener('error', function () { if (img.parentNode) img.parentNode.removeChild(img); });
      el.appendChild(img);
    }
  }
  function contactName(s) {
    return (s && s.contact && s.contact.name) || 'Visitor';
  }
  function badge(text, cls) {
    return h('span', { class: 'badge ' + (cls || '') }, text);
  }
  function channelBadge(ch) {
    const b = h('span', { class: 'badge ch ch-' + (CHANNELS[ch] ? ch : 'other') });
    if (ICONS[ch]) b.appendChild(icon(ch));
    b.appendChild(d.createTextNode(CHANNELS[ch] || str(ch) || '?'));
    return b;
  }
  function statusBadge(st) {
    return badge(STATUS[st] || str(st), 'st st-' + (STATUS[st] ? st : 'other'));
  }

  // ----------------------------------------------------------------- toasts
  let leaving = false;
  function toast(text, kind) {
    if (leaving || !text) return;
    const box = $('toasts');
    const t = h('div', { class: 'toast' + (kind ? ' toast-' + kind : ''), role: kind === 'error' ? 'alert' : 'status' });
    t.appendChild(h('span', null, text));
    const x = h('button', { type: 'button', class: 'toast-x', 'aria-label': 'Dismiss' }, '×');
    x.addEventListener('click', function () { t.remove(); });
    t.appendChild(x);
    box.appendChild(t);
    while (box.children.length > 4) box.removeChild(box.firstChild);
    setTimeout(function () { t.remove(); }, TOAST_FOR);
  }
  function showErr(e) {
    toast((e && e.message) || 'Something went wrong', 'error');
  }

  // -------------------------------------------------------------------- API
  let csrf = '';
  function toLogin() {
    if (leaving) return;
    leaving = true;
    stopSocket();
    w.location.replace(LOGIN_URL);
  }
  function apiError(status, code, message) {
    const e = new Error(message);
    e.status = status;
    e.code = code;
    return e;
  }
  function fallbackMessage(status) {
    if (status === 403) return 'You are not allowed to do that.';
    if (status === 404) return 'Not found — it may have been removed.';
    if (status === 409) return 'Someone else changed this first.';
    if (status === 429) return 'Too many requests, slow down a little.';
    if (status >= 500) return 'The server had a problem (' + status + '). Try again.';
    return 'Request failed (' + status + ').';
  }
  function api(method, path, body, retried) {
    const opts = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/json';
      opts.headers['X-CSRF-Token'] = csrf;
      opts.body = JSON.stringify(body || {});
    }
    return fetch(path, opts).then(function (res) {
      return res.text().then(function (txt) {
        let data = null;
        if (txt) {
          try {
            data = JSON.parse(txt);
          } catch (e) { /* not JSON */ }
        }
        if (res.ok) return data;
        const er = (data && data.error) || {};
        if (res.status === 401 && path !== '/api/me') toLogin();
        if (res.status === 403 && /csrf/i.test(str(er.code) + ' ' + str(er.message)) && !retried) {
          return loadMe().then(function () { return api(method, path, body, true); });
        }
        throw apiError(res.status, er.code || 'http_' + res.status, er.message || fallbackMessage(res.status));
      });
    }, function () {
      throw apiError(0, 'network', 'Cannot reach the server. Check your connection.');
    });
  }
  function loadMe() {
    return api('GET', '/api/me').then(function (r) {
      me = r.agent;
      csrf = r.csrf_token || csrf;
      return r;
    });
  }

  // ------------------------------------------------------------------ state
  let me = null;
  const convs = new Map(); // id -> {s: Summary, stamp}
  let stamp = 0;
  let listsLoaded = false;
  let tab = 'queue';
  let cur = null; // open conversation: {id, token, summary, msgs, keys, loaded, buffer, handoff}
  let openToken = 0;
  let view = 'inbox';
  let noteMode = false;
  let sending = false;
  const drafts = new Map(); // conversation id -> {text, note}
  let canned = null;
  let cannedLoading = null;
  let cannedItems = [];
  let cannedIdx = 0;
  const typingIn = new Map(); // conversation id -> {name, author, until}
  let lastTypingSent = 0;
  let readTimer = 0;
  let listRaf = 0;
  const itemEls = new Map(); // conversation id -> {el, sig}
  let el = {};

  // ------------------------------------------------------------------ lists
  function belongs(s, which) {
    if (which === 'queue') return s.status === 'queued';
    if (s.status === 'resolved') return false;
    if (which === 'mine') return !!(s.assignee && me && s.assignee.id === me.id);
    return true;
  }
  function byQueue(a, b) {
    return (b.priority || 0) - (a.priority || 0) || ms(a.created_at) - ms(b.created_at) || (a.id < b.id ? -1 : 1);
  }
  function byRecent(a, b) {
    return ms(b.updated_at) - ms(a.updated_at) || (a.id < b.id ? -1 : 1);
  }
  function listOf(which) {
    const arr = [];
    convs.forEach(function (e) { if (belongs(e.s, which)) arr.push(e.s); });
    arr.sort(which === 'queue' ? byQueue : byRecent);
    return arr;
  }
  // Newest version wins (by updated_at; a tie takes the incoming one).
  function upsert(s) {
    if (!s || !s.id) return false;
    const old = convs.get(s.id);
    if (old && ms(s.updated_at) < ms(old.s.updated_at)) return false;
    convs.set(s.id, { s: s, stamp: ++stamp });
    if (cur && cur.id === s.id) {
      cur.summary = s;
      renderHeader();
      maybeRead();
    }
    scheduleList();
    return true;
  }
  function refreshLists() {
    const s0 = stamp;
    const qs = ['queued', 'open&assignee=me', 'open'];
    return Promise.all(qs.map(function (q) { return api('GET', '/api/conversations?status=' + q); }))
      .then(function (rs) {
        const seen = new Set();
        rs.forEach(function (r) {
          ((r && r.conversations) || []).forEach(function (s) {
            if (!s || !s.id) return;
            seen.add(s.id);
            upsert(s);
          });
        });
        // Gone while we were not looking (and not touched live since the request).
        convs.forEach(function (e, id) {
          if (!seen.has(id) && e.stamp <= s0) convs.delete(id);
        });
        listsLoaded = true;
        scheduleList();
        if (cur && cur.loaded && !convs.has(cur.id)) refetchCurrent();
      })
      .catch(function (e) {
        if (e.status !== 401) showErr(e);
      });
  }
  function scheduleList() {
    if (listRaf) return;
    listRaf = w.requestAnimationFrame(function () {
      listRaf = 0;
      renderList();
    });
  }
  function previewText(s) {
    const t = typingIn.get(s.id);
    if (t && t.until > Date.now()) return { text: (t.author === 'customer' ? contactName(s) : t.name || 'An agent') + ' is typing…', typing: true };
    const lm = s.last_message;
    if (!lm || !lm.text) return { text: 'No messages yet', typing: false };
    const a = str(lm.author);
    let who = '';
    if (a === 'bot') who = 'Bot: ';
    else if (a === 'agent') who = 'Agent: ';
    else if (a === 'system') who = '';
    else if (a && a !== 'customer') who = (me && a === me.name ? 'You' : a) + ': ';
    return { text: who + str(lm.text).replace(/\s+/g, ' '), typing: false };
  }
  function fillItem(node, s, pos) {
    clear(node);
    const top = h('span', { class: 'ci-top' });
    top.appendChild(h('span', { class: 'ci-name' }, contactName(s)));
    top.appendChild(channelBadge(s.channel));
    const when = (s.last_message && s.last_message.created_at) || s.updated_at;
    top.appendChild(timeEl(when, fmtAgo(when), 'ci-time'));
    node.appendChild(top);
    if (s.summary) node.appendChild(h('span', { class: 'ci-summary', title: s.summary }, s.summary));
    const pv = previewText(s);
    node.appendChild(h('span', { class: 'ci-preview' + (pv.typing ? ' is-typing' : '') }, pv.text));
    const meta = h('span', { class: 'ci-meta' });
    meta.appendChild(statusBadge(s.status));
    if ((s.priority || 0) > 0) meta.appendChild(badge('P' + s.priority, 'prio'));
    if (s.status === 'queued') {
      const wait = fmtWait(s.queued_at || s.created_at);
      meta.appendChild(h('span', { class: 'ci-wait' }, (pos ? '#' + pos + ' · ' : '') + 'waiting ' + wait));
    } else if (s.assignee) {
      meta.appendChild(h('span', { class: 'ci-assignee' }, me && s.assignee.id === me.id ? 'You' : str(s.assignee.name)));
    }
    if (s.team) meta.appendChild(h('span', { class: 'ci-team' }, s.team));
    if ((s.unread || 0) > 0) {
      meta.appendChild(h('span', { class: 'unread', 'aria-label': s.unread + ' unread' }, s.unread > 99 ? '99+' : String(s.unread)));
    }
    node.appendChild(meta);
  }
  function renderList() {
    const lists = { queue: listOf('queue'), mine: listOf('mine'), open: listOf('open') };
    TABS.forEach(function (t) {
      el.tabs[t].querySelector('.tab-count').textContent = '(' + lists[t].length + ')';
    });
    const qpos = new Map();
    lists.queue.forEach(function (s, i) { qpos.set(s.id, i + 1); });
    const arr = lists[tab];
    const list = el.list;
    const want = new Set(arr.map(function (s) { return s.id; }));
    Array.prototype.slice.call(list.children).forEach(function (c) {
      if (!c.classList.contains('conv-item') || !want.has(c.getAttribute('data-id'))) list.removeChild(c);
    });
    itemEls.forEach(function (v, id) { if (!want.has(id)) itemEls.delete(id); });
    const now = Date.now();
    arr.forEach(function (s, i) {
      const pos = qpos.get(s.id) || null;
      const t = typingIn.get(s.id);
      const active = !!(cur && cur.id === s.id);
      const sig = JSON.stringify([s, pos, t && t.until > now ? t.name : '', active, Math.floor(now / 30000)]);
      let c = itemEls.get(s.id);
      if (!c) {
        c = { el: h('button', { type: 'button', class: 'conv-item', 'data-id': s.id }), sig: '' };
        itemEls.set(s.id, c);
      }
      if (c.sig !== sig) {
        c.sig = sig;
        fillItem(c.el, s, pos);
        c.el.setAttribute('data-status', str(s.status));
        c.el.classList.toggle('is-active', active);
        c.el.classList.toggle('has-unread', (s.unread || 0) > 0);
        if (active) c.el.setAttribute('aria-current', 'true');
        else c.el.removeAttribute('aria-current');
      }
      if (list.children[i] !== c.el) list.insertBefore(c.el, list.children[i] || null);
    });
    if (!arr.length) list.appendChild(h('p', { class: 'list-empty' }, listsLoaded ? EMPTY_LIST[tab] : 'Loading…'));
    updateTitle(lists);
  }
  function updateTitle(lists) {
    let unread = 0;
    lists.mine.forEach(function (s) { unread += s.unread || 0; });
    const n = lists.queue.length + unread;
    d.title = (n ? '(' + n + ') ' : '') + 'Kituo console';
  }
  function selectTab(t, focus) {
    tab = t;
    TABS.forEach(function (x) {
      const b = el.tabs[x];
      b.setAttribute('aria-selected', x === t ? 'true' : 'false');
      b.tabIndex = x === t ? 0 : -1;
    });
    el.list.setAttribute('aria-labelledby', 'tab-' + t);
    el.list.scrollTop = 0;
    if (focus) el.tabs[t].focus();
    renderList();
  }

  // --------------------------------------------------------- conversation
  function goConversation(id) {
    const target = '#/c/' + enc(id);
    if (w.location.hash === target) {
      if (cur && cur.id === id) el.input.focus();
      else route();
    } else {
      w.location.hash = target;
    }
  }
  function openConversation(id) {
    saveDraft();
    closeTransfer(false);
    hideCanned();
    const known = convs.get(id);
    cur = { id: id, token: ++openToken, summary: known ? known.s : null, msgs: [], keys: new Set(), loaded: false, buffer: [], handoff: null };
    const token = cur.token;
    el.empty.hidden = true;
    el.main.hidden = false;
    clear(el.messages);
    el.messages.appendChild(h('p', { class: 'msgs-info' }, 'Loading conversation…'));
    el.handoff.hidden = true;
    el.newBelow.hidden = true;
    renderHeader();
    renderTyping();
    restoreDraft();
    scheduleList();
    if (known) loadContact(known.s.contact);
    else resetContact('Loading…');
    api('POST', '/api/conversations/' + enc(id) + '/read').then(function (r) {
      if (r && r.conversation) upsert(r.conversation);
    }).catch(function () { /* reading is best effort */ });
    api('GET', '/api/conversations/' + enc(id)).then(function (r) {
      if (!cur || cur.token !== token) return;
      const first = !known;
      applyConversation(r);
      if (first || !known.s.contact || !r.conversation.contact || r.conversation.contact.id !== known.s.contact.id) loadContact(r.conversation.contact);
      scrollToEnd();
    }).catch(function (e) {
      if (!cur || cur.token !== token) return;
      clear(el.messages);
      el.messages.appendChild(h('p', { class: 'msgs-info msgs-error' }, e.message));
      if (e.status === 404) resetContact('');
    });
  }
  function applyConversation(r) {
    if (r.conversation) {
      upsert(r.conversation);
      cur.summary = convs.has(cur.id) ? convs.get(cur.id).s : r.conversation;
    }
    cur.handoff = r.handoff || null;
    const live = cur.buffer.concat(cur.msgs);
    cur.msgs = [];
    cur.keys = new Set();
    (r.messages || []).forEach(function (m) {
      if (!m || cur.keys.has(keyOf(m))) return;
      cur.keys.add(keyOf(m));
      cur.msgs.push(m);
    });
    live.forEach(addMessage);
    cur.buffer = [];
    cur.loaded = true;
    renderHeader();
    renderHandoff();
    renderMessages();
    sendResume();
  }
  function refetchCurrent() {
    const c = cur;
    api('GET', '/api/conversations/' + enc(c.id)).then(function (r) {
      if (cur !== c) return;
      const stick = nearBottom();
      applyConversation(r);
      if (stick) scrollToEnd();
    }).catch(function () { /* shown on next action */ });
  }
  function isMine(s) {
    return !!(s && s.status === 'assigned' && s.assignee && me && s.assignee.id === me.id);
  }
  function renderHeader() {
    if (!cur) return;
    const s = cur.summary;
    el.title.textContent = s ? contactName(s) : 'Conversation';
    setAvatar(el.avatar, s ? contactName(s) : '', s && s.contact ? s.contact.avatar_url : null);
    clear(el.meta);
    if (s) {
      el.meta.appendChild(channelBadge(s.channel));
      el.meta.appendChild(statusBadge(s.status));
      if ((s.priority || 0) > 0) el.meta.appendChild(badge('Priority ' + s.priority, 'prio'));
      let who;
      if (s.assignee) who = 'Assigned to ' + (me && s.assignee.id === me.id ? 'you' : str(s.assignee.name));
      else if (s.status === 'queued') who = 'Unassigned' + (s.team ? ' · team ' + s.team : '') + ' · waiting ' + fmtWait(s.queued_at || s.created_at);
      else if (s.status === 'bot') who = 'The bot is handling it';
      else who = 'Unassigned';
      el.meta.appendChild(h('span', { class: 'meta-who' }, who));
      if (s.team && s.assignee) el.meta.appendChild(h('span', { class: 'meta-team' }, 'team ' + s.team));
      el.meta.appendChild(h('span', { class: 'meta-started' }, 'started ')).appendChild(timeEl(s.created_at, fmtTime(s.created_at)));
    }
    const st = s ? s.status : '';
    const mine = isMine(s);
    el.btn.claim.hidden = !(st === 'queued' || st === 'bot');
    el.btn.transfer.hidden = !mine;
    el.btn.unassign.hidden = !mine;
    el.btn.resolve.hidden = !mine;
    el.btn.handback.hidden = !mine;
    el.btn.reopen.hidden = st !== 'resolved';
    if (!mine) closeTransfer(false);
    updateHint();
  }
  function renderHandoff() {
    const ho = cur && cur.handoff;
    clear(el.handoff);
    if (!ho) {
      el.handoff.hidden = true;
      return;
    }
    el.handoff.hidden = false;
    el.handoff.appendChild(h('span', { class: 'ho-label' }, 'Bot handoff'));
    if (ho.summary) el.handoff.appendChild(h('span', { class: 'ho-summary' }, ho.summary));
    if (ho.intent) el.handoff.appendChild(badge(ho.intent, 'ho-intent'));
    const slots = ho.slots && typeof ho.slots === 'object' ? ho.slots : {};
    Object.keys(slots).forEach(function (k) {
      const v = slots[k];
      if (v === null || v === undefined || v === '') return;
      const chip = h('span', { class: 'ho-slot' });
      chip.appendChild(h('span', { class: 'ho-k' }, k.replace(/_/g, ' ')));
      chip.appendChild(h('span', { class: 'ho-v' }, typeof v === 'object' ? JSON.stringify(v) : String(v)));
      el.handoff.appendChild(chip);
    });
    (ho.verified_emails || []).forEach(function (m) {
      el.handoff.appendChild(badge('✓ ' + m, 'v-ok'));
    });
  }

  // ------------------------------------------------------------- messages
  function keyOf(m) {
    return m.conversation_id + ':' + m.seq;
  }
  function maxSeq() {
    let n = 0;
    if (cur) cur.msgs.forEach(function (m) { if (m.conversation_id === cur.id && m.seq > n) n = m.seq; });
    return n;
  }
  // Inserts by seq among the open conversation's messages; returns 'append',
  // 'insert', or null when it was already there.
  function addMessage(m) {
    if (!m || typeof m.seq !== 'number') return null;
    const k = keyOf(m);
    if (cur.keys.has(k)) return null;
    cur.keys.add(k);
    const arr = cur.msgs;
    let idx = arr.length;
    if (m.conversation_id === cur.id) {
      for (let i = arr.length - 1; i >= 0; i--) {
        const x = arr[i];
        if (x.conversation_id !== cur.id) continue;
        if (x.seq < m.seq) {
          idx = i + 1;
          break;
        }
        idx = i;
      }
    }
    arr.splice(idx, 0, m);
    return idx === arr.length - 1 ? 'append' : 'insert';
  }
  function divider(m, first) {
    const ch = CHANNELS[m.channel] || str(m.channel) || 'another channel';
    let text;
    if (m.conversation_id === cur.id) {
      if (first) return null;
      text = 'This conversation · ' + ch;
    } else {
      const own = cur.msgs.find(function (x) { return x.conversation_id === cur.id; });
      const earlier = !own || ms(m.created_at) <= ms(own.created_at);
      text = (earlier ? 'Earlier conversation on ' : 'Other conversation on ') + ch + ' · ' + fmtDate(m.created_at);
    }
    const div = h('div', { class: 'msg-divider', role: 'separator', 'data-conversation': m.conversation_id });
    div.appendChild(h('span', null, text));
    return div;
  }
  function buildMsg(m) {
    const author = AUTHORS[m.author] ? m.author : 'system';
    const node = h('div', {
      class: 'msg' + (m.private ? ' note' : '') + (m.conversation_id !== cur.id ? ' is-other' : ''),
      'data-author': author,
      'data-seq': String(m.seq),
      'data-conversation': m.conversation_id
    });
    const head = h('div', { class: 'msg-head' });
    const name = m.author_name || AUTHORS[author];
    head.appendChild(h('span', { class: 'msg-author' }, name));
    if (cur.summary && m.channel && m.channel !== cur.summary.channel) head.appendChild(channelBadge(m.channel));
    head.appendChild(timeEl(m.created_at, fmtTime(m.created_at), 'msg-time'));
    node.appendChild(head);
    const bubble = h('div', { class: 'msg-bubble' });
    if (m.private) {
      const lab = h('span', { class: 'note-label' });
      lab.appendChild(icon('lock'));
      lab.appendChild(d.createTextNode('Private note'));
      bubble.appendChild(lab);
    }
    bubble.appendChild(h('div', { class: 'msg-text' }, str(m.text)));
    node.appendChild(bubble);
    return node;
  }
  function renderMessages() {
    clear(el.messages);
    if (!cur.msgs.length) {
      el.messages.appendChild(h('p', { class: 'msgs-info' }, 'No messages yet.'));
      return;
    }
    let prev = null;
    cur.msgs.forEach(function (m, i) {
      if (m.conversation_id !== prev) {
        const dv = divider(m, i === 0);
        if (dv) el.messages.appendChild(dv);
        prev = m.conversation_id;
      }
      el.messages.appendChild(buildMsg(m));
    });
  }
  function appendMsgNode(m) {
    const info = el.messages.querySelector('.msgs-info');
    if (info) info.remove();
    const n = cur.msgs.length;
    const prev = n > 1 ? cur.msgs[n - 2] : null;
    if (!prev || prev.conversation_id !== m.conversation_id) {
      const dv = divider(m, !prev);
      if (dv) el.messages.appendChild(dv);
    }
    el.messages.appendChild(buildMsg(m));
  }
  function onLiveMessage(m, own) {
    if (!cur || !m || m.conversation_id !== cur.id) return;
    if (!cur.loaded) {
      cur.buffer.push(m);
      return;
    }
    const stick = own || nearBottom();
    const where = addMessage(m);
    if (!where) return;
    if (where === 'append') appendMsgNode(m);
    else renderMessages();
    const t = typingIn.get(m.conversation_id);
    if (t && (m.author === t.author)) {
      typingIn.delete(m.conversation_id);
      renderTyping();
      scheduleList();
    }
    if (stick) scrollToEnd();
    else el.newBelow.hidden = false;
  }
  function nearBottom() {
    const m = el.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }
  function scrollToEnd() {
    el.messages.scrollTop = el.messages.scrollHeight;
    el.newBelow.hidden = true;
  }
  function maybeRead() {
    if (!cur || !cur.summary || !(cur.summary.unread > 0)) return;
    if (d.visibilityState !== 'visible' || view !== 'inbox') return;
    if (readTimer) return;
    const id = cur.id;
    readTimer = setTimeout(function () {
      readTimer = 0;
      if (!cur || cur.id !== id) return;
      api('POST', '/api/conversations/' + enc(id) + '/read').then(function (r) {
        if (r && r.conversation) upsert(r.conversation);
      }).catch(function () { /* best effort */ });
    }, 800);
  }

  // ------------------------------------------------------------- actions
  function act(name, body, btn) {
    if (!cur) return Promise.resolve();
    const id = cur.id;
    if (btn) btn.disabled = true;
    return api('POST', '/api/conversations/' + enc(id) + '/' + name, body)
      .then(function (r) {
        if (r && r.conversation) upsert(r.conversation);
        return r;
      })
      .catch(function (e) {
        if (e.code === 'already_assigned') {
          toast(e.message || 'Another agent already took this conversation.', 'error');
          refetchCurrent();
        } else {
          showErr(e);
        }
      })
      .then(function (r) {
        if (btn) btn.disabled = false;
        return r;
      });
  }
  function onClaim() {
    act('claim', null, el.btn.claim).then(function (r) {
      if (r && r.conversation) el.input.focus();
    });
  }
  function onResolve() {
    act('resolve', null, el.btn.resolve).then(function (r) {
      if (r) toast('Resolved. ' + contactName(r.conversation) + ' is off your list.', 'ok');
    });
  }

  // ------------------------------------------------------------ transfer
  function openTransfer() {
    const menu = el.menu;
    menu.hidden = false;
    el.btn.transfer.setAttribute('aria-expanded', 'true');
    clear(menu);
    menu.appendChild(h('p', { class: 'menu-info' }, 'Loading…'));
    Promise.all([api('GET', '/api/agents'), api('GET', '/api/teams')]).then(function (rs) {
      if (menu.hidden) return;
      renderTransfer((rs[0] && rs[0].agents) || [], (rs[1] && rs[1].teams) || []);
    }).catch(function (e) {
      clear(menu);
      menu.appendChild(h('p', { class: 'menu-info' }, e.message));
    });
  }
  function renderTransfer(agents, teams) {
    const menu = el.menu;
    clear(menu);
    const others = agents.filter(function (a) { return !me || a.id !== me.id; });
    const order = { online: 0, away: 1, offline: 2 };
    others.sort(function (a, b) { return (order[a.presence] || 0) - (order[b.presence] || 0) || str(a.name).localeCompare(str(b.name)); });
    menu.appendChild(h('p', { class: 'menu-label', role: 'presentation' }, 'Agents'));
    if (!others.length) menu.appendChild(h('p', { class: 'menu-info' }, 'No other agents.'));
    others.forEach(function (a) {
      const b = h('button', { type: 'button', role: 'menuitem', tabindex: '-1', class: 'menu-item p-' + str(a.presence), 'data-agent-id': a.id });
      b.appendChild(h('span', { class: 'presence-dot p-' + str(a.presence), title: str(a.presence) }));
      b.appendChild(h('span', { class: 'mi-name' }, str(a.name)));
      const full = typeof a.capacity === 'number' && typeof a.load === 'number' && a.load >= a.capacity;
      b.appendChild(h('span', { class: 'mi-load' + (full ? ' is-full' : '') }, (a.load || 0) + '/' + (a.capacity || 0)));
      if (a.teams && a.teams.length) b.appendChild(h('span', { class: 'mi-teams' }, a.teams.join(', ')));
      b.setAttribute('aria-label', str(a.name) + ', ' + str(a.presence) + ', ' + (a.load || 0) + ' of ' + (a.capacity || 0) + ' conversations');
      b.addEventListener('click', function () { transfer({ agent_id: a.id }, str(a.name)); });
      menu.appendChild(b);
    });
    menu.appendChild(h('p', { class: 'menu-label', role: 'presentation' }, 'Teams'));
    if (!teams.length) menu.appendChild(h('p', { class: 'menu-info' }, 'No teams.'));
    teams.forEach(function (t) {
      const b = h('button', { type: 'button', role: 'menuitem', tabindex: '-1', class: 'menu-item' });
      b.appendChild(h('span', { class: 'mi-name' }, str(t.name)));
      b.appendChild(h('span', { class: 'mi-load' }, (t.members || 0) + ' member' + (t.members === 1 ? '' : 's')));
      b.addEventListener('click', function () { transfer({ team: t.name }, 'team ' + str(t.name)); });
      menu.appendChild(b);
    });
    const first = menu.querySelector('.menu-item');
    if (first) first.focus();
  }
  function transfer(body, label) {
    closeTransfer(true);
    act('assign', body, el.btn.transfer).then(function (r) {
      if (r) toast('Transferred to ' + label + '.', 'ok');
    });
  }
  function closeTransfer(focus) {
    if (el.menu.hidden) return;
    el.menu.hidden = true;
    el.btn.transfer.setAttribute('aria-expanded', 'false');
    if (focus && !el.btn.transfer.hidden) el.btn.transfer.focus();
  }
  function onMenuKey(e) {
    const items = Array.prototype.slice.call(el.menu.querySelectorAll('.menu-item'));
    const i = items.indexOf(d.activeElement);
    let next = -1;
    if (e.key === 'ArrowDown') next = i < 0 ? 0 : (i + 1) % items.length;
    else if (e.key === 'ArrowUp') next = i <= 0 ? items.length - 1 : i - 1;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = items.length - 1;
    else if (e.key === 'Escape') {
      e.preventDefault();
      closeTransfer(true);
      return;
    } else if (e.key === 'Tab') {
      closeTransfer(false);
      return;
    }
    if (next >= 0 && items[next]) {
      e.preventDefault();
      items[next].focus();
    }
  }

  // ------------------------------------------------------------ composer
  function saveDraft() {
    if (!cur) return;
    const v = el.input.value;
    if (v || noteMode) drafts.set(cur.id, { text: v, note: noteMode });
    else drafts.delete(cur.id);
  }
  function restoreDraft() {
    const dr = cur ? drafts.get(cur.id) : null;
    el.input.value = dr ? dr.text : '';
    setNoteMode(dr ? dr.note : false);
    autosize();
  }
  function setNoteMode(on) {
    noteMode = !!on;
    el.noteToggle.setAttribute('aria-checked', noteMode ? 'true' : 'false');
    el.composer.classList.toggle('is-note', noteMode);
    el.input.placeholder = noteMode ? 'Private note — only agents see this' : 'Reply to the customer…';
    el.replyLabel.textContent = noteMode ? 'Private note (not sent to the customer)' : 'Reply to the customer';
    el.send.textContent = noteMode ? 'Add note' : 'Send';
    updateHint();
  }
  function updateHint() {
    const s = cur && cur.summary;
    let hint = '';
    if (s && !noteMode) {
      if (s.status === 'queued' || s.status === 'bot') hint = 'Claim it to take over from the bot.';
      else if (s.status === 'resolved') hint = 'This conversation is resolved.';
      else if (!isMine(s) && s.assignee) hint = 'Assigned to ' + str(s.assignee.name) + ' — a private note may be better.';
    } else if (noteMode) {
      hint = 'Internal note, never sent to the customer.';
    }
    el.hint.textContent = hint;
  }
  function autosize() {
    const t = el.input;
    t.style.height = 'auto';
    t.style.height = Math.min(220, Math.max(44, t.scrollHeight + 2)) + 'px';
  }
  function submitReply() {
    if (!cur || sending) return;
    const text = el.input.value.trim();
    if (!text) return;
    if (text.length > MAX_LEN) {
      toast('That is over ' + MAX_LEN + ' characters; please shorten it.', 'error');
      return;
    }
    const id = cur.id;
    const priv = noteMode;
    sending = true;
    el.send.disabled = true;
    api('POST', '/api/conversations/' + enc(id) + '/messages', { text: text, private: priv })
      .then(function (r) {
        if (cur && cur.id === id) {
          if (el.input.value.trim() === text) {
            el.input.value = '';
            autosize();
          }
          if (r && r.message) onLiveMessage(r.message, true);
        }
        const dr = drafts.get(id);
        if (dr && dr.text.trim() === text) drafts.delete(id);
      })
      .catch(showErr)
      .then(function () {
        sending = false;
        el.send.disabled = false;
      });
  }
  function onInputKey(e) {
    if (!el.canned.hidden && cannedItems.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        moveCanned(e.key === 'ArrowDown' ? 1 : -1);
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        pickCanned(cannedIdx);
        return;
      }
    }
    if (e.key === 'Escape' && !el.canned.hidden) {
      e.preventDefault();
      hideCanned();
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitReply();
    }
  }
  function onInput() {
    autosize();
    updateCanned();
    const v = el.input.value;
    if (!noteMode && cur && v.trim() && v.charAt(0) !== '/') {
      const now = Date.now();
      if (now - lastTypingSent >= TYPING_SEND_EVERY && send({ type: 'typing', conversation_id: cur.id })) lastTypingSent = now;
    }
  }

  // ------------------------------------------------------ canned responses
  function loadCanned() {
    if (!cannedLoading) {
      cannedLoading = api('GET', '/api/canned_responses').then(function (r) {
        canned = ((r && r.canned_responses) || []).filter(function (c) { return c && c.shortcut && typeof c.text === 'string'; });
      }).catch(function (e) {
        cannedLoading = null;
        canned = null;
        throw e;
      });
    }
    return cannedLoading;
  }
  function cannedQuery() {
    const m = /^\/(\S*)$/.exec(el.input.value);
    return m ? m[1].toLowerCase() : null;
  }
  function updateCanned() {
    const q = cannedQuery();
    if (q === null) {
      hideCanned();
      return;
    }
    if (!canned) {
      loadCanned().then(updateCanned, showErr);
      return;
    }
    const starts = [];
    const rest = [];
    canned.forEach(function (c) {
      const sc = c.shortcut.toLowerCase();
      if (sc.startsWith(q)) starts.push(c);
      else if (q && (sc.indexOf(q) >= 0 || c.text.toLowerCase().indexOf(q) >= 0)) rest.push(c);
    });
    cannedItems = starts.sort(function (a, b) { return a.shortcut.length - b.shortcut.length; }).concat(rest).slice(0, 8);
    cannedIdx = 0;
    const box = el.canned;
    clear(box);
    box.hidden = false;
    if (!cannedItems.length) {
      box.appendChild(h('p', { class: 'canned-none' }, canned.length ? 'No canned response matches “/' + q + '”.' : 'No canned responses yet.'));
      el.input.removeAttribute('aria-activedescendant');
      return;
    }
    cannedItems.forEach(function (c, i) {
      const o = h('div', { class: 'canned-opt', role: 'option', id: 'canned-opt-' + i, 'aria-selected': i === 0 ? 'true' : 'false' });
      o.appendChild(h('span', { class: 'canned-sc' }, '/' + c.shortcut));
      o.appendChild(h('span', { class: 'canned-text' }, c.text));
      o.addEventListener('mousedown', function (e) { e.preventDefault(); });
      o.addEventListener('click', function () { pickCanned(i); });
      box.appendChild(o);
    });
    el.input.setAttribute('aria-activedescendant', 'canned-opt-0');
  }
  function moveCanned(dir) {
    const n = cannedItems.length;
    cannedIdx = (cannedIdx + dir + n) % n;
    Array.prototype.forEach.call(el.canned.querySelectorAll('.canned-opt'), function (o, i) {
      o.setAttribute('aria-selected', i === cannedIdx ? 'true' : 'false');
      if (i === cannedIdx) o.scrollIntoView({ block: 'nearest' });
    });
    el.input.setAttribute('aria-activedescendant', 'canned-opt-' + cannedIdx);
  }
  function pickCanned(i) {
    const c = cannedItems[i];
    if (!c) return;
    el.input.value = c.text;
    hideCanned();
    autosize();
    el.input.focus();
    el.input.setSelectionRange(c.text.length, c.text.length);
  }
  function hideCanned() {
    if (!el.canned || el.canned.hidden) return;
    el.canned.hidden = true;
    clear(el.canned);
    cannedItems = [];
    el.input.removeAttribute('aria-activedescendant');
  }

  // -------------------------------------------------------------- typing
  function onTyping(f) {
    if (!f.conversation_id) return;
    if (f.author === 'agent' && me && (f.agent_id ? f.agent_id === me.id : f.name === me.name)) return;
    typingIn.set(f.conversation_id, { name: str(f.name), author: f.author === 'agent' ? 'agent' : 'customer', until: Date.now() + TYPING_SHOW_FOR });
    setTimeout(expireTyping, TYPING_SHOW_FOR + 50);
    if (cur && cur.id === f.conversation_id) renderTyping();
    scheduleList();
  }
  function expireTyping() {
    const now = Date.now();
    let changed = false;
    typingIn.forEach(function (t, id) {
      if (t.until <= now) {
        typingIn.delete(id);
        changed = true;
      }
    });
    if (changed) {
      renderTyping();
      scheduleList();
    }
  }
  function renderTyping() {
    const t = cur ? typingIn.get(cur.id) : null;
    if (!t || t.until <= Date.now()) {
      el.typing.hidden = true;
      el.typing.textContent = '';
      return;
    }
    const who = t.author === 'customer' ? t.name || (cur.summary ? contactName(cur.summary) : 'The customer') : t.name || 'Another agent';
    el.typing.textContent = who + ' is typing…';
    el.typing.hidden = false;
  }

  // -------------------------------------------------------- contact panel
  let contactToken = 0;
  let contactRef = null;
  function resetContact(text) {
    contactToken++;
    contactRef = null;
    el.cpName.textContent = text || 'Customer';
    el.cpSince.textContent = '';
    setAvatar(el.cpAvatar, '', null);
    [el.cpIdent, el.cpOrders, el.cpInvoices, el.cpConvs].forEach(clear);
    el.cpOrdersCount.textContent = '';
    el.cpInvoicesCount.textContent = '';
    if (!text) el.cpIdent.appendChild(h('li', { class: 'muted' }, 'Open a conversation to see the customer.'));
  }
  function loadContact(contact) {
    if (!contact || !contact.id) {
      resetContact('Anonymous visitor');
      el.cpIdent.appendChild(h('li', { class: 'muted' }, 'No contact is linked to this conversation yet.'));
      return;
    }
    resetContact(contact.name || 'Visitor');
    const token = contactToken;
    contactRef = contact;
    setAvatar(el.cpAvatar, contact.name || 'Visitor', contact.avatar_url);
    el.cpIdent.appendChild(h('li', { class: 'muted' }, 'Loading…'));
    api('GET', '/api/contacts/' + enc(contact.id)).then(function (r) {
      if (token !== contactToken) return;
      renderContact(r || {});
    }).catch(function (e) {
      if (token !== contactToken) return;
      clear(el.cpIdent);
      el.cpIdent.appendChild(h('li', { class: 'cp-error' }, e.message));
    });
  }
  function emptyRow(parent, text) {
    parent.appendChild(h('p', { class: 'muted cp-empty' }, text));
  }
  function field(parent, label, value, cls) {
    const f = h('span', { class: 'f ' + (cls || '') });
    f.appendChild(h('span', { class: 'f-k' }, label));
    f.appendChild(h('span', { class: 'f-v' }, value));
    parent.appendChild(f);
    return f;
  }
  function renderContact(r) {
    const c = r.contact || {};
    el.cpName.textContent = c.name || (contactRef && contactRef.name) || 'Visitor';
    el.cpSince.textContent = c.created_at ? 'Customer since ' + fmtDate(c.created_at) : '';
    clear(el.cpIdent);
    const ids = r.identities || [];
    if (!ids.length) el.cpIdent.appendChild(h('li', { class: 'muted' }, 'No identities.'));
    ids.forEach(function (it) {
      const li = h('li', { class: 'ident' });
      const k = h('span', { class: 'ident-kind' });
      if (ICONS[it.kind]) k.appendChild(icon(it.kind));
      k.appendChild(d.createTextNode(CHANNELS[it.kind] || str(it.kind)));
      li.appendChild(k);
      li.appendChild(h('span', { class: 'ident-value', title: str(it.value) }, str(it.value)));
      const v = VERIFY[it.verification] || [str(it.verification) || 'Unknown', 'v-none'];
      li.appendChild(badge(v[0], v[1]));
      el.cpIdent.appendChild(li);
    });

    const orders = r.orders || [];
    el.cpOrdersCount.textContent = orders.length ? '(' + orders.length + ')' : '';
    clear(el.cpOrders);
    if (!orders.length) emptyRow(el.cpOrders, 'No orders.');
    orders.forEach(function (o) {
      const row = h('div', { class: 'order-row', 'data-status': str(o.status) });
      const top = h('div', { class: 'row-top' });
      top.appendChild(h('span', { class: 'row-id' }, str(o.order_number)));
      top.appendChild(badge(str(o.status), 'os os-' + str(o.status)));
      top.appendChild(h('span', { class: 'row-amount' }, str(o.total)));
      row.appendChild(top);
      const info = h('div', { class: 'row-info' });
      field(info, 'Placed', fmtDate(o.placed_at));
      if (o.shipped_at) field(info, 'Shipped', fmtDate(o.shipped_at));
      if (o.carrier || o.tracking_number) {
        const f = field(info, str(o.carrier) || 'Tracking', '', 'f-track');
        const v = f.querySelector('.f-v');
        v.appendChild(h('code', { class: 'tracking' }, str(o.tracking_number) || '—'));
      }
      row.appendChild(info);
      el.cpOrders.appendChild(row);
    });

    const invoices = r.invoices || [];
    el.cpInvoicesCount.textContent = invoices.length ? '(' + invoices.length + ')' : '';
    clear(el.cpInvoices);
    if (!invoices.length) emptyRow(el.cpInvoices, 'No invoices.');
    invoices.forEach(function (iv) {
      const overdue = iv.status === 'overdue' || (iv.status === 'open' && iv.due_at && !iv.paid_at && ms(iv.due_at) < Date.now());
      const row = h('div', { class: 'invoice-row' + (overdue ? ' overdue' : ''), 'data-status': str(iv.status) });
      const top = h('div', { class: 'row-top' });
      top.appendChild(h('span', { class: 'row-id' }, str(iv.invoice_number)));
      top.appendChild(badge(overdue && iv.status !== 'overdue' ? 'overdue' : str(iv.status), 'is is-' + (overdue ? 'overdue' : str(iv.status))));
      top.appendChild(h('span', { class: 'row-amount' }, str(iv.amount)));
      row.appendChild(top);
      const info = h('div', { class: 'row-info' });
      if (iv.order_number) field(info, 'Order', str(iv.order_number));
      if (iv.paid_at) field(info, 'Paid', fmtDate(iv.paid_at));
      else if (iv.due_at) field(info, 'Due', fmtDate(iv.due_at), overdue ? 'f-overdue' : '');
      row.appendChild(info);
      el.cpInvoices.appendChild(row);
    });

    const cs = (r.conversations || []).slice().sort(function (a, b) { return ms(b.updated_at || b.created_at) - ms(a.updated_at || a.created_at); });
    clear(el.cpConvs);
    if (!cs.length) el.cpConvs.appendChild(h('li', { class: 'muted' }, 'No conversations.'));
    cs.forEach(function (c) {
      const li = h('li');
      const here = cur && cur.id === c.id;
      const b = h('button', { type: 'button', class: 'past-conv' + (here ? ' is-current' : ''), 'aria-current': here ? 'true' : null });
      b.appendChild(channelBadge(c.channel));
      b.appendChild(statusBadge(c.status));
      b.appendChild(timeEl(c.created_at, fmtDate(c.created_at), 'pc-date'));
      if (here) b.appendChild(h('span', { class: 'pc-here' }, 'open'));
      b.addEventListener('click', function () {
        goConversation(c.id);
        setPanelOpen(false);
      });
      li.appendChild(b);
      el.cpConvs.appendChild(li);
    });
  }
  function setPanelOpen(on) {
    d.body.classList.toggle('panel-open', !!on);
    el.btnInfo.setAttribute('aria-expanded', on ? 'true' : 'false');
    if (on) el.cpClose.focus();
  }

  // ------------------------------------------------------------- stock
  let stockTimer = 0;
  let stockToken = 0;
  function searchStock() {
    clearTimeout(stockTimer);
    const q = el.stockQ.value.trim();
    const box = el.stockResults;
    const token = ++stockToken;
    if (q.length < 2) {
      clear(box);
      return;
    }
    api('GET', '/api/stock?q=' + enc(q)).then(function (r) {
      if (token !== stockToken) return;
      clear(box);
      const ps = (r && r.products) || [];
      if (!ps.length) {
        emptyRow(box, 'Nothing matches “' + q + '”.');
        return;
      }
      ps.slice(0, 20).forEach(function (p) {
        const qty = typeof p.quantity_on_hand === 'number' ? p.quantity_on_hand : null;
        const row = h('div', { class: 'stock-row' + (qty === 0 ? ' is-out' : qty !== null && qty < 5 ? ' is-low' : '') });
        const top = h('div', { class: 'row-top' });
        top.appendChild(h('span', { class: 'row-id' }, str(p.name)));
        top.appendChild(h('span', { class: 'row-amount' }, str(p.price)));
        row.appendChild(top);
        const info = h('div', { class: 'row-info' });
        field(info, 'SKU', str(p.sku));
        field(info, 'In stock', qty === null ? '—' : String(qty), 'f-qty');
        if (p.restock_date && (qty === 0 || qty === null || qty < 5)) field(info, 'Restock', fmtDate(p.restock_date));
        row.appendChild(info);
        box.appendChild(row);
      });
    }).catch(function (e) {
      if (token !== stockToken) return;
      clear(box);
      box.appendChild(h('p', { class: 'cp-error' }, e.message));
    });
  }

  // ------------------------------------------------------------- reports
  let reportsToken = 0;
  let reportsData = null;
  function loadReports() {
    const token = ++reportsToken;
    el.repStatus.textContent = 'Loading…';
    api('GET', '/api/reports?days=' + enc(el.repDays.value)).then(function (r) {
      if (token !== reportsToken) return;
      reportsData = (r && r.days) || [];
      el.repStatus.textContent = '';
      renderReports();
    }).catch(function (e) {
      if (token !== reportsToken) return;
      el.repStatus.textContent = e.message;
    });
  }
  function dayLabel(ds) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(str(ds));
    if (!m) return str(ds);
    return shortDate(new Date(+m[1], +m[2] - 1, +m[3]));
  }
  function aggregate(rows) {
    const by = new Map();
    rows.forEach(function (r) {
      let a = by.get(r.date);
      if (!a) by.set(r.date, (a = { date: r.date, conv: 0, bot: 0, rw: 0, rn: 0, fw: 0, fn: 0, sw: 0, sn: 0 }));
      const n = r.conversations || 0;
      a.conv += n;
      a.bot += r.bot_resolved || 0;
      if (typeof r.containment_rate === 'number' && n > 0) { a.rw += r.containment_rate * n; a.rn += n; }
      if (typeof r.first_response_avg_s === 'number') { const k = Math.max(1, n); a.fw += r.first_response_avg_s * k; a.fn += k; }
      if (typeof r.resolution_avg_s === 'number') { const k = Math.max(1, n); a.sw += r.resolution_avg_s * k; a.sn += k; }
    });
    // Fill gaps so the chart has one slot per calendar day.
    const keys = Array.from(by.keys()).filter(function (k) { return /^\d{4}-\d{2}-\d{2}$/.test(k); }).sort();
    const out = [];
    if (keys.length) {
      const start = new Date(keys[0] + 'T00:00:00Z');
      const end = new Date(keys[keys.length - 1] + 'T00:00:00Z');
      for (let t = start.getTime(); t <= end.getTime() && out.length < 400; t += 86400000) {
        const k = new Date(t).toISOString().slice(0, 10);
        out.push(by.get(k) || { date: k, conv: 0, bot: 0, rw: 0, rn: 0, fw: 0, fn: 0, sw: 0, sn: 0 });
      }
    }
    out.forEach(function (a) { a.rate = a.rn ? a.rw / a.rn : null; });
    return out;
  }
  function renderReports() {
    const ch = el.repChannel.value;
    const rows = (reportsData || []).filter(function (r) { return r && (!ch || r.channel === ch); });
    const days = aggregate(rows);
    // KPIs
    const tot = days.reduce(function (t, a) {
      t.conv += a.conv; t.bot += a.bot; t.rw += a.rw; t.rn += a.rn; t.fw += a.fw; t.fn += a.fn; t.sw += a.sw; t.sn += a.sn;
      return t;
    }, { conv: 0, bot: 0, rw: 0, rn: 0, fw: 0, fn: 0, sw: 0, sn: 0 });
    clear(el.repKpis);
    [
      ['Conversations', String(tot.conv)],
      ['Resolved by bot', String(tot.bot)],
      ['Containment', pct(tot.rn ? tot.rw / tot.rn : null)],
      ['First response (avg)', fmtDuration(tot.fn ? tot.fw / tot.fn : null)],
      ['Resolution (avg)', fmtDuration(tot.sn ? tot.sw / tot.sn : null)]
    ].forEach(function (k) {
      const c = h('div', { class: 'kpi card' });
      c.appendChild(h('span', { class: 'kpi-v' }, k[1]));
      c.appendChild(h('span', { class: 'kpi-k' }, k[0]));
      el.repKpis.appendChild(c);
    });
    drawChart(el.repChart, days);
    // Table: newest day first, channels alphabetically.
    const body = el.repTable.tBodies[0];
    clear(body);
    rows.slice().sort(function (a, b) { return a.date < b.date ? 1 : a.date > b.date ? -1 : str(a.channel).localeCompare(str(b.channel)); }).forEach(function (r) {
      const tr = h('tr');
      tr.appendChild(h('td', null, dayLabel(r.date)));
      const tdc = h('td');
      tdc.appendChild(channelBadge(r.channel));
      tr.appendChild(tdc);
      tr.appendChild(h('td', { class: 'num' }, String(r.conversations || 0)));
      tr.appendChild(h('td', { class: 'num' }, String(r.bot_resolved || 0)));
      tr.appendChild(h('td', { class: 'num' }, pct(r.containment_rate)));
      tr.appendChild(h('td', { class: 'num' }, fmtDuration(r.first_response_avg_s)));
      tr.appendChild(h('td', { class: 'num' }, fmtDuration(r.resolution_avg_s)));
      body.appendChild(tr);
    });
    if (!rows.length) {
      const tr = h('tr');
      tr.appendChild(h('td', { colspan: '7', class: 'muted' }, 'No data for this period.'));
      body.appendChild(tr);
    }
  }
  function niceStep(v) {
    if (v <= 1) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    const n = v / p;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
  }
  function drawChart(svg, days) {
    clear(svg);
    const W = 760;
    const H = 300;
    const L = 44;
    const R = 50;
    const T = 14;
    const B = 34;
    const pw = W - L - R;
    const ph = H - T - B;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    if (!days.length) {
      svg.appendChild(sv('text', { x: W / 2, y: H / 2, class: 'ax-empty', 'text-anchor': 'middle' }, 'No data for this period'));
      return;
    }
    const peak = days.reduce(function (m, a) { return Math.max(m, a.conv); }, 0);
    const step = niceStep(Math.max(1, peak) / 4);
    const max = step * 4;
    const y = function (v) { return T + ph - (v / max) * ph; };
    const yr = function (r) { return T + ph - r * ph; };
    const slot = pw / days.length;
    const bw = Math.max(2, Math.min(38, slot * 0.62));
    const grid = sv('g', { class: 'ax' });
    for (let i = 0; i <= 4; i++) {
      const gy = y(step * i);
      grid.appendChild(sv('line', { x1: L, x2: W - R, y1: gy, y2: gy, class: i ? 'ax-grid' : 'ax-base' }));
      grid.appendChild(sv('text', { x: L - 6, y: gy + 4, 'text-anchor': 'end' }, String(step * i)));
      grid.appendChild(sv('text', { x: W - R + 6, y: gy + 4, 'text-anchor': 'start', class: 'ax-rate' }, i * 25 + '%'));
    }
    svg.appendChild(grid);
    const every = Math.ceil(days.length / 12);
    const bars = sv('g', { class: 'bars' });
    const pts = [];
    days.forEach(function (a, i) {
      const cx = L + slot * (i + 0.5);
      const human = Math.max(0, a.conv - a.bot);
      const bot = Math.min(a.bot, a.conv);
      const g = sv('g', { class: 'bar' });
      g.appendChild(sv('title', {}, dayLabel(a.date) + ': ' + a.conv + ' conversations, ' + bot + ' resolved by the bot, ' + human + ' needed an agent' + (a.rate !== null ? ', containment ' + pct(a.rate) : '')));
      g.appendChild(sv('rect', { x: cx - slot / 2, y: T, width: slot, height: ph, class: 'bar-hit' }));
      if (bot > 0) g.appendChild(sv('rect', { x: cx - bw / 2, y: y(bot), width: bw, height: y(0) - y(bot), class: 'bar-bot' }));
      if (human > 0) g.appendChild(sv('rect', { x: cx - bw / 2, y: y(bot + human), width: bw, height: y(bot) - y(bot + human), class: 'bar-human' }));
      bars.appendChild(g);
      if (i % every === 0 || i === days.length - 1) {
        bars.appendChild(sv('text', { x: cx, y: H - B + 18, 'text-anchor': 'middle', class: 'ax-x' }, dayLabel(a.date)));
      }
      if (a.rate !== null) pts.push([cx, yr(Math.max(0, Math.min(1, a.rate))), a, i]);
    });
    svg.appendChild(bars);
    let dpath = '';
    let lastI = -2;
    pts.forEach(function (p) {
      dpath += (p[3] === lastI + 1 ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1);
      lastI = p[3];
    });
    if (dpath) svg.appendChild(sv('path', { d: dpath, class: 'rate-line' }));
    pts.forEach(function (p) {
      const c = sv('circle', { cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: 3.5, class: 'rate-dot' });
      c.appendChild(sv('title', {}, dayLabel(p[2].date) + ': containment ' + pct(p[2].rate)));
      svg.appendChild(c);
    });
  }

  // -------------------------------------------------------------- socket
  let ws = null;
  let wsReady = false;
  let attempt = 0;
  let reconnectTimer = 0;
  let helloTimer = 0;
  let stopped = false;
  let listsFallback = 0;
  function send(obj) {
    if (!ws || !wsReady || ws.readyState !== 1) return false;
    try {
      ws.send(JSON.stringify(obj));
      return true;
    } catch (e) {
      return false;
    }
  }
  function setConn(state, text) {
    el.conn.className = 'conn is-' + state;
    el.connText.textContent = text;
  }
  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = 0;
    if (stopped || (ws && (ws.readyState === 0 || ws.readyState === 1))) return;
    setConn('connecting', attempt ? 'Reconnecting…' : 'Connecting…');
    let sock;
    try {
      sock = new WebSocket(WS_URL);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    wsReady = false;
    sock.onopen = function () {
      if (ws !== sock) return;
      clearTimeout(helloTimer);
      helloTimer = setTimeout(function () {
        if (ws === sock && !wsReady) {
          try { sock.close(4000, 'no hello'); } catch (e) { /* ignore */ }
        }
      }, HELLO_WAIT);
    };
    sock.onmessage = function (ev) {
      if (ws !== sock || typeof ev.data !== 'string') return;
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (f && typeof f === 'object' && typeof f.type === 'string') handleFrame(f);
    };
    sock.onerror = function () { /* a close event follows */ };
    sock.onclose = function () {
      if (ws !== sock) return;
      clearTimeout(helloTimer);
      const hadHello = wsReady;
      ws = null;
      wsReady = false;
      if (stopped) return;
      // Refused before hello: maybe the session expired (api() sends us to login on 401).
      if (!hadHello) api('GET', '/api/me').then(null, function (e) { if (e.status === 401) toLogin(); });
      scheduleReconnect();
    };
  }
  function scheduleReconnect() {
    if (reconnectTimer || stopped) return;
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    attempt = Math.min(attempt + 1, 30);
    const delay = Math.min(BACKOFF_MAX, Math.round(base * (0.7 + Math.random() * 0.6)));
    setConn('down', 'Reconnecting in ' + Math.max(1, Math.round(delay / 1000)) + ' s');
    reconnectTimer = setTimeout(function () {
      reconnectTimer = 0;
      connect();
    }, delay);
  }
  function reconnectNow() {
    if (stopped || (ws && (ws.readyState === 0 || ws.readyState === 1))) return;
    attempt = 0;
    connect();
  }
  function stopSocket() {
    stopped = true;
    clearTimeout(reconnectTimer);
    if (ws) {
      try { ws.close(1000, 'bye'); } catch (e) { /* ignore */ }
    }
    ws = null;
  }
  function sendResume() {
    if (cur && cur.loaded) send({ type: 'resume', conversation_id: cur.id, after_seq: maxSeq() });
  }
  function handleFrame(f) {
    switch (f.type) {
      case 'hello':
        clearTimeout(helloTimer);
        clearTimeout(listsFallback);
        wsReady = true;
        attempt = 0;
        setConn('live', 'Live');
        refreshLists();
        sendResume();
        break;
      case 'conversation':
        upsert(f.conversation);
        break;
      case 'message':
        onLiveMessage(f.message, false);
        break;
      case 'typing':
        onTyping(f);
        break;
      case 'presence':
        if (me && f.agent_id === me.id && f.presence) showPresence(f.presence);
        Array.prototype.forEach.call(el.menu.querySelectorAll('.menu-item[data-agent-id]'), function (b) {
          if (b.getAttribute('data-agent-id') === f.agent_id) {
            const dot = b.querySelector('.presence-dot');
            if (dot) dot.className = 'presence-dot p-' + str(f.presence);
          }
        });
        break;
      case 'error':
        toast(f.message || 'Error: ' + str(f.code), 'error');
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------------------ me / header
  function showPresence(p) {
    if (me) me.presence = p;
    el.presence.value = p;
    el.presenceDot.className = 'presence-dot p-' + p;
  }
  function renderMe() {
    el.agentName.textContent = str(me.name) || str(me.email);
    const extra = [me.email, me.role === 'admin' ? 'admin' : 'agent', 'capacity ' + str(me.capacity)];
    if (me.teams && me.teams.length) extra.push('teams: ' + me.teams.join(', '));
    el.agentName.title = extra.join(' · ');
    showPresence(me.presence || 'online');
  }
  function onPresenceChange() {
    const want = el.presence.value;
    const was = me.presence;
    el.presence.disabled = true;
    api('PUT', '/api/me/presence', { presence: want }).then(function (r) {
      showPresence((r && r.presence) || want);
    }).catch(function (e) {
      showPresence(was);
      showErr(e);
    }).then(function () {
      el.presence.disabled = false;
    });
  }
  function logout() {
    el.logout.disabled = true;
    api('POST', '/api/logout').catch(function () { /* leaving anyway */ }).then(function () {
      leaving = true;
      stopSocket();
      w.location.replace('/login');
    });
  }

  // -------------------------------------------------------------- routing
  function showView(v) {
    view = v;
    el.inbox.hidden = v !== 'inbox';
    el.reports.hidden = v !== 'reports';
    el.navInbox.setAttribute('aria-current', v === 'inbox' ? 'page' : 'false');
    el.navReports.setAttribute('aria-current', v === 'reports' ? 'page' : 'false');
  }
  function route() {
    const hs = w.location.hash;
    if (hs === '#/reports') {
      showView('reports');
      loadReports();
      return;
    }
    showView('inbox');
    const m = /^#\/c\/(.+)$/.exec(hs);
    if (m) {
      let id;
      try {
        id = decodeURIComponent(m[1]);
      } catch (e) {
        return;
      }
      if (!cur || cur.id !== id) openConversation(id);
    }
    maybeRead();
  }

  // ----------------------------------------------------------------- boot
  function bind() {
    el = {
      conn: $('conn'), connText: $('conn-text'), agentName: $('agent-name'), presence: $('presence'),
      presenceDot: $('presence-dot'), logout: $('logout'), navInbox: $('nav-inbox'), navReports: $('nav-reports'),
      inbox: $('inbox'), reports: $('reports'), list: $('conv-list'),
      tabs: { queue: $('tab-queue'), mine: $('tab-mine'), open: $('tab-open') },
      empty: $('conv-empty'), main: $('conv-main'), title: $('conv-title'), meta: $('conv-meta'), avatar: $('conv-avatar'),
      btn: { claim: $('btn-claim'), transfer: $('btn-transfer'), unassign: $('btn-unassign'), resolve: $('btn-resolve'), reopen: $('btn-reopen'), handback: $('btn-handback') },
      btnInfo: $('btn-info'), menu: $('transfer-menu'), handoff: $('handoff'), messages: $('messages'), newBelow: $('new-below'),
      typing: $('typing'), composer: $('composer'), noteToggle: $('note-toggle'), hint: $('composer-hint'), canned: $('canned'),
      input: $('reply-input'), replyLabel: $('reply-label'), send: $('reply-send'),
      cpAvatar: $('cp-avatar'), cpName: $('cp-name'), cpSince: $('cp-since'), cpIdent: $('cp-identities'), cpOrders: $('cp-orders'),
      cpOrdersCount: $('cp-orders-count'), cpInvoices: $('cp-invoices'), cpInvoicesCount: $('cp-invoices-count'), cpConvs: $('cp-conversations'),
      cpRefresh: $('cp-refresh'), cpClose: $('cp-close'), stockForm: $('stock-form'), stockQ: $('stock-q'), stockResults: $('stock-results'),
      repDays: $('reports-days'), repChannel: $('reports-channel'), repStatus: $('reports-status'), repKpis: $('reports-kpis'),
      repChart: $('reports-chart'), repTable: $('reports-table')
    };

    TABS.forEach(function (t, i) {
      el.tabs[t].addEventListener('click', function () { selectTab(t, false); });
      el.tabs[t].addEventListener('keydown', function (e) {
        let j = -1;
        if (e.key === 'ArrowRight') j = (i + 1) % TABS.length;
        else if (e.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
        else if (e.key === 'Home') j = 0;
        else if (e.key === 'End') j = TABS.length - 1;
        if (j >= 0) {
          e.preventDefault();
          selectTab(TABS[j], true);
        }
      });
    });
    el.list.addEventListener('click', function (e) {
      const item = e.target.closest('.conv-item');
      if (item) goConversation(item.getAttribute('data-id'));
    });
    el.list.addEventListener('keydown', function (e) {
      if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
      const items = Array.prototype.slice.call(el.list.querySelectorAll('.conv-item'));
      const i = items.indexOf(d.activeElement);
      const n = items[e.key === 'ArrowDown' ? Math.min(items.length - 1, i + 1) : Math.max(0, i - 1)];
      if (n) {
        e.preventDefault();
        n.focus();
      }
    });

    el.btn.claim.addEventListener('click', onClaim);
    el.btn.unassign.addEventListener('click', function () { act('unassign', null, el.btn.unassign); });
    el.btn.resolve.addEventListener('click', onResolve);
    el.btn.reopen.addEventListener('click', function () { act('reopen', null, el.btn.reopen); });
    el.btn.handback.addEventListener('click', function () { act('handback', null, el.btn.handback); });
    el.btn.transfer.addEventListener('click', function () {
      if (el.menu.hidden) openTransfer();
      else closeTransfer(true);
    });
    el.btn.transfer.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown' && el.menu.hidden) {
        e.preventDefault();
        openTransfer();
      }
    });
    el.menu.addEventListener('keydown', onMenuKey);
    d.addEventListener('click', function (e) {
      if (!el.menu.hidden && !e.target.closest('.menu-wrap')) closeTransfer(false);
      if (!el.canned.hidden && e.target !== el.input && !e.target.closest('#canned')) hideCanned();
    });
    el.btnInfo.addEventListener('click', function () { setPanelOpen(!d.body.classList.contains('panel-open')); });
    el.cpClose.addEventListener('click', function () {
      setPanelOpen(false);
      el.btnInfo.focus();
    });
    el.cpRefresh.addEventListener('click', function () {
      const c = cur && cur.summary && cur.summary.contact;
      if (c) loadContact(c);
    });

    el.composer.addEventListener('submit', function (e) {
      e.preventDefault();
      submitReply();
    });
    el.input.addEventListener('keydown', onInputKey);
    el.input.addEventListener('input', onInput);
    el.input.addEventListener('blur', saveDraft);
    el.noteToggle.addEventListener('click', function () {
      setNoteMode(!noteMode);
      saveDraft();
      el.input.focus();
    });
    el.newBelow.addEventListener('click', scrollToEnd);
    el.messages.addEventListener('scroll', function () {
      if (!el.newBelow.hidden && nearBottom()) el.newBelow.hidden = true;
    });

    el.stockForm.addEventListener('submit', function (e) {
      e.preventDefault();
      searchStock();
    });
    el.stockQ.addEventListener('input', function () {
      clearTimeout(stockTimer);
      stockTimer = setTimeout(searchStock, 300);
    });

    el.presence.addEventListener('change', onPresenceChange);
    el.logout.addEventListener('click', logout);
    el.repDays.addEventListener('change', loadReports);
    el.repChannel.addEventListener('change', function () { if (reportsData) renderReports(); });

    w.addEventListener('hashchange', route);
    d.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && d.body.classList.contains('panel-open')) setPanelOpen(false);
    });
    w.addEventListener('online', reconnectNow);
    w.addEventListener('offline', function () {
      if (ws) {
        try { ws.close(); } catch (e) { /* ignore */ }
      }
    });
    d.addEventListener('visibilitychange', function () {
      if (d.visibilityState === 'visible') {
        reconnectNow();
        maybeRead();
        scheduleList();
      }
    });
    w.addEventListener('pageshow', function (e) {
      if (e.persisted) reconnectNow();
    });
    setInterval(function () {
      if (d.visibilityState !== 'visible') return;
      scheduleList();
      if (cur && cur.summary && cur.summary.status === 'queued') renderHeader();
    }, TICK_EVERY);
  }

  function bootFailed(e) {
    d.body.classList.remove('is-booting');
    clear(el.list);
    el.list.appendChild(h('p', { class: 'list-empty cp-error' }, 'Could not load the console: ' + e.message));
    const again = h('button', { type: 'button', class: 'btn' }, 'Try again');
    again.addEventListener('click', function () { w.location.reload(); });
    el.list.appendChild(again);
    setConn('down', 'Offline');
  }

  function boot() {
    bind();
    setNoteMode(false);
    loadMe().then(function () {
      d.body.classList.remove('is-booting');
      renderMe();
      route();
      connect();
      // Lists come with the socket's hello; without a socket, load them anyway.
      listsFallback = setTimeout(refreshLists, LISTS_FALLBACK);
    }).catch(function (e) {
      if (e.status === 401) toLogin();
      else bootFailed(e);
    });
  }

  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
