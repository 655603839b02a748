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

  // ---- config
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 15000;
  const HELLO_WAIT = 10000;
  const LISTS_FALLBACK = 3000; // load lists over REST even if the socket never says hello
  const TYPING_SEND_EVERY = 3000;
  const TYPING_SHOW_FOR = 4000;
  const TOAST_FOR = 6000;
  const TICK_EVERY = 30000;
  const MAX_LEN = 10000; // the server's limit for agent replies and notes
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
  const EMPTY_LIST = { queue: 'Nobody is waiting. Nice.', mine: 'Nothing assigned to you.', open: 'No open conversations.' };
  const LOCK = 'M7 10V7a5 5 0 0 1 10 0v3h1a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2v-8a2 2 0 0 1 2-2h1zm2 0h6V7a3 3 0 0 0-6 0v3z';

  // ---- helpers
  const $ = (id) => d.getElementById(id);
  const str = (v) => (v === null || v === undefined ? '' : String(v));
  const enc = (s) => encodeURIComponent(String(s));
  const pad = (n) => String(n).padStart(2, '0');
  const each = (list, fn) => Array.prototype.forEach.call(list, fn);
  const on = (node, ev, fn) => node.addEventListener(ev, fn);
  function h(tag, attrs, text) {
    const n = d.createElement(tag);
    Object.keys(attrs || {}).forEach((k) => {
      const v = attrs[k];
      if (v !== null && v !== undefined) n.setAttribute(k, v);
    });
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  const sp = (cls, text) => h('span', { class: cls }, text);
  function sv(tag, attrs, text) {
    const n = d.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs || {}).forEach((k) => n.setAttribute(k, attrs[k]));
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function lockIcon() {
    const s = sv('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false', class: 'ic' });
    s.appendChild(sv('path', { d: LOCK }));
    return s;
  }
  function clear(n) {
    while (n.firstChild) n.removeChild(n.firstChild);
  }
  function ms(iso) {
    const t = iso ? Date.parse(iso) : NaN;
    return isNaN(t) ? 0 : t;
  }
  function shortDate(dt) {
    const o = { day: 'numeric', month: 'short' };
    if (dt.getFullYear() !== new Date().getFullYear()) o.year = 'numeric';
    return dt.toLocaleDateString(undefined, o);
  }
  // HH:MM today, otherwise a short date.
  function fmtTime(iso) {
    const t = ms(iso);
    if (!t) return '';
    const dt = new Date(t);
    return dt.toDateString() === new Date().toDateString() ? pad(dt.getHours()) + ':' + pad(dt.getMinutes()) : shortDate(dt);
  }
  const fmtDate = (iso) => (ms(iso) ? shortDate(new Date(ms(iso))) : '—');
  function fmtAgo(iso) {
    const t = ms(iso);
    if (!t) return '';
    const s = Math.max(0, (Date.now() - t) / 1000);
    if (s < 45) return 'now';
    if (s < 3600) return Math.round(s / 60) + 'm';
    if (s < 86400) return Math.floor(s / 3600) + 'h';
    if (s < 604800) return Math.floor(s / 86400) + 'd';
    return shortDate(new Date(t));
  }
  function fmtDuration(s) {
    if (s === null || s === undefined || isNaN(s)) return '—';
    s = Math.round(s);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + pad(s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + pad(Math.floor((s % 3600) / 60)) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }
  function fmtWait(s) {
    const t = ms(s.queued_at || s.created_at);
    const m = t ? Math.floor((Date.now() - t) / 60000) : 0;
    return m < 1 ? 'under a minute' : m < 60 ? m + ' min' : fmtDuration(m * 60);
  }
  const pct = (r) => (typeof r === 'number' && !isNaN(r) ? Math.round(r * 100) + '%' : '—');
  const timeEl = (iso, text, cls) => h('time', { class: cls || null, datetime: iso || null, title: ms(iso) ? new Date(ms(iso)).toLocaleString() : null }, text);
  function setAvatar(node, name, url) {
    const first = str(name).split(/\s+/).map((p) => (p.match(/[\p{L}\p{N}]/u) || [''])[0]).filter(Boolean);
    node.textContent = first.length ? (first[0] + (first.length > 1 ? first[first.length - 1] : '')).toUpperCase() : '?';
    // A channel picture (Discord avatar) over the initials; the initials stay if it fails to load.
    if (typeof url === 'string' && /^https:\/\//.test(url)) {
      const img = h('img', { src: url, alt: '', referrerpolicy: 'no-referrer' });
      img.addEventListener('error', () => img.remove());
      node.appendChild(img);
    }
  }
  const contactName = (s) => (s && s.contact && s.contact.name) || 'Visitor';
  const badge = (text, cls) => sp('badge ' + (cls || ''), text);
  // The running SLA clock (first reply, then resolution) as a chip: time left until it is due,
  // amber in the last quarter, red once breached. A clock that stopped shows only if missed.
  function slaChip(s) {
    const sla = s && s.sla;
    if (!sla) return null;
    const clocks = [[sla.first_response, 'First reply'], [sla.resolution, 'Resolve']].filter((x) => x[0]);
    const running = clocks.find((x) => !x[0].stopped);
    if (!running) {
      const missed = clocks.find((x) => x[0].breached);
      return missed ? badge(missed[1] + ' SLA missed', 'sla sla-breached') : null;
    }
    const c = running[0];
    const left = ms(c.due_at) ? ms(c.due_at) - Date.now() : (c.left_s || 0) * 1000;
    const breached = c.breached || left < 0;
    const near = !breached && left < (c.target_s || 0) * 250;
    const text = breached ? running[1] + ' overdue ' + fmtDuration(-left / 1000) : running[1] + ' in ' + fmtDuration(left / 1000);
    const chip = badge(text, 'sla ' + (breached ? 'sla-breached' : near ? 'sla-near' : 'sla-ok'));
    chip.title = 'SLA target ' + fmtDuration(c.target_s) + ' of business time';
    return chip;
  }
  const csatBadge = (s) => {
    if (!s || !s.csat) return null;
    const b = badge('CSAT ' + s.csat.rating + '/5', 'csat');
    if (s.csat.comment) b.title = str(s.csat.comment);
    return b;
  };
  const channelBadge = (ch) => badge(CHANNELS[ch] || str(ch) || '?', 'ch ch-' + (CHANNELS[ch] ? ch : 'other'));
  const statusBadge = (st) => badge(STATUS[st] || str(st), 'st st-' + (STATUS[st] ? st : 'other'));

  // ---- toasts
  let leaving = false;
  function toast(text, kind) {
    if (leaving || !text) return;
    const box = $('toasts');
    const t = h('div', { class: 'toast' + (kind ? ' toast-' + kind : ''), role: kind === 'error' ? 'alert' : 'status' });
    t.appendChild(sp('', text));
    const x = h('button', { type: 'button', class: 'toast-x', 'aria-label': 'Dismiss' }, '×');
    on(x, 'click', () => t.remove());
    t.appendChild(x);
    box.appendChild(t);
    while (box.children.length > 4) box.removeChild(box.firstChild);
    setTimeout(() => t.remove(), TOAST_FOR);
  }
  const showErr = (e) => toast((e && e.message) || 'Something went wrong', 'error');

  // ---- API
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
  const FALLBACK = { 403: 'You are not allowed to do that.', 404: 'Not found.', 409: 'Someone else changed this first.', 429: 'Too many requests, slow down a little.' };
  // Resolves to the parsed JSON body (null for 204); rejects with Error{status, code, message}.
  // A 401 sends the agent to the login page; a refused CSRF token is re-read once.
  function api(method, path, body, retried) {
    const opts = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/json';
      opts.headers['X-CSRF-Token'] = csrf;
      opts.body = JSON.stringify(body || {});
    }
    return fetch(path, opts).then((res) => res.text().then((txt) => {
      let data = null;
      try {
        data = txt ? JSON.parse(txt) : null;
      } catch (e) { /* not JSON */ }
      if (res.ok) return data;
      const er = (data && data.error) || {};
      if (res.status === 401 && path !== '/api/me') toLogin();
      if (res.status === 403 && /csrf/i.test(str(er.code) + ' ' + str(er.message)) && !retried) {
        return loadMe().then(() => api(method, path, body, true));
      }
      throw apiError(res.status, er.code || 'http_' + res.status, er.message || FALLBACK[res.status] || 'Request failed (' + res.status + '). Try again.');
    }), () => {
      throw apiError(0, 'network', 'Cannot reach the server. Check your connection.');
    });
  }
  const convPath = (id, rest) => '/api/conversations/' + enc(id) + (rest ? '/' + rest : '');
  // console-tools.js (search, views, notifications, shortcuts) calls the API through this.
  w.kituoConsole = Object.freeze({ api: (method, path, body) => api(method, path, body) });
  function loadMe() {
    return api('GET', '/api/me').then((r) => {
      me = r.agent;
      csrf = r.csrf_token || csrf;
      return r;
    });
  }

  // ---- state
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
  let typing = null; // someone typing in the open conversation: {id, name, author, until}
  let lastTypingSent = 0;
  let readTimer = 0;
  let listRaf = 0;
  const itemEls = new Map(); // conversation id -> {el, sig}
  let el = {};

  // ---- lists
  function belongs(s, which) {
    if (which === 'queue') return s.status === 'queued';
    if (s.status === 'resolved') return false;
    return which !== 'mine' || !!(s.assignee && me && s.assignee.id === me.id);
  }
  const byQueue = (a, b) => (b.priority || 0) - (a.priority || 0) || ms(a.created_at) - ms(b.created_at) || (a.id < b.id ? -1 : 1);
  const byRecent = (a, b) => ms(b.updated_at) - ms(a.updated_at) || (a.id < b.id ? -1 : 1);
  function listOf(which) {
    const arr = [];
    convs.forEach((e) => { if (belongs(e.s, which)) arr.push(e.s); });
    return arr.sort(which === 'queue' ? byQueue : byRecent);
  }
  // Newest version wins (by updated_at; a tie takes the incoming one).
  function upsert(s) {
    if (!s || !s.id) return;
    const old = convs.get(s.id);
    if (old && ms(s.updated_at) < ms(old.s.updated_at)) return;
    // Socket events carry no labels: keep the ones the REST lists brought.
    if (!Array.isArray(s.labels) && old && Array.isArray(old.s.labels)) s = Object.assign({}, s, { labels: old.s.labels });
    // Nor the rating: keep it unless the REST answer carried one (or null).
    if (!('csat' in s) && old && old.s.csat) s = Object.assign({}, s, { csat: old.s.csat });
    convs.set(s.id, { s: s, stamp: ++stamp });
    if (cur && cur.id === s.id) {
      cur.summary = s;
      renderHeader();
      maybeRead();
    }
    scheduleList();
  }
  // The REST lists are the truth at the time of the request: whatever they no longer hold,
  // and the socket did not touch since, is dropped.
  // Label colours (admin-defined), loaded with the lists.
  const labelColors = new Map();
  function loadLabelColors() {
    return api('GET', '/api/labels').then((r) => {
      ((r && r.labels) || []).forEach((l) => labelColors.set(l.name, l.color));
    }, () => {});
  }
  function refreshLists() {
    if (!labelColors.size) loadLabelColors().then(scheduleList);
    const s0 = stamp;
    const qs = ['queued', 'open&assignee=me', 'open'];
    return Promise.all(qs.map((q) => api('GET', '/api/conversations?status=' + q))).then((rs) => {
      const seen = new Set();
      rs.forEach((r) => ((r && r.conversations) || []).forEach((s) => {
        if (!s || !s.id) return;
        seen.add(s.id);
        upsert(s);
      }));
      convs.forEach((e, id) => { if (!seen.has(id) && e.stamp <= s0) convs.delete(id); });
      listsLoaded = true;
      scheduleList();
      if (cur && cur.loaded && !convs.has(cur.id)) refetchCurrent();
    }).catch((e) => { if (e.status !== 401) showErr(e); });
  }
  function scheduleList() {
    if (!listRaf) listRaf = w.requestAnimationFrame(() => { listRaf = 0; renderList(); });
  }
  function previewText(s) {
    const lm = s.last_message;
    if (!lm || !lm.text) return 'No messages yet';
    const a = str(lm.author);
    const who = a === 'bot' ? 'Bot: ' : a === 'agent' ? 'Agent: ' : a && a !== 'customer' && a !== 'system' ? a + ': ' : '';
    return who + str(lm.text).replace(/\s+/g, ' ');
  }
  function fillItem(node, s, pos) {
    clear(node);
    const top = sp('ci-top');
    top.append(sp('ci-name', contactName(s)), channelBadge(s.channel));
    const when = (s.last_message && s.last_message.created_at) || s.updated_at;
    top.appendChild(timeEl(when, fmtAgo(when), 'ci-time'));
    node.appendChild(top);
    if (s.summary) node.appendChild(h('span', { class: 'ci-summary', title: s.summary }, s.summary));
    node.appendChild(sp('ci-preview', previewText(s)));
    const meta = sp('ci-meta');
    meta.appendChild(statusBadge(s.status));
    if ((s.priority || 0) > 0) meta.appendChild(badge('P' + s.priority, 'prio'));
    const chip = slaChip(s);
    if (chip) meta.appendChild(chip);
    const rated = csatBadge(s);
    if (rated) meta.appendChild(rated);
    if (s.status === 'queued') meta.appendChild(sp('ci-wait', (pos ? '#' + pos + ' · ' : '') + 'waiting ' + fmtWait(s)));
    else if (s.assignee) meta.appendChild(sp('ci-assignee', me && s.assignee.id === me.id ? 'You' : str(s.assignee.name)));
    if (s.team) meta.appendChild(sp('ci-team', s.team));
    (Array.isArray(s.labels) ? s.labels : []).forEach((name) => {
      const chip = sp('ci-label', str(name));
      const color = labelColors.get(name);
      if (color) chip.style.borderColor = color;
      meta.appendChild(chip);
    });
    if ((s.unread || 0) > 0) meta.appendChild(h('span', { class: 'unread', 'aria-label': s.unread + ' unread' }, s.unread > 99 ? '99+' : String(s.unread)));
    node.appendChild(meta);
  }
  // Items are kept and patched in place (only when their data changed), so a click
  // or the keyboard focus is never lost to a re-render.
  function renderList() {
    const lists = { queue: listOf('queue'), mine: listOf('mine'), open: listOf('open') };
    TABS.forEach((t) => { el.tabs[t].querySelector('.tab-count').textContent = '(' + lists[t].length + ')'; });
    const qpos = new Map(lists.queue.map((s, i) => [s.id, i + 1]));
    const arr = lists[tab];
    const list = el.list;
    const want = new Set(arr.map((s) => s.id));
    Array.from(list.children).forEach((c) => {
      if (!c.classList.contains('conv-item') || !want.has(c.getAttribute('data-id'))) list.removeChild(c);
    });
    itemEls.forEach((v, id) => { if (!want.has(id)) itemEls.delete(id); });
    arr.forEach((s, i) => {
      const pos = qpos.get(s.id) || null;
      const active = !!(cur && cur.id === s.id);
      const sig = JSON.stringify([s, pos, active, labelColors.size, Math.floor(Date.now() / 30000)]);
      let c = itemEls.get(s.id);
      if (!c) itemEls.set(s.id, (c = { el: h('button', { type: 'button', class: 'conv-item', 'data-id': s.id }), sig: '' }));
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
    let n = lists.queue.length;
    lists.mine.forEach((s) => { n += s.unread || 0; });
    d.title = (n ? '(' + n + ') ' : '') + 'Kituo console';
  }
  function selectTab(t, focus) {
    tab = t;
    TABS.forEach((x) => {
      el.tabs[x].setAttribute('aria-selected', x === t ? 'true' : 'false');
      el.tabs[x].tabIndex = x === t ? 0 : -1;
    });
    el.list.setAttribute('aria-labelledby', 'tab-' + t);
    el.list.scrollTop = 0;
    if (focus) el.tabs[t].focus();
    renderList();
  }

  // ---- conversation
  function goConversation(id) {
    const target = '#/c/' + enc(id);
    if (w.location.hash !== target) w.location.hash = target;
    else if (cur && cur.id === id) el.input.focus();
    else route();
  }
  function openConversation(id) {
    saveDraft();
    closeTransfer(false);
    hideCanned();
    const known = convs.get(id);
    const token = ++openToken;
    cur = { id: id, token: token, summary: known ? known.s : null, msgs: [], keys: new Set(), loaded: false, buffer: [], handoff: null };
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
    api('POST', convPath(id, 'read')).then((r) => upsert(r && r.conversation), () => { /* best effort */ });
    api('GET', convPath(id)).then((r) => {
      if (!cur || cur.token !== token) return;
      const c = r.conversation && r.conversation.contact;
      const before = known && known.s.contact;
      applyConversation(r);
      if (!before || !c || c.id !== before.id) loadContact(c);
      scrollToEnd();
    }).catch((e) => {
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
    // History across the contact's conversations, oldest first, as the server sent it.
    (r.messages || []).forEach((m) => {
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
    api('GET', convPath(c.id)).then((r) => {
      if (cur !== c) return;
      const stick = nearBottom();
      applyConversation(r);
      if (stick) scrollToEnd();
    }).catch(() => { /* the next action shows the error */ });
  }
  const isMine = (s) => !!(s && s.status === 'assigned' && s.assignee && me && s.assignee.id === me.id);
  function renderHeader() {
    if (!cur) return;
    const s = cur.summary;
    el.title.textContent = s ? contactName(s) : 'Conversation';
    setAvatar(el.avatar, s ? contactName(s) : '', s && s.contact && s.contact.avatar_url);
    clear(el.meta);
    if (s) {
      el.meta.append(channelBadge(s.channel), statusBadge(s.status));
      if ((s.priority || 0) > 0) el.meta.appendChild(badge('Priority ' + (s.priority_name || s.priority), 'prio'));
      const chip = slaChip(s);
      if (chip) el.meta.appendChild(chip);
      const rated = csatBadge(s);
      if (rated) {
        if (s.csat.comment) rated.textContent += ' · “' + str(s.csat.comment) + '”';
        el.meta.appendChild(rated);
      }
      let who = 'Unassigned';
      if (s.assignee) who = 'Assigned to ' + (me && s.assignee.id === me.id ? 'you' : str(s.assignee.name));
      else if (s.status === 'queued') who = 'Unassigned · waiting ' + fmtWait(s);
      else if (s.status === 'bot') who = 'The bot is handling it';
      el.meta.appendChild(sp('meta-who', who));
      if (s.team) el.meta.appendChild(sp('meta-team', 'team ' + s.team));
      el.meta.appendChild(sp('meta-started', 'started ')).appendChild(timeEl(s.created_at, fmtTime(s.created_at)));
    }
    const st = s ? s.status : '';
    const mine = isMine(s);
    el.btn.claim.hidden = !(st === 'queued' || st === 'bot');
    ['transfer', 'unassign', 'resolve', 'handback'].forEach((b) => { el.btn[b].hidden = !mine; });
    el.btn.reopen.hidden = st !== 'resolved';
    if (!mine) closeTransfer(false);
    updateHint();
  }
  function renderHandoff() {
    const ho = cur && cur.handoff;
    const box = el.handoff;
    clear(box);
    box.hidden = !ho;
    if (!ho) return;
    box.appendChild(sp('ho-label', 'Bot handoff'));
    if (ho.summary) box.appendChild(sp('ho-summary', ho.summary));
    if (ho.intent) box.appendChild(badge(ho.intent, 'ho-intent'));
    const slots = ho.slots && typeof ho.slots === 'object' ? ho.slots : {};
    Object.keys(slots).forEach((k) => {
      const v = slots[k];
      if (v === null || v === undefined || v === '') return;
      const chip = sp('ho-slot');
      chip.append(sp('ho-k', k.replace(/_/g, ' ')), sp('ho-v', typeof v === 'object' ? JSON.stringify(v) : String(v)));
      box.appendChild(chip);
    });
    (ho.verified_emails || []).forEach((m) => box.appendChild(badge('✓ ' + m, 'v-ok')));
  }

  // ---- messages
  const keyOf = (m) => m.conversation_id + ':' + m.seq;
  function maxSeq() {
    let n = 0;
    if (cur) cur.msgs.forEach((m) => { if (m.conversation_id === cur.id && m.seq > n) n = m.seq; });
    return n;
  }
  // Inserts by seq among the open conversation's messages; returns 'append',
  // 'insert', or null when it was already there.
  function addMessage(m) {
    if (!m || typeof m.seq !== 'number' || cur.keys.has(keyOf(m))) return null;
    cur.keys.add(keyOf(m));
    const arr = cur.msgs;
    let idx = arr.length;
    if (m.conversation_id === cur.id) {
      for (let i = arr.length - 1; i >= 0; i--) {
        if (arr[i].conversation_id !== cur.id) continue;
        if (arr[i].seq < m.seq) {
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
      const own = cur.msgs.find((x) => x.conversation_id === cur.id);
      const earlier = !own || ms(m.created_at) <= ms(own.created_at);
      text = (earlier ? 'Earlier conversation on ' : 'Other conversation on ') + ch + ' · ' + fmtTime(m.created_at);
    }
    const div = h('div', { class: 'msg-divider', role: 'separator', 'data-conversation': m.conversation_id });
    div.appendChild(sp('', text));
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
    head.appendChild(sp('msg-author', m.author_name || AUTHORS[author]));
    if (cur.summary && m.channel && m.channel !== cur.summary.channel) head.appendChild(channelBadge(m.channel));
    head.appendChild(timeEl(m.created_at, fmtTime(m.created_at), 'msg-time'));
    node.appendChild(head);
    const bubble = h('div', { class: 'msg-bubble' });
    if (m.private) {
      const lab = sp('note-label');
      lab.append(lockIcon(), 'Private note');
      bubble.appendChild(lab);
    }
    bubble.appendChild(h('div', { class: 'msg-text' }, str(m.text)));
    if (Array.isArray(m.attachments) && m.attachments.length) bubble.appendChild(buildFiles(m.attachments));
    node.appendChild(bubble);
    return node;
  }
  // A message's files: images as CSS-sized thumbnails (a click opens the file), PDFs as links.
  function buildFiles(files) {
    const box = h('div', { class: 'msg-files' });
    files.forEach((a) => {
      if (!a || typeof a.url !== 'string' || !/^\/api\/(email\/)?attachments\//.test(a.url)) return;
      const link = h('a', { class: 'msg-file', href: a.url, target: '_blank', rel: 'noopener noreferrer' });
      if (str(a.content_type).indexOf('image/') === 0) {
        link.appendChild(h('img', { class: 'msg-thumb', src: a.url, alt: str(a.name) || 'image', loading: 'lazy' }));
      } else {
        link.textContent = '\ud83d\udcc4 ' + (str(a.name) || 'file');
      }
      box.appendChild(link);
    });
    return box;
  }
  function renderMessages() {
    clear(el.messages);
    if (!cur.msgs.length) el.messages.appendChild(h('p', { class: 'msgs-info' }, 'No messages yet.'));
    cur.msgs.forEach((m, i) => appendMsgNode(m, i));
  }
  function appendMsgNode(m, i) {
    const info = el.messages.querySelector('.msgs-info');
    if (info) info.remove();
    const prev = i > 0 ? cur.msgs[i - 1] : null;
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
    if (where === 'append') appendMsgNode(m, cur.msgs.length - 1);
    else renderMessages();
    if (typing && typing.id === cur.id && m.author === typing.author) {
      typing = null;
      renderTyping();
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
  // The agent is looking at it: keep its unread count at zero.
  function maybeRead() {
    if (!cur || !cur.summary || !(cur.summary.unread > 0) || readTimer) return;
    if (d.visibilityState !== 'visible' || view !== 'inbox') return;
    const id = cur.id;
    readTimer = setTimeout(() => {
      readTimer = 0;
      if (cur && cur.id === id) api('POST', convPath(id, 'read')).then((r) => upsert(r && r.conversation), () => {});
    }, 800);
  }

  // ---- actions
  function act(name, body, btn) {
    if (!cur) return Promise.resolve(null);
    btn.disabled = true;
    return api('POST', convPath(cur.id, name), body).then((r) => {
      upsert(r && r.conversation);
      return r;
    }, (e) => {
      showErr(e);
      if (e.code === 'already_assigned' || e.status === 409) refetchCurrent();
      return null;
    }).then((r) => {
      btn.disabled = false;
      return r;
    });
  }

  // ---- transfer
  function openTransfer() {
    const menu = el.menu;
    menu.hidden = false;
    el.btn.transfer.setAttribute('aria-expanded', 'true');
    clear(menu);
    menu.appendChild(h('p', { class: 'menu-info' }, 'Loading…'));
    Promise.all([api('GET', '/api/agents'), api('GET', '/api/teams')]).then((rs) => {
      if (!menu.hidden) renderTransfer((rs[0] && rs[0].agents) || [], (rs[1] && rs[1].teams) || []);
    }).catch((e) => {
      clear(menu);
      menu.appendChild(h('p', { class: 'menu-info' }, e.message));
    });
  }
  function menuItem(label, extra, onPick) {
    const b = h('button', { type: 'button', role: 'menuitem', tabindex: '-1', class: 'menu-item' });
    b.append(sp('mi-name', label), extra);
    on(b, 'click', onPick);
    el.menu.appendChild(b);
    return b;
  }
  function renderTransfer(agents, teams) {
    const menu = el.menu;
    clear(menu);
    const rank = { online: 0, away: 1, offline: 2 };
    const others = agents.filter((a) => !me || a.id !== me.id);
    others.sort((a, b) => (rank[a.presence] || 0) - (rank[b.presence] || 0) || str(a.name).localeCompare(str(b.name)));
    menu.appendChild(h('p', { class: 'menu-label', role: 'presentation' }, 'Agents'));
    if (!others.length) menu.appendChild(h('p', { class: 'menu-info' }, 'No other agents.'));
    others.forEach((a) => {
      const load = (a.load || 0) + '/' + (a.capacity || 0);
      const b = menuItem(str(a.name), sp('mi-load' + (a.load >= a.capacity ? ' is-full' : ''), load), () => transfer({ agent_id: a.id }, str(a.name)));
      b.classList.add('p-' + str(a.presence));
      b.insertBefore(h('span', { class: 'presence-dot p-' + str(a.presence), title: str(a.presence) }), b.firstChild);
      if (a.teams && a.teams.length) b.appendChild(sp('mi-teams', a.teams.join(', ')));
      b.setAttribute('aria-label', str(a.name) + ', ' + str(a.presence) + ', ' + load + ' conversations');
    });
    menu.appendChild(h('p', { class: 'menu-label', role: 'presentation' }, 'Teams'));
    if (!teams.length) menu.appendChild(h('p', { class: 'menu-info' }, 'No teams.'));
    teams.forEach((t) => {
      menuItem(str(t.name), sp('mi-load', (t.members || 0) + ' member' + (t.members === 1 ? '' : 's')), () => transfer({ team: t.name }, 'team ' + str(t.name)));
    });
    const first = menu.querySelector('.menu-item');
    if (first) first.focus();
  }
  function transfer(body, label) {
    closeTransfer(true);
    act('assign', body, el.btn.transfer).then((r) => { if (r) toast('Transferred to ' + label + '.', 'ok'); });
  }
  function closeTransfer(focus) {
    if (el.menu.hidden) return;
    el.menu.hidden = true;
    el.btn.transfer.setAttribute('aria-expanded', 'false');
    if (focus && !el.btn.transfer.hidden) el.btn.transfer.focus();
  }
  function onMenuKey(e) {
    const items = Array.from(el.menu.querySelectorAll('.menu-item'));
    const i = items.indexOf(d.activeElement);
    const n = items.length;
    const next = { ArrowDown: (i + 1) % n, ArrowUp: (i - 1 + n) % n, Home: 0, End: n - 1 }[e.key];
    if (e.key === 'Escape') {
      e.preventDefault();
      closeTransfer(true);
    } else if (e.key === 'Tab') {
      closeTransfer(false);
    } else if (next !== undefined && items[next]) {
      e.preventDefault();
      items[next].focus();
    }
  }

  // ---- composer
  function saveDraft() {
    if (!cur) return;
    if (el.input.value || noteMode) drafts.set(cur.id, { text: el.input.value, note: noteMode });
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
    if (noteMode) hint = 'Internal note, never sent to the customer.';
    else if (s && (s.status === 'queued' || s.status === 'bot')) hint = 'Claim it to take over from the bot.';
    else if (s && s.status === 'resolved') hint = 'This conversation is resolved.';
    else if (s && s.assignee && !isMine(s)) hint = 'Assigned to ' + str(s.assignee.name) + ' — a private note may be better.';
    el.hint.textContent = hint;
  }
  function autosize() {
    el.input.style.height = 'auto';
    el.input.style.height = Math.min(220, Math.max(44, el.input.scrollHeight + 2)) + 'px';
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
    sending = true;
    el.send.disabled = true;
    api('POST', convPath(id, 'messages'), { text: text, private: noteMode }).then((r) => {
      if (cur && cur.id === id) {
        if (el.input.value.trim() === text) {
          el.input.value = '';
          autosize();
        }
        if (r && r.message) onLiveMessage(r.message, true);
        scrollToEnd();
      }
      const dr = drafts.get(id);
      if (dr && dr.text.trim() === text) drafts.delete(id);
    }).catch(showErr).then(() => {
      sending = false;
      el.send.disabled = false;
    });
  }
  function onInputKey(e) {
    if (!el.canned.hidden) {
      if (cannedItems.length && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
        e.preventDefault();
        moveCanned(e.key === 'ArrowDown' ? 1 : -1);
        return;
      }
      if (cannedItems.length && ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab')) {
        e.preventDefault();
        pickCanned(cannedIdx);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        hideCanned();
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      // "/…" is a canned-response search, never a message: with nothing to pick (none match, none
      // exist, or the list is still loading) Enter sends nothing.
      if (/^\/\S*$/.test(el.input.value)) return;
      submitReply();
    }
  }
  function onInput() {
    autosize();
    updateCanned();
    const v = el.input.value;
    const now = Date.now();
    if (!noteMode && cur && v.trim() && v.charAt(0) !== '/' && now - lastTypingSent >= TYPING_SEND_EVERY) {
      if (send({ type: 'typing', conversation_id: cur.id })) lastTypingSent = now;
    }
  }

  // ---- canned responses
  function loadCanned() {
    if (!cannedLoading) {
      cannedLoading = api('GET', '/api/canned_responses').then((r) => {
        canned = ((r && r.canned_responses) || []).filter((c) => c && c.shortcut && typeof c.text === 'string');
      }, (e) => {
        cannedLoading = null;
        throw e;
      });
    }
    return cannedLoading;
  }
  // "/" at the very start, then a shortcut prefix: shortcuts that start with it first
  // (shortest first), then ones that merely contain it in the shortcut or text.
  function updateCanned() {
    const m = /^\/(\S*)$/.exec(el.input.value);
    if (!m) return hideCanned();
    if (!canned) return void loadCanned().then(updateCanned, showErr);
    const q = m[1].toLowerCase();
    const starts = canned.filter((c) => c.shortcut.toLowerCase().startsWith(q));
    const rest = q ? canned.filter((c) => !c.shortcut.toLowerCase().startsWith(q) && (c.shortcut + ' ' + c.text).toLowerCase().indexOf(q) >= 0) : [];
    cannedItems = starts.sort((a, b) => a.shortcut.length - b.shortcut.length).concat(rest).slice(0, 8);
    cannedIdx = 0;
    const box = el.canned;
    clear(box);
    box.hidden = false;
    el.input.removeAttribute('aria-activedescendant');
    if (!cannedItems.length) {
      box.appendChild(h('p', { class: 'canned-none' }, canned.length ? 'No canned response matches “/' + q + '”.' : 'No canned responses yet.'));
      return;
    }
    cannedItems.forEach((c, i) => {
      const o = h('div', { class: 'canned-opt', role: 'option', id: 'canned-opt-' + i, 'aria-selected': i === 0 ? 'true' : 'false' });
      o.append(sp('canned-sc', '/' + c.shortcut), sp('canned-text', c.text));
      on(o, 'mousedown', (e) => e.preventDefault());
      on(o, 'click', () => pickCanned(i));
      box.appendChild(o);
    });
    el.input.setAttribute('aria-activedescendant', 'canned-opt-0');
  }
  function moveCanned(dir) {
    cannedIdx = (cannedIdx + dir + cannedItems.length) % cannedItems.length;
    each(el.canned.querySelectorAll('.canned-opt'), (o, i) => {
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

  // ---- typing
  function onTyping(f) {
    // The server does not echo our own typing; the name check is a fallback.
    if (!cur || f.conversation_id !== cur.id || (f.author === 'agent' && me && (f.agent_id ? f.agent_id === me.id : f.name === me.name))) return;
    typing = { id: cur.id, name: str(f.name), author: f.author === 'agent' ? 'agent' : 'customer', until: Date.now() + TYPING_SHOW_FOR };
    renderTyping();
    setTimeout(renderTyping, TYPING_SHOW_FOR + 50);
  }
  function renderTyping() {
    const t = cur && typing && typing.id === cur.id && typing.until > Date.now() ? typing : null;
    el.typing.hidden = !t;
    el.typing.textContent = !t ? '' : (t.name || (t.author === 'customer' ? contactName(cur.summary) : 'Another agent')) + ' is typing…';
  }

  // ---- contact panel
  let contactToken = 0;
  function resetContact(text) {
    contactToken++;
    el.cpName.textContent = text || 'Customer';
    el.cpSince.textContent = '';
    setAvatar(el.cpAvatar, '');
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
    setAvatar(el.cpAvatar, contact.name || 'Visitor', contact.avatar_url);
    el.cpIdent.appendChild(h('li', { class: 'muted' }, 'Loading…'));
    api('GET', '/api/contacts/' + enc(contact.id)).then((r) => {
      if (token === contactToken) renderContact(r || {}, contact);
    }, (e) => {
      if (token !== contactToken) return;
      clear(el.cpIdent);
      el.cpIdent.appendChild(h('li', { class: 'cp-error' }, e.message));
    });
  }
  function field(parent, label, value, cls) {
    const f = sp('f ' + (cls || ''));
    f.append(sp('f-k', label), sp('f-v', value));
    parent.appendChild(f);
    return f;
  }
  // A card with a title line (id, status badge, amount) and a line of fields.
  function rowCard(cls, attrs, id, status, statusCls, amount) {
    const row = h('div', Object.assign({ class: cls }, attrs));
    const top = h('div', { class: 'row-top' });
    top.appendChild(sp('row-id', id));
    if (status) top.appendChild(badge(status, statusCls));
    top.appendChild(sp('row-amount', amount));
    row.appendChild(top);
    const info = h('div', { class: 'row-info' });
    row.appendChild(info);
    return { row: row, info: info };
  }
  function listOrEmpty(parent, items, empty, build) {
    clear(parent);
    if (!items.length) parent.appendChild(h('p', { class: 'muted cp-empty' }, empty));
    items.forEach((it) => parent.appendChild(build(it)));
  }
  function renderContact(r, ref) {
    const c = r.contact || {};
    el.cpName.textContent = c.name || ref.name || 'Visitor';
    el.cpSince.textContent = c.created_at ? 'Customer since ' + fmtDate(c.created_at) : '';
    const ids = r.identities || [];
    listOrEmpty(el.cpIdent, ids, 'No identities.', (it) => {
      const li = h('li', { class: 'ident' });
      li.append(sp('ident-kind', CHANNELS[it.kind] || str(it.kind)), h('span', { class: 'ident-value', title: str(it.value) }, str(it.value)));
      const v = VERIFY[it.verification] || [str(it.verification) || 'Unknown', 'v-none'];
      li.appendChild(badge(v[0], v[1]));
      return li;
    });

    const orders = r.orders || [];
    el.cpOrdersCount.textContent = orders.length ? '(' + orders.length + ')' : '';
    listOrEmpty(el.cpOrders, orders, 'No orders.', (o) => {
      const x = rowCard('order-row', { 'data-status': str(o.status) }, str(o.order_number), str(o.status), 'os os-' + str(o.status), str(o.total));
      field(x.info, 'Placed', fmtDate(o.placed_at));
      if (o.shipped_at) field(x.info, 'Shipped', fmtDate(o.shipped_at));
      if (o.carrier || o.tracking_number) {
        const f = field(x.info, str(o.carrier) || 'Tracking', '', 'f-track');
        f.querySelector('.f-v').appendChild(h('code', { class: 'tracking' }, str(o.tracking_number) || '—'));
      }
      (o.requests || []).forEach((q) => {
        const what = str(q.kind) + ' ' + str(q.request_id) + (q.skus && q.skus.length ? ' (' + q.skus.join(', ') + ')' : '');
        field(x.info, 'Request', what + ': ' + str(q.state), 'f-request');
      });
      return x.row;
    });

    const invoices = r.invoices || [];
    el.cpInvoicesCount.textContent = invoices.length ? '(' + invoices.length + ')' : '';
    listOrEmpty(el.cpInvoices, invoices, 'No invoices.', (iv) => {
      const overdue = iv.status === 'overdue' || (iv.status === 'open' && !iv.paid_at && ms(iv.due_at) && ms(iv.due_at) < Date.now());
      const st = overdue ? 'overdue' : str(iv.status);
      const x = rowCard('invoice-row' + (overdue ? ' overdue' : ''), { 'data-status': str(iv.status) }, str(iv.invoice_number), st, 'is is-' + st, str(iv.amount));
      if (iv.order_number) field(x.info, 'Order', str(iv.order_number));
      if (iv.paid_at) field(x.info, 'Paid', fmtDate(iv.paid_at));
      else if (iv.due_at) field(x.info, 'Due', fmtDate(iv.due_at), overdue ? 'f-overdue' : '');
      return x.row;
    });

    const cs = (r.conversations || []).slice().sort((a, b) => ms(b.updated_at || b.created_at) - ms(a.updated_at || a.created_at));
    listOrEmpty(el.cpConvs, cs, 'No conversations.', (c) => {
      const li = h('li');
      const here = !!(cur && cur.id === c.id);
      const b = h('button', { type: 'button', class: 'past-conv' + (here ? ' is-current' : ''), 'aria-current': here ? 'true' : null });
      b.append(channelBadge(c.channel), statusBadge(c.status), timeEl(c.created_at, fmtDate(c.created_at), 'pc-date'));
      if (here) b.appendChild(sp('pc-here', 'open'));
      on(b, 'click', () => {
        setPanelOpen(false);
        goConversation(c.id);
      });
      li.appendChild(b);
      return li;
    });
  }
  function setPanelOpen(on) {
    d.body.classList.toggle('panel-open', !!on);
    el.btnInfo.setAttribute('aria-expanded', on ? 'true' : 'false');
    if (on) el.cpClose.focus();
  }

  // ---- stock
  let stockTimer = 0;
  let stockToken = 0;
  function searchStock() {
    clearTimeout(stockTimer);
    const q = el.stockQ.value.trim();
    const box = el.stockResults;
    const token = ++stockToken;
    if (q.length < 2) return clear(box);
    api('GET', '/api/stock?q=' + enc(q)).then((r) => {
      if (token !== stockToken) return;
      const ps = ((r && r.products) || []).slice(0, 20);
      listOrEmpty(box, ps, 'Nothing matches “' + q + '”.', (p) => {
        const qty = typeof p.quantity_on_hand === 'number' ? p.quantity_on_hand : null;
        const low = qty === null || qty < 5;
        const x = rowCard('stock-row' + (qty === 0 ? ' is-out' : low ? ' is-low' : ''), null, str(p.name), '', '', str(p.price));
        field(x.info, 'SKU', str(p.sku));
        field(x.info, 'In stock', qty === null ? '—' : String(qty), 'f-qty');
        if (p.restock_date && low) field(x.info, 'Restock', fmtDate(p.restock_date));
        return x.row;
      });
    }, (e) => {
      if (token !== stockToken) return;
      clear(box);
      box.appendChild(h('p', { class: 'cp-error' }, e.message));
    });
  }

  // ---- reports
  let reportsToken = 0;
  let reportsData = null;
  function loadReports() {
    const token = ++reportsToken;
    el.repStatus.textContent = 'Loading…';
    api('GET', '/api/reports?days=' + enc(el.repDays.value)).then((r) => {
      if (token !== reportsToken) return;
      reportsData = (r && r.days) || [];
      el.repStatus.textContent = '';
      renderContainment(r || {});
      renderReports();
    }, (e) => {
      if (token === reportsToken) el.repStatus.textContent = e.message;
    });
  }
  // Containment over the whole period: conversations the bot finished alone, actions it did.
  const ACTION_NAMES = { cancel_order: 'orders cancelled', return_refund: 'returns opened', invoice_copy: 'invoice copies sent' };
  function renderContainment(r) {
    const t = r.totals || {};
    const acts = r.bot_actions || {};
    const parts = Object.keys(ACTION_NAMES).map((a) => String((acts[a] || {}).done || 0) + ' ' + ACTION_NAMES[a]);
    el.repActions.textContent = 'Without a person: ' + String(t.bot_resolved || 0) + ' of ' + String(t.conversations || 0) +
      ' conversations; the bot did ' + parts.join(', ') + '.';
  }
  function dayLabel(ds) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(str(ds));
    return m ? shortDate(new Date(+m[1], +m[2] - 1, +m[3])) : str(ds);
  }
  const zero = (date) => ({ date: date, conv: 0, bot: 0, rw: 0, rn: 0 });
  // Sums a day's channels: counts add up, the containment rate is weighted by conversations.
  function addRow(a, r) {
    const n = r.conversations || 0;
    a.conv += n;
    a.bot += r.bot_resolved || 0;
    if (typeof r.containment_rate === 'number' && n > 0) {
      a.rw += r.containment_rate * n;
      a.rn += n;
    }
    return a;
  }
  // One slot per calendar day from the first to the last date, gaps filled with zeros.
  function aggregate(rows) {
    const by = new Map();
    rows.forEach((r) => {
      if (!by.has(r.date)) by.set(r.date, zero(r.date));
      addRow(by.get(r.date), r);
    });
    const keys = Array.from(by.keys()).filter((k) => /^\d{4}-\d{2}-\d{2}$/.test(k)).sort();
    const out = [];
    if (keys.length) {
      const end = Date.parse(keys[keys.length - 1] + 'T00:00:00Z');
      for (let t = Date.parse(keys[0] + 'T00:00:00Z'); t <= end && out.length < 400; t += 864e5) {
        const k = new Date(t).toISOString().slice(0, 10);
        out.push(by.get(k) || zero(k));
      }
    }
    out.forEach((a) => { a.rate = a.rn ? a.rw / a.rn : null; });
    return out;
  }
  function renderReports() {
    const ch = el.repChannel.value;
    const rows = (reportsData || []).filter((r) => r && (!ch || r.channel === ch));
    const days = aggregate(rows);
    el.repChart.__days = days;
    drawChart(el.repChart, days);
    const body = el.repTable.tBodies[0];
    clear(body);
    rows.slice().sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : str(a.channel).localeCompare(str(b.channel)))).forEach((r) => {
      const tr = h('tr');
      tr.appendChild(h('td', null, dayLabel(r.date)));
      tr.appendChild(h('td')).appendChild(channelBadge(r.channel));
      [String(r.conversations || 0), String(r.bot_resolved || 0), pct(r.containment_rate), fmtDuration(r.first_response_avg_s), fmtDuration(r.resolution_avg_s)]
        .forEach((v) => tr.appendChild(h('td', { class: 'num' }, v)));
      body.appendChild(tr);
    });
    if (!rows.length) body.appendChild(h('tr')).appendChild(h('td', { colspan: '7', class: 'muted' }, 'No data for this period.'));
  }
  function niceStep(v) {
    if (v <= 1) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    const n = v / p;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
  }
  // Stacked bars (bot-resolved below, agent-handled above) on the left axis,
  // containment rate as a line on the right axis (0-100 %).
  function drawChart(svg, days) {
    clear(svg);
    const W = Math.max(420, Math.round(svg.getBoundingClientRect().width) || 760);
    const H = 300;
    const L = 44;
    const R = 50;
    const T = 14;
    const B = 34;
    const pw = W - L - R;
    const ph = H - T - B;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    if (!days.length) return void svg.appendChild(sv('text', { x: W / 2, y: H / 2, class: 'ax-empty', 'text-anchor': 'middle' }, 'No data for this period'));
    const step = niceStep(Math.max(1, days.reduce((m, a) => Math.max(m, a.conv), 0)) / 4);
    const y = (v) => T + ph - (v / (step * 4)) * ph;
    const yr = (r) => T + ph - Math.max(0, Math.min(1, r)) * ph;
    const slot = pw / days.length;
    const bw = Math.max(2, Math.min(40, slot * 0.62));
    for (let i = 0; i <= 4; i++) {
      const gy = y(step * i);
      svg.append(
        sv('line', { x1: L, x2: W - R, y1: gy, y2: gy, class: i ? 'ax-grid' : 'ax-base' }),
        sv('text', { x: L - 6, y: gy + 4, 'text-anchor': 'end' }, String(step * i)),
        sv('text', { x: W - R + 6, y: gy + 4, class: 'ax-rate' }, i * 25 + '%')
      );
    }
    const every = Math.ceil(days.length / Math.max(2, Math.floor(pw / 64)));
    let path = '';
    let prev = false;
    const dots = [];
    days.forEach((a, i) => {
      const cx = L + slot * (i + 0.5);
      const bot = Math.min(a.bot, a.conv);
      const human = a.conv - bot;
      const g = sv('g', { class: 'bar' });
      g.append(
        sv('title', {}, dayLabel(a.date) + ': ' + a.conv + ' conversations, ' + bot + ' resolved by the bot, ' + human + ' needed an agent' + (a.rate !== null ? ', containment ' + pct(a.rate) : '')),
        sv('rect', { x: cx - slot / 2, y: T, width: slot, height: ph, class: 'bar-hit' })
      );
      if (bot > 0) g.appendChild(sv('rect', { x: cx - bw / 2, y: y(bot), width: bw, height: y(0) - y(bot), class: 'bar-bot' }));
      if (human > 0) g.appendChild(sv('rect', { x: cx - bw / 2, y: y(a.conv), width: bw, height: y(bot) - y(a.conv), class: 'bar-human' }));
      svg.appendChild(g);
      if (i % every === 0 || i === days.length - 1) svg.appendChild(sv('text', { x: cx, y: H - B + 18, 'text-anchor': 'middle' }, dayLabel(a.date)));
      if (a.rate === null) {
        prev = false;
        return;
      }
      path += (prev ? 'L' : 'M') + cx.toFixed(1) + ' ' + yr(a.rate).toFixed(1);
      prev = true;
      const c = sv('circle', { cx: cx.toFixed(1), cy: yr(a.rate).toFixed(1), r: 3.5, class: 'rate-dot' });
      c.appendChild(sv('title', {}, dayLabel(a.date) + ': containment ' + pct(a.rate)));
      dots.push(c);
    });
    if (path) svg.appendChild(sv('path', { d: path, class: 'rate-line' }));
    dots.forEach((c) => svg.appendChild(c));
  }

  // ---- socket
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
    if (stopped || (ws && ws.readyState <= 1)) return;
    setConn('connecting', attempt ? 'Reconnecting…' : 'Connecting…');
    let sock;
    try {
      sock = new WebSocket(WS_URL);
    } catch (e) {
      return scheduleReconnect();
    }
    ws = sock;
    wsReady = false;
    sock.onopen = () => {
      if (ws !== sock) return;
      clearTimeout(helloTimer);
      helloTimer = setTimeout(() => {
        if (ws === sock && !wsReady) sock.close(4000, 'no hello');
      }, HELLO_WAIT);
    };
    sock.onmessage = (ev) => {
      if (ws !== sock || typeof ev.data !== 'string') return;
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (f && typeof f.type === 'string') handleFrame(f);
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      clearTimeout(helloTimer);
      const hadHello = wsReady;
      ws = null;
      wsReady = false;
      if (stopped) return;
      // Refused before hello: perhaps the session expired (api() goes to the login page on 401).
      if (!hadHello) api('GET', '/api/me').catch((e) => { if (e.status === 401) toLogin(); });
      scheduleReconnect();
    };
  }
  // 0.5 s doubling to 15 s, ±30 % jitter.
  function scheduleReconnect() {
    if (reconnectTimer || stopped) return;
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    attempt = Math.min(attempt + 1, 30);
    const delay = Math.min(BACKOFF_MAX, Math.round(base * (0.7 + Math.random() * 0.6)));
    setConn('down', 'Reconnecting in ' + Math.max(1, Math.round(delay / 1000)) + ' s');
    reconnectTimer = setTimeout(connect, delay);
  }
  function reconnectNow() {
    if (stopped || (ws && ws.readyState <= 1)) return;
    attempt = 0;
    connect();
  }
  function stopSocket() {
    stopped = true;
    clearTimeout(reconnectTimer);
    if (ws) ws.close(1000, 'bye');
    ws = null;
  }
  function sendResume() {
    if (cur && cur.loaded) send({ type: 'resume', conversation_id: cur.id, after_seq: maxSeq() });
  }
  function handleFrame(f) {
    // console-tools.js (notifications) listens to every frame.
    d.dispatchEvent(new CustomEvent('kituo:frame', { detail: f }));
    if (f.type === 'hello') {
      // After every (re)connect: re-read the lists and catch up the open conversation.
      clearTimeout(helloTimer);
      clearTimeout(listsFallback);
      wsReady = true;
      attempt = 0;
      setConn('live', 'Live');
      refreshLists();
      sendResume();
    } else if (f.type === 'conversation') {
      upsert(f.conversation);
    } else if (f.type === 'message') {
      onLiveMessage(f.message, false);
    } else if (f.type === 'typing') {
      onTyping(f);
    } else if (f.type === 'presence') {
      if (me && f.agent_id === me.id && f.presence) showPresence(f.presence);
    } else if (f.type === 'error') {
      toast(f.message || 'Error: ' + str(f.code), 'error');
    }
  }

  // ---- me / header
  function showPresence(p) {
    if (me) me.presence = p;
    el.presence.value = p;
    el.presenceDot.className = 'presence-dot p-' + p;
  }
  function renderMe() {
    el.agentName.textContent = str(me.name) || str(me.email);
    el.agentName.title = [me.email, me.role].concat(me.teams || []).join(' · ');
    showPresence(me.presence || 'online');
  }
  function onPresenceChange() {
    const want = el.presence.value;
    const was = me.presence;
    el.presence.disabled = true;
    api('PUT', '/api/me/presence', { presence: want }).then((r) => showPresence((r && r.presence) || want), (e) => {
      showPresence(was);
      showErr(e);
    }).then(() => { el.presence.disabled = false; });
  }
  function logout() {
    el.logout.disabled = true;
    api('POST', '/api/logout').catch(() => {}).then(() => {
      leaving = true;
      stopSocket();
      w.location.replace('/login');
    });
  }

  // ---- routing
  // #/ inbox, #/c/ID inbox with a conversation open, #/reports the reports view.
  function route() {
    const hs = w.location.hash;
    view = hs === '#/reports' ? 'reports' : 'inbox';
    el.inbox.hidden = view !== 'inbox';
    el.reports.hidden = view !== 'reports';
    el.navInbox.setAttribute('aria-current', view === 'inbox' ? 'page' : 'false');
    el.navReports.setAttribute('aria-current', view === 'reports' ? 'page' : 'false');
    if (view === 'reports') return loadReports();
    const m = /^#\/c\/(.+)$/.exec(hs);
    let id = null;
    try {
      id = m ? decodeURIComponent(m[1]) : null;
    } catch (e) { /* bad hash */ }
    if (id && (!cur || cur.id !== id)) openConversation(id);
    // On a phone one column shows at a time: the list, or the conversation the route names.
    d.body.classList.toggle('conv-open', !!id);
    maybeRead();
  }

  // ---- boot
  // Element ids, each bound to el.<camelCase id> or to the alias after a colon.
  const IDS = 'conn conn-text agent-name presence presence-dot logout nav-inbox nav-reports inbox reports conv-list:list conv-empty:empty ' +
    'conv-main:main conv-title:title conv-meta:meta conv-avatar:avatar btn-info transfer-menu:menu handoff messages new-below typing composer ' +
    'note-toggle composer-hint:hint canned reply-input:input reply-label reply-send:send cp-avatar cp-name cp-since cp-identities:cpIdent ' +
    'cp-orders cp-orders-count cp-invoices cp-invoices-count cp-conversations:cpConvs cp-refresh cp-close stock-form stock-q stock-results ' +
    'reports-days:repDays reports-channel:repChannel reports-status:repStatus reports-actions:repActions reports-chart:repChart reports-table:repTable';
  function bind() {
    IDS.split(' ').forEach((spec) => {
      const p = spec.split(':');
      el[p[1] || p[0].replace(/-(\w)/g, (x, c) => c.toUpperCase())] = $(p[0]);
    });
    el.tabs = {};
    TABS.forEach((t) => { el.tabs[t] = $('tab-' + t); });
    el.btn = {};
    ['claim', 'transfer', 'unassign', 'resolve', 'reopen', 'handback'].forEach((b) => { el.btn[b] = $('btn-' + b); });

    TABS.forEach((t, i) => {
      on(el.tabs[t], 'click', () => selectTab(t, false));
      on(el.tabs[t], 'keydown', (e) => {
        const n = TABS.length;
        const j = { ArrowRight: (i + 1) % n, ArrowLeft: (i + n - 1) % n, Home: 0, End: n - 1 }[e.key];
        if (j === undefined) return;
        e.preventDefault();
        selectTab(TABS[j], true);
      });
    });
    on(el.list, 'click', (e) => {
      const item = e.target.closest('.conv-item');
      if (item) goConversation(item.getAttribute('data-id'));
    });

    const simple = (name) => () => act(name, null, el.btn[name]);
    on(el.btn.claim, 'click', () => act('claim', null, el.btn.claim).then((r) => { if (r) el.input.focus(); }));
    on(el.btn.resolve, 'click', () => act('resolve', null, el.btn.resolve).then((r) => { if (r) toast('Resolved.', 'ok'); }));
    ['unassign', 'reopen', 'handback'].forEach((b) => on(el.btn[b], 'click', simple(b)));
    on(el.btn.transfer, 'click', () => (el.menu.hidden ? openTransfer() : closeTransfer(true)));
    on(el.btn.transfer, 'keydown', (e) => {
      if (e.key !== 'ArrowDown' || !el.menu.hidden) return;
      e.preventDefault();
      openTransfer();
    });
    on(el.menu, 'keydown', onMenuKey);
    on(d, 'click', (e) => {
      if (!el.menu.hidden && !e.target.closest('.menu-wrap')) closeTransfer(false);
      if (!el.canned.hidden && e.target !== el.input && !e.target.closest('#canned')) hideCanned();
    });
    on(el.btnInfo, 'click', () => setPanelOpen(!d.body.classList.contains('panel-open')));
    on($('btn-back'), 'click', () => { w.location.hash = '#/'; });
    on(el.cpClose, 'click', () => {
      setPanelOpen(false);
      el.btnInfo.focus();
    });
    on(el.cpRefresh, 'click', () => {
      if (cur && cur.summary) loadContact(cur.summary.contact);
    });

    on(el.composer, 'submit', (e) => {
      e.preventDefault();
      submitReply();
    });
    on(el.input, 'keydown', onInputKey);
    on(el.input, 'input', onInput);
    on(el.input, 'blur', saveDraft);
    on(el.noteToggle, 'click', () => {
      setNoteMode(!noteMode);
      saveDraft();
      el.input.focus();
    });
    on(el.newBelow, 'click', scrollToEnd);
    on(el.messages, 'scroll', () => {
      if (!el.newBelow.hidden && nearBottom()) el.newBelow.hidden = true;
    });

    on(el.stockForm, 'submit', (e) => {
      e.preventDefault();
      searchStock();
    });
    on(el.stockQ, 'input', () => {
      clearTimeout(stockTimer);
      stockTimer = setTimeout(searchStock, 300);
    });

    on(el.presence, 'change', onPresenceChange);
    on(el.logout, 'click', logout);
    on(el.repDays, 'change', loadReports);
    on(el.repChannel, 'change', () => { if (reportsData) renderReports(); });
    let resizeTimer = 0;
    on(w, 'resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (view === 'reports' && el.repChart.__days) drawChart(el.repChart, el.repChart.__days); }, 150);
    });

    on(w, 'hashchange', route);
    on(d, 'keydown', (e) => {
      if (e.key === 'Escape' && d.body.classList.contains('panel-open')) setPanelOpen(false);
    });
    on(w, 'online', reconnectNow);
    // After a network change the old socket is usually dead; drop it so 'online' reconnects at once.
    on(w, 'offline', () => { if (ws) ws.close(); });
    on(d, 'visibilitychange', () => {
      if (d.visibilityState !== 'visible') return;
      reconnectNow();
      maybeRead();
      scheduleList();
    });
    on(w, 'pageshow', (e) => { if (e.persisted) reconnectNow(); });
    setInterval(() => {
      if (d.visibilityState !== 'visible') return;
      scheduleList();
      if (cur && cur.summary && (cur.summary.status === 'queued' || cur.summary.sla)) renderHeader();
    }, TICK_EVERY);
  }

  function boot() {
    bind();
    setNoteMode(false);
    loadMe().then(() => {
      d.body.classList.remove('is-booting');
      renderMe();
      route();
      connect();
      listsFallback = setTimeout(refreshLists, LISTS_FALLBACK);
    }).catch((e) => {
      if (e.status === 401) return toLogin();
      d.body.classList.remove('is-booting');
      setConn('down', 'Offline');
      el.list.textContent = 'Could not load the console (' + e.message + '). Reload the page to try again.';
    });
  }

  if (d.readyState === 'loading') on(d, 'DOMContentLoaded', boot);
  else boot();
})();
