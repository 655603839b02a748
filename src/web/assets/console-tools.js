/*
 * Kituo console tools, loaded after /console.js: search (Ctrl+K or s), filters and saved views;
 * desktop notifications and an optional sound; keyboard shortcuts (j/k, r, n, e, a, ?).
 * Works through the page (the list's items, the toolbar buttons, the #/c/ID route), the JSON
 * API (through console.js's window.kituoConsole.api), and the 'kituo:frame' events console.js
 * dispatches for every live socket frame.
 * User data only reaches the page through textContent, never innerHTML.
 */
(function () {
  'use strict';

  const w = window;
  const d = document;
  const $ = (id) => d.getElementById(id);
  const str = (v) => (v === null || v === undefined ? '' : String(v));
  const on = (node, ev, fn) => node.addEventListener(ev, fn);
  function h(tag, attrs, text) {
    const n = d.createElement(tag);
    Object.keys(attrs || {}).forEach((k) => {
      if (attrs[k] !== null && attrs[k] !== undefined) n.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  function clear(n) {
    while (n.firstChild) n.removeChild(n.firstChild);
  }
  const CHANNELS = { web: 'Web', email: 'Email', discord: 'Discord' };
  const STATUS = { bot: 'Bot', queued: 'Queued', assigned: 'Assigned', resolved: 'Resolved' };
  const FILTERS = ['status', 'channel', 'label', 'assignee'];
  const SHORTCUTS = [
    ['Ctrl+K or s', 'Search conversations'],
    ['j / k', 'Next / previous conversation in the list'],
    ['r', 'Reply to the customer'],
    ['n', 'Write a private note'],
    ['e', 'Resolve the conversation'],
    ['a', 'Assign: transfer (or claim it if it waits)'],
    ['?', 'Show these shortcuts'],
    ['Esc', 'Close a panel']
  ];

  // ---- API: console.js's (session, CSRF token, the login page on 401)
  let me = null;
  const api = (method, path, body) => w.kituoConsole.api(method, path, body);

  // ---- dialogs
  let openDialog = null;
  let returnFocus = null;
  function dialog(id, label) {
    const box = h('div', { id: id, class: 'tool-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-label': label, hidden: '' });
    const head = h('div', { class: 'tool-head' });
    head.appendChild(h('h2', null, label));
    const x = h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Close' }, '×');
    on(x, 'click', closeDialog);
    head.appendChild(x);
    box.appendChild(head);
    d.body.appendChild(box);
    return box;
  }
  function showDialog(box, focus) {
    if (openDialog && openDialog !== box) openDialog.hidden = true;
    if (!openDialog) returnFocus = d.activeElement;
    openDialog = box;
    box.hidden = false;
    d.body.classList.add('tool-open');
    if (focus) focus.focus();
  }
  function closeDialog() {
    if (!openDialog) return;
    openDialog.hidden = true;
    openDialog = null;
    d.body.classList.remove('tool-open');
    if (returnFocus && returnFocus.focus) returnFocus.focus();
    returnFocus = null;
  }

  // ---- search
  const ui = {};
  let searchSeq = 0;
  let searchTimer = 0;
  function select(id, label, options) {
    const wrap = h('label', { class: 'tool-field', for: id });
    wrap.appendChild(h('span', null, label));
    const s = h('select', { id: id });
    options.forEach((o) => s.appendChild(h('option', { value: o[0] }, o[1])));
    wrap.appendChild(s);
    return [wrap, s];
  }
  function buildSearch() {
    const box = dialog('search-panel', 'Search conversations');
    const form = h('form', { class: 'tool-search', role: 'search', autocomplete: 'off' });
    ui.q = h('input', { id: 'search-q', type: 'search', placeholder: 'Words, an email, an order number…', 'aria-label': 'Search text', maxlength: '200' });
    form.appendChild(ui.q);
    const filters = h('div', { class: 'tool-filters' });
    const statuses = [['', 'Any status'], ['open', 'Open']].concat(Object.keys(STATUS).map((k) => [k, STATUS[k]]));
    const channels = [['', 'Any channel']].concat(Object.keys(CHANNELS).map((k) => [k, CHANNELS[k]]));
    [['status', 'Status', statuses], ['channel', 'Channel', channels], ['label', 'Label', [['', 'Any label']]],
      ['assignee', 'Assignee', [['', 'Anyone'], ['me', 'Me'], ['none', 'Unassigned']]]].forEach((f) => {
      const pair = select('search-' + f[0], f[1], f[2]);
      ui[f[0]] = pair[1];
      filters.appendChild(pair[0]);
      on(pair[1], 'change', runSearch);
    });
    form.appendChild(filters);
    on(form, 'submit', (e) => {
      e.preventDefault();
      runSearch();
    });
    on(ui.q, 'input', () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(runSearch, 250);
    });
    box.appendChild(form);

    const views = h('div', { class: 'tool-views' });
    views.appendChild(h('span', { class: 'tool-views-label' }, 'Saved views'));
    ui.views = h('div', { id: 'search-views', class: 'tool-view-list' });
    views.appendChild(ui.views);
    const save = h('form', { class: 'tool-save', autocomplete: 'off' });
    ui.viewName = h('input', { id: 'view-name', type: 'text', placeholder: 'Name this search', 'aria-label': 'View name', maxlength: '60' });
    save.append(ui.viewName, h('button', { type: 'submit', id: 'view-save', class: 'btn' }, 'Save view'));
    on(save, 'submit', (e) => {
      e.preventDefault();
      saveView();
    });
    views.appendChild(save);
    box.appendChild(views);

    ui.status = h('p', { id: 'search-status', class: 'tool-status', role: 'status' });
    box.appendChild(ui.status);
    ui.results = h('div', { id: 'search-results', class: 'tool-results', role: 'listbox', 'aria-label': 'Results' });
    on(ui.results, 'click', (e) => {
      const item = e.target.closest('.sr-item');
      if (item) pick(item.getAttribute('data-id'));
    });
    on(box, 'keydown', onSearchKey);
    box.appendChild(ui.results);
    ui.box = box;
  }
  function fillFilterOptions() {
    api('GET', '/api/labels').then((r) => {
      ((r && r.labels) || []).forEach((l) => ui.label.appendChild(h('option', { value: l.name }, l.name)));
    }, () => {});
    api('GET', '/api/agents').then((r) => {
      ((r && r.agents) || []).forEach((a) => { if (!me || a.id !== me.id) ui.assignee.appendChild(h('option', { value: a.id }, str(a.name))); });
    }, () => {});
  }
  function openSearch() {
    showDialog(ui.box, ui.q);
    ui.q.select();
    loadViews();
    runSearch();
  }
  function params() {
    const p = new URLSearchParams();
    if (ui.q.value.trim()) p.set('q', ui.q.value.trim());
    FILTERS.forEach((f) => { if (ui[f].value) p.set(f, ui[f].value); });
    return p;
  }
  function runSearch() {
    clearTimeout(searchTimer);
    const p = params();
    if (!p.has('q') && !FILTERS.some((f) => p.has(f))) p.set('status', 'open');
    const seq = ++searchSeq;
    ui.status.textContent = 'Searching…';
    ui.results.setAttribute('aria-busy', 'true');
    api('GET', '/api/conversations?' + p.toString()).then((r) => {
      if (seq !== searchSeq) return;
      renderResults((r && r.conversations) || [], p.has('q'));
    }, (e) => {
      if (seq !== searchSeq) return;
      clear(ui.results);
      ui.results.setAttribute('aria-busy', 'false');
      ui.status.textContent = e.message;
    });
  }
  // The snippet as text nodes with <mark> around the ranges the server found (code points).
  function snippetNode(search) {
    const p = h('p', { class: 'sr-snippet' });
    const chars = Array.from(str(search.snippet));
    let at = 0;
    (search.highlights || []).forEach((r) => {
      const a = Math.max(at, r[0] | 0);
      const b = Math.min(chars.length, r[1] | 0);
      if (b <= a) return;
      p.appendChild(d.createTextNode(chars.slice(at, a).join('')));
      p.appendChild(h('mark', null, chars.slice(a, b).join('')));
      at = b;
    });
    p.appendChild(d.createTextNode(chars.slice(at).join('')));
    return p;
  }
  function renderResults(list, searched) {
    clear(ui.results);
    ui.results.setAttribute('aria-busy', 'false');
    ui.status.textContent = list.length ? list.length + (list.length === 1 ? ' conversation' : ' conversations') : 'Nothing found.';
    list.forEach((c) => {
      const item = h('button', { type: 'button', class: 'sr-item', role: 'option', 'data-id': c.id });
      const top = h('span', { class: 'sr-top' });
      top.append(h('span', { class: 'sr-name' }, (c.contact && c.contact.name) || (c.contact && c.contact.email) || 'Visitor'),
        h('span', { class: 'badge ch ch-' + (CHANNELS[c.channel] ? c.channel : 'other') }, CHANNELS[c.channel] || str(c.channel)),
        h('span', { class: 'badge st st-' + (STATUS[c.status] ? c.status : 'other') }, STATUS[c.status] || str(c.status)));
      (c.labels || []).forEach((l) => top.appendChild(h('span', { class: 'ci-label' }, str(l))));
      item.appendChild(top);
      if (searched && c.search) item.appendChild(snippetNode(c.search));
      else if (c.last_message) item.appendChild(h('p', { class: 'sr-snippet' }, str(c.last_message.text)));
      ui.results.appendChild(item);
    });
  }
  function pick(id) {
    closeDialog();
    w.location.hash = '#/c/' + encodeURIComponent(id);
  }
  function onSearchKey(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      closeDialog();
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const items = Array.from(ui.results.querySelectorAll('.sr-item'));
    if (!items.length) return;
    e.preventDefault();
    const i = items.indexOf(d.activeElement);
    const next = e.key === 'ArrowDown' ? Math.min(items.length - 1, i + 1) : i - 1;
    if (next < 0) ui.q.focus();
    else items[next].focus();
  }

  // ---- saved views
  function loadViews() {
    api('GET', '/api/views').then((r) => renderViews((r && r.views) || []), () => {});
  }
  function renderViews(views) {
    clear(ui.views);
    if (!views.length) ui.views.appendChild(h('span', { class: 'muted' }, 'None yet.'));
    views.forEach((v) => {
      const chip = h('span', { class: 'view-chip' });
      const open = h('button', { type: 'button', class: 'view-open', 'data-view': v.id }, str(v.name));
      on(open, 'click', () => applyView(v));
      const del = h('button', { type: 'button', class: 'view-del', 'aria-label': 'Delete view ' + str(v.name) }, '×');
      on(del, 'click', () => api('DELETE', '/api/views/' + encodeURIComponent(v.id)).then(loadViews, showError));
      chip.append(open, del);
      ui.views.appendChild(chip);
    });
  }
  function applyView(v) {
    ui.q.value = str(v.q);
    const f = v.filters || {};
    FILTERS.forEach((k) => {
      const want = str(f[k]);
      if (want && !Array.from(ui[k].options).some((o) => o.value === want)) ui[k].appendChild(h('option', { value: want }, want));
      ui[k].value = want;
    });
    runSearch();
  }
  function saveView() {
    const name = ui.viewName.value.trim();
    if (!name) return ui.viewName.focus();
    const filters = {};
    FILTERS.forEach((f) => { if (ui[f].value) filters[f] = ui[f].value; });
    api('POST', '/api/views', { name: name, q: ui.q.value.trim(), filters: filters }).then(() => {
      ui.viewName.value = '';
      loadViews();
    }, showError);
  }
  function showError(e) {
    ui.status.textContent = (e && e.message) || 'Something went wrong';
  }

  // ---- notifications
  let prefs = { assigned_to_me: true, customer_message: true, new_in_queue: true, sound: false };
  const PREF_LABELS = [
    ['assigned_to_me', 'A conversation is assigned to me'],
    ['customer_message', 'A customer writes in one of my conversations'],
    ['new_in_queue', 'A new conversation joins the queue'],
    ['sound', 'Play a sound']
  ];
  const known = new Map(); // conversation id -> {status, mine}
  let audio = null;
  function buildNotify() {
    const box = dialog('notify-panel', 'Notifications');
    ui.perm = h('p', { id: 'notify-permission', class: 'tool-status' });
    box.appendChild(ui.perm);
    ui.enable = h('button', { type: 'button', id: 'notify-enable', class: 'btn btn-primary' }, 'Enable desktop notifications');
    // Permission is asked from this click: browsers ignore requests made without a gesture.
    on(ui.enable, 'click', () => {
      unlockAudio();
      if (!('Notification' in w)) return showPermission();
      Promise.resolve(w.Notification.requestPermission()).then(showPermission, showPermission);
    });
    box.appendChild(ui.enable);
    const list = h('div', { class: 'tool-prefs' });
    ui.prefs = {};
    PREF_LABELS.forEach((p) => {
      const row = h('label', { class: 'tool-pref' });
      const box2 = h('input', { type: 'checkbox', id: 'pref-' + p[0] });
      on(box2, 'change', () => savePref(p[0], box2.checked));
      row.append(box2, h('span', null, p[1]));
      ui.prefs[p[0]] = box2;
      list.appendChild(row);
    });
    box.appendChild(list);
    on(box, 'keydown', (e) => { if (e.key === 'Escape') closeDialog(); });
    ui.notify = box;
  }
  function showPermission() {
    const p = 'Notification' in w ? w.Notification.permission : 'unsupported';
    ui.perm.textContent = p === 'granted' ? 'Desktop notifications are on for this browser.'
      : p === 'denied' ? 'This browser blocks notifications from Kituo; allow them in its site settings.'
        : p === 'unsupported' ? 'This browser cannot show desktop notifications.' : 'Desktop notifications are off for this browser.';
    ui.enable.hidden = p === 'granted' || p === 'unsupported';
  }
  function showPrefs() {
    Object.keys(ui.prefs).forEach((k) => { ui.prefs[k].checked = !!prefs[k]; });
  }
  function savePref(key, value) {
    if (key === 'sound' && value) unlockAudio();
    const body = {};
    body[key] = value;
    api('PUT', '/api/me/notifications', body).then((r) => {
      prefs = (r && r.notifications) || prefs;
      showPrefs();
    }, (e) => {
      ui.perm.textContent = e.message;
      showPrefs();
    });
  }
  function openNotify() {
    showPermission();
    showPrefs();
    showDialog(ui.notify, ui.enable.hidden ? ui.prefs.assigned_to_me : ui.enable);
  }
  // An AudioContext may only start after a user gesture: made on the first click.
  function unlockAudio() {
    if (audio || !(w.AudioContext || w.webkitAudioContext)) return;
    try {
      audio = new (w.AudioContext || w.webkitAudioContext)();
    } catch (e) {
      audio = null;
    }
  }
  function beep() {
    if (!audio) return;
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.08, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.35);
  }
  // Not for what the agent is looking at right now.
  const watching = (id) => d.hasFocus() && d.visibilityState === 'visible' && w.location.hash === '#/c/' + encodeURIComponent(id);
  function notify(kind, id, title, body) {
    if (!prefs[kind] || watching(id)) return;
    if (prefs.sound) beep();
    if (!('Notification' in w) || w.Notification.permission !== 'granted') return;
    try {
      const n = new w.Notification(title, { body: body, tag: kind + ':' + id });
      n.onclick = () => {
        w.focus();
        w.location.hash = '#/c/' + encodeURIComponent(id);
        n.close();
      };
    } catch (e) { /* some browsers only notify from a service worker */ }
  }
  const who = (c) => (c && c.contact && (c.contact.name || c.contact.email)) || 'a visitor';
  function onConversation(c) {
    if (!c || !c.id) return;
    const mine = !!(me && c.status === 'assigned' && c.assignee && c.assignee.id === me.id);
    const before = known.get(c.id);
    known.set(c.id, { status: c.status, mine: mine });
    if (mine && !(before && before.mine)) notify('assigned_to_me', c.id, 'Assigned to you: ' + who(c), (c.last_message && c.last_message.text) || '');
    else if (c.status === 'queued' && !(before && before.status === 'queued')) notify('new_in_queue', c.id, 'New conversation in the queue', who(c));
  }
  function onMessage(m) {
    if (!m || m.author !== 'customer' || m.private) return;
    const k = known.get(m.conversation_id);
    if (k && k.mine) notify('customer_message', m.conversation_id, 'New message from ' + str(m.author_name || 'the customer'), str(m.text));
  }
  // What is already mine or queued when the console opens is not news.
  function seedKnown() {
    return Promise.all(['status=queued', 'status=open&assignee=me'].map((q) => api('GET', '/api/conversations?' + q)))
      .then((rs) => rs.forEach((r) => ((r && r.conversations) || []).forEach((c) => {
        known.set(c.id, { status: c.status, mine: !!(me && c.assignee && c.assignee.id === me.id && c.status === 'assigned') });
      })), () => {});
  }

  // ---- shortcuts
  function typingIn(t) {
    return !!t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  const visible = (id) => { const b = $(id); return b && !b.hidden ? b : null; };
  function step(dir) {
    const items = Array.from(d.querySelectorAll('#conv-list .conv-item'));
    if (!items.length) return;
    const i = items.findIndex((x) => x.classList.contains('is-active'));
    const next = items[i < 0 ? (dir > 0 ? 0 : items.length - 1) : Math.max(0, Math.min(items.length - 1, i + dir))];
    next.scrollIntoView({ block: 'nearest' });
    next.click();
  }
  function compose(note) {
    const input = visible('conv-main') && $('reply-input');
    if (!input) return;
    const isNote = $('composer').classList.contains('is-note');
    if (isNote !== note) $('note-toggle').click();
    input.focus();
  }
  function onKey(e) {
    const k = e.key;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (k === 'k' || k === 'K')) {
      e.preventDefault();
      return openDialog === ui.box ? closeDialog() : openSearch();
    }
    if (k === 'Escape' && openDialog) return closeDialog();
    if (e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target) || openDialog) return;
    const acts = {
      s: openSearch,
      j: () => step(1),
      k: () => step(-1),
      r: () => compose(false),
      n: () => compose(true),
      e: () => { const b = visible('btn-resolve'); if (b) b.click(); },
      a: () => { const b = visible('btn-transfer') || visible('btn-claim'); if (b) b.click(); },
      '?': () => showDialog(ui.help, ui.help.querySelector('button'))
    };
    if (!acts[k]) return;
    e.preventDefault();
    acts[k]();
  }
  function buildHelp() {
    const box = dialog('shortcuts-help', 'Keyboard shortcuts');
    const dl = h('dl', { class: 'tool-keys' });
    SHORTCUTS.forEach((s) => dl.append(h('dt', null, s[0]), h('dd', null, s[1])));
    box.appendChild(dl);
    box.appendChild(h('p', { class: 'muted' }, 'Shortcuts work while you are not typing in a box.'));
    on(box, 'keydown', (e) => { if (e.key === 'Escape') closeDialog(); });
    ui.help = box;
  }

  // ---- boot
  function topButton(id, label, title, fn) {
    const b = h('button', { type: 'button', id: id, class: 'btn btn-ghost-light', title: title }, label);
    on(b, 'click', fn);
    const right = d.querySelector('.topbar-right');
    if (right) right.insertBefore(b, right.firstChild);
  }
  function boot() {
    buildSearch();
    buildNotify();
    buildHelp();
    topButton('notify-open', 'Notifications', 'Desktop notifications and sound', openNotify);
    topButton('search-open', 'Search', 'Search conversations (Ctrl+K or s)', openSearch);
    on(d, 'keydown', onKey);
    on(d, 'click', unlockAudio, { once: true });
    on(d, 'kituo:frame', (e) => {
      const f = e.detail || {};
      if (f.type === 'conversation') onConversation(f.conversation);
      else if (f.type === 'message') onMessage(f.message);
    });
    api('GET', '/api/me').then((r) => {
      me = r.agent;
      fillFilterOptions();
      seedKnown();
      return api('GET', '/api/me/notifications');
    }).then((r) => {
      prefs = (r && r.notifications) || prefs;
    }, () => {});
  }

  if (d.readyState === 'loading') on(d, 'DOMContentLoaded', boot);
  else boot();
})();
