/*
 * Kituo admin pages, served at /admin together with /admin.css.
 * Plain ES2019, no dependencies, no build step. Talks to the JSON API under /api/admin
 * (and /api/me, /api/teams, /api/canned_responses). User data only ever reaches the page
 * through textContent / setAttribute / .value, never innerHTML.
 */
(function () {
  'use strict';

  const w = window;
  const d = document;

  // ---- config
  const LOGIN_URL = '/login?next=/admin';
  const TOAST_FOR = 6000;
  const VALIDATE_DELAY = 400;
  const LOCALES = ['en', 'sw'];
  const LOCALE_NAMES = { en: 'English', sw: 'Kiswahili' };
  const VIEWS = ['intents', 'history', 'io', 'agents', 'canned', 'settings', 'tokens', 'audit'];
  const PRESENCE = { online: 'Online', away: 'Away', offline: 'Offline' };
  // Template variables each action renders with (a hint, not a contract).
  const VARS = {
    reply: ['customer_name'],
    order_status: ['order.number', 'order.status', 'order.placed_at', 'order.shipped_at', 'order.carrier', 'order.tracking_number', 'order.total'],
    invoice_status: ['invoice.number', 'invoice.status', 'invoice.amount', 'invoice.issued_at', 'invoice.due_at', 'invoice.paid_at', 'invoice.order_number'],
    stock_check: ['product.name', 'product.sku', 'product.price', 'product.quantity_on_hand', 'product.in_stock', 'product.restock_date', 'alternatives'],
    handoff: ['customer_name'],
    cancel_order: ['customer_name'],
    return_refund: ['customer_name'],
    invoice_copy: ['customer_name']
  };
  // Words that make a short message Swahili rather than English (for the default locale of a miss).
  const SW_WORDS = new Set(('yangu wangu langu changu zangu yako iko liko uko kiko ziko ipo zipo lipo kipo vipo wapi nataka naomba ' +
    'habari asante asanteni sana tafadhali oda agizo mzigo kifurushi bei gani lini nini je mna kuna bado jamani ni na ya kwa ' +
    'hii hiyo nani ndiyo hapana sawa karibu mambo jambo shikamoo nimeagiza sijapokea ankara risiti malipo nimelipa ' +
    'saa ngapi kiasi shilingi leo kesho jana tena sasa pia hapa huko mnafungua mnafunga mnauza mnaleta nini kwanini').split(' '));

  // ---- helpers
  const $ = (id) => d.getElementById(id);
  const str = (v) => (v === null || v === undefined ? '' : String(v));
  const enc = (s) => encodeURIComponent(String(s));
  const on = (node, ev, fn) => node.addEventListener(ev, fn);
  const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  const isObj = (v) => !!v && typeof v === 'object' && !Array.isArray(v);
  function h(tag, attrs, text) {
    const n = d.createElement(tag);
    Object.keys(attrs || {}).forEach((k) => {
      const v = attrs[k];
      if (v !== null && v !== undefined && v !== false) n.setAttribute(k, v === true ? '' : v);
    });
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  const sp = (cls, text) => h('span', { class: cls }, text);
  const badge = (text, cls) => sp('badge ' + (cls || ''), text);
  function btn(text, cls, attrs) {
    return h('button', Object.assign({ type: 'button', class: 'btn ' + (cls || '') }, attrs || {}), text);
  }
  function append(parent) {
    for (let i = 1; i < arguments.length; i++) {
      const c = arguments[i];
      if (c !== null && c !== undefined && c !== false) parent.appendChild(typeof c === 'string' ? d.createTextNode(c) : c);
    }
    return parent;
  }
  function clear(n) {
    while (n.firstChild) n.removeChild(n.firstChild);
    return n;
  }
  function ms(iso) {
    const t = iso ? Date.parse(iso) : NaN;
    return isNaN(t) ? 0 : t;
  }
  function fmtWhen(iso) {
    const t = ms(iso);
    if (!t) return str(iso) || '—';
    const dt = new Date(t);
    const o = { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
    if (dt.getFullYear() !== new Date().getFullYear()) o.year = 'numeric';
    return dt.toLocaleString(undefined, o);
  }
  const timeEl = (iso, text) => h('time', { datetime: iso || null, title: ms(iso) ? new Date(ms(iso)).toLocaleString() : null }, text);
  const num = (n) => (typeof n === 'number' && isFinite(n) ? n.toLocaleString() : '0');
  const plural = (n, one, many) => num(n) + ' ' + (n === 1 ? one : many || one + 's');
  // A table row; each cell is a node, a string, or [node, class].
  function row(cells, attrs) {
    const tr = h('tr', attrs);
    cells.forEach((c) => tr.appendChild(append(h('td', Array.isArray(c) ? { class: c[1] } : null), Array.isArray(c) ? c[0] : c)));
    return tr;
  }
  function emptyRow(tbody, cols, text, cls) {
    clear(tbody).appendChild(h('tr')).appendChild(h('td', { colspan: String(cols), class: 'list-empty' + (cls ? ' ' + cls : '') }, text));
  }
  function busy(button, on_) {
    if (!button) return;
    button.disabled = on_;
    button.setAttribute('aria-busy', on_ ? 'true' : 'false');
  }
  function randomHex(bytes) {
    const a = new Uint8Array(bytes);
    w.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
  }
  function copyText(node, b) {
    const fail = () => {
      w.getSelection().selectAllChildren(node);
      toast('Press Ctrl+C (⌘C) to copy the selected text.');
    };
    if (!navigator.clipboard) return fail();
    navigator.clipboard.writeText(node.textContent).then(() => {
      b.textContent = 'Copied';
      setTimeout(() => { b.textContent = 'Copy'; }, 1500);
    }, fail);
  }
  function download(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type: type || 'text/plain;charset=utf-8' }));
    const a = h('a', { href: url, download: name });
    d.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 2000);
  }

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
    setTimeout(() => t.remove(), kind === 'error' ? TOAST_FOR * 1.5 : TOAST_FOR);
  }
  const showErr = (e) => toast((e && e.message) || 'Something went wrong', 'error');

  // ---- confirm dialog (in-page, so it is keyboard- and test-friendly)
  function confirmBox(title, text, okText, danger) {
    const dlg = $('confirm-dialog');
    if (!dlg || typeof dlg.showModal !== 'function') return Promise.resolve(w.confirm(title + '\n\n' + text));
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text || '';
    const ok = $('confirm-ok');
    ok.textContent = okText || 'OK';
    ok.className = 'btn ' + (danger ? 'btn-danger-solid' : 'btn-primary');
    dlg.returnValue = '';
    return new Promise((resolve) => {
      const back = d.activeElement;
      on(dlg, 'close', function done() {
        dlg.removeEventListener('close', done);
        if (back && back.focus) back.focus();
        resolve(dlg.returnValue === 'ok');
      });
      dlg.showModal();
      $('confirm-cancel').focus();
    });
  }

  // Confirm, then run `fn` (a request) with `b` busy; toast `done` and call `then` on success.
  function confirmDo(b, title, text, okText, fn, done, then) {
    return confirmBox(title, text, okText, true).then((ok) => {
      if (!ok) return;
      busy(b, true);
      return fn().then(() => {
        toast(done, 'ok');
        then();
      }, (e) => {
        busy(b, false);
        showErr(e);
      });
    });
  }

  // ---- API
  let csrf = '';
  let me = null;
  function toLogin() {
    if (leaving) return;
    leaving = true;
    w.location.replace(LOGIN_URL);
  }
  const FALLBACK = { 403: 'Only admins may do that.', 404: 'Not found.', 405: 'Not available on this server.', 409: 'Someone else changed this first.', 413: 'That is too large.', 429: 'Too many requests, slow down a little.' };
  // Resolves to the parsed JSON body (null when empty); rejects with Error{status, code, message, body}.
  function api(method, path, body, retried) {
    const opts = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/json';
      opts.headers['X-CSRF-Token'] = csrf;
      opts.body = JSON.stringify(body === undefined ? {} : body);
    }
    return fetch(path, opts).then((res) => res.text().then((txt) => {
      let data = null;
      try {
        data = txt ? JSON.parse(txt) : null;
      } catch (e) { /* not JSON */ }
      if (res.ok) return data;
      const er = (data && data.error) || {};
      if (res.status === 401) toLogin();
      if (res.status === 403 && /csrf/i.test(str(er.code) + ' ' + str(er.message)) && !retried) {
        return loadMe().then(() => api(method, path, body, true));
      }
      const plain = !data && txt && txt.length < 400 && !/^\s*</.test(txt) ? txt.trim() : '';
      const e = new Error(er.message || plain || FALLBACK[res.status] || 'Request failed (' + res.status + '). Try again.');
      e.status = res.status;
      e.code = er.code || 'http_' + res.status;
      e.body = data || {};
      throw e;
    }), () => {
      const e = new Error('Cannot reach the server. Check your connection.');
      e.status = 0;
      e.code = 'network';
      e.body = {};
      throw e;
    });
  }
  function loadMe() {
    return api('GET', '/api/me').then((r) => {
      me = (r && r.agent) || null;
      csrf = (r && r.csrf_token) || csrf;
      return r;
    });
  }
  // Field-level errors of a failed request as [{field, message}]: from "problems", "fields",
  // error.field, or a message shaped "field: message".
  function fieldErrors(e) {
    const b = (e && e.body) || {};
    const out = [];
    (Array.isArray(b.problems) ? b.problems : []).forEach((p) => { if (p) out.push({ field: str(p.field), message: str(p.message) }); });
    const fo = isObj(b.fields) ? b.fields : b.error && isObj(b.error.fields) ? b.error.fields : null;
    if (fo) Object.keys(fo).forEach((k) => out.push({ field: k, message: str(fo[k]) }));
    if (b.error && b.error.field) out.push({ field: str(b.error.field), message: str(b.error.message) });
    if (!out.length && e && e.status === 422) {
      const m = /^([a-z_][\w.[\]]*): (.+)$/i.exec(str(e.message));
      if (m) out.push({ field: m[1], message: m[2] });
    }
    return out;
  }
  // Shows an error next to a small form: the message in `box`, fields marked by id prefix + name.
  function formError(box, prefix, e) {
    clearFormError(box);
    box.hidden = false;
    box.textContent = e.message;
    fieldErrors(e).forEach((f) => {
      const input = $(prefix + f.field.replace(/\[.*$/, '').replace(/_/g, '-'));
      if (!input) return;
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('data-err', '1');
      const m = h('p', { class: 'fld-msg', id: input.id + '-err' }, f.message);
      (input.closest('.fld') || input.parentNode).appendChild(m);
      input.setAttribute('aria-errormessage', m.id);
    });
    const first = box.parentNode.querySelector('[data-err]');
    if (first) first.focus();
  }
  // A client-side "required" error shown like a server one.
  const need = (box, prefix, field) => formError(box, prefix, { message: 'Fill in the ' + field + '.', status: 422, body: { error: { field: field, message: 'Required.' } } });
  function clearFormError(box) {
    box.hidden = true;
    box.textContent = '';
    const scope = box.parentNode;
    scope.querySelectorAll('[data-err]').forEach((n) => {
      n.removeAttribute('aria-invalid');
      n.removeAttribute('data-err');
      n.removeAttribute('aria-errormessage');
    });
    scope.querySelectorAll('.fld-msg').forEach((n) => n.remove());
  }

  // ---- state
  let el = {};
  let view = null;
  const S = {
    version: null,
    intents: [], // as served, with hits
    misses: [], // most frequent first
    missOpen: null, // id of the miss whose "add as example" form is open
    teams: [],
    agents: [],
    versions: [],
    versionSel: null,
    exportData: null,
    canned: [],
    settings: null
  };

  // =========================================================================== intents list
  function loadIntents() {
    return api('GET', '/api/admin/intents').then((r) => {
      S.version = r && r.version;
      S.intents = ((r && r.intents) || []).filter((i) => i && i.name);
      renderIntentList();
      renderMisses();
      fillTeamsDatalist();
    }).catch((e) => {
      clear(el.intentList).appendChild(h('li', { class: 'list-empty is-error' }, 'Could not load the intents: ' + e.message));
    });
  }
  const intentByName = (n) => S.intents.find((i) => i.name === n) || null;
  const byPriority = (a, b) => (b.priority || 0) - (a.priority || 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  function renderIntentList() {
    const q = el.intentFilter.value.trim().toLowerCase();
    const list = S.intents.slice().sort(byPriority).filter((i) => !q || i.name.toLowerCase().indexOf(q) >= 0 || str(i.action).indexOf(q) >= 0);
    el.intentsVersion.textContent = S.version !== null && S.version !== undefined ? 'Rule set version ' + S.version + ' · ' + plural(S.intents.length, 'intent') : '';
    clear(el.intentList);
    list.forEach((i) => {
      const li = h('li');
      const b = h('button', { type: 'button', class: 'intent-row', 'data-name': i.name });
      if (ed && ed.name === i.name && !ed.isNew) {
        b.classList.add('is-active');
        b.setAttribute('aria-current', 'true');
      }
      const top = sp('ir-top');
      append(top, sp('ir-name', i.name), sp('ir-hits', plural(i.hits || 0, 'hit')));
      const meta = sp('ir-meta');
      append(meta, badge(str(i.action), 'act act-' + str(i.action)), badge('P' + str(i.priority), 'prio'), i.team ? sp('ir-team', i.team) : null);
      append(b, top, meta);
      li.appendChild(b);
      el.intentList.appendChild(li);
    });
    if (!list.length) el.intentList.appendChild(h('li', { class: 'list-empty' }, S.intents.length ? 'No intent matches the filter.' : 'No intents yet.'));
  }

  // =========================================================================== misses
  function loadMisses() {
    return api('GET', '/api/admin/intents/misses').then((r) => {
      S.misses = ((r && r.misses) || []).filter((m) => m && m.id !== undefined).sort((a, b) => (b.count || 0) - (a.count || 0) || ms(b.last_at) - ms(a.last_at));
      renderMisses();
    }).catch((e) => {
      clear(el.missList).appendChild(h('li', { class: 'list-empty is-error' }, 'Could not load: ' + e.message));
    });
  }
  function guessLocale(text) {
    const words = str(text).toLowerCase().split(/[^a-z']+/).filter(Boolean);
    return words.filter((x) => SW_WORDS.has(x)).length > 0 ? 'sw' : 'en';
  }
  function renderMisses() {
    clear(el.missList);
    if (!S.misses.length) {
      el.missList.appendChild(h('li', { class: 'list-empty' }, 'Nothing here: the bot understood everything lately.'));
      return;
    }
    S.misses.forEach((m) => {
      const open = S.missOpen === str(m.id);
      const li = h('li', { class: 'miss-row', 'data-id': str(m.id) });
      append(li, h('q', { class: 'miss-text' }, str(m.text)));
      const meta = sp('miss-meta');
      append(meta, badge('×' + num(m.count), 'count'), m.last_at ? timeEl(m.last_at, 'last ' + fmtWhen(m.last_at)) : null);
      li.appendChild(meta);
      const acts = h('div', { class: 'miss-actions' });
      const add = btn('Add as example to…', 'btn-sm miss-add', { 'aria-expanded': open ? 'true' : 'false' });
      append(acts, add, btn('New intent from this', 'btn-sm miss-new'), btn('Dismiss', 'btn-sm btn-quiet miss-dismiss', { 'aria-label': 'Dismiss “' + str(m.text) + '”' }));
      li.appendChild(acts);
      if (open) li.appendChild(missForm(m));
      el.missList.appendChild(li);
    });
  }
  function missForm(m) {
    const f = h('div', { class: 'miss-form', role: 'group', 'aria-label': 'Add as example' });
    const idI = 'mf-intent-' + Math.random().toString(36).slice(2, 8);
    const idL = idI + '-loc';
    const si = h('select', { id: idI, class: 'miss-intent' });
    S.intents.slice().sort((a, b) => (a.name < b.name ? -1 : 1)).forEach((i) => si.appendChild(h('option', { value: i.name }, i.name)));
    if (ed && !ed.isNew && ed.name) si.value = ed.name;
    const sl = h('select', { id: idL, class: 'miss-locale' });
    LOCALES.forEach((l) => sl.appendChild(h('option', { value: l }, LOCALE_NAMES[l] + ' (' + l + ')')));
    sl.value = guessLocale(m.text);
    append(f, h('label', { for: idI }, 'Intent'), si, h('label', { for: idL }, 'Language'), sl,
      btn('Add', 'btn-sm btn-primary miss-add-go'), btn('Cancel', 'btn-sm btn-quiet miss-cancel'));
    return f;
  }
  function onMissClick(e) {
    const b = e.target.closest('button');
    const li = e.target.closest('.miss-row');
    if (!b || !li) return;
    const id = li.getAttribute('data-id');
    const m = S.misses.find((x) => str(x.id) === id);
    if (!m) return;
    const ex = { text: str(m.text), ids: [m.id] };
    if (b.classList.contains('miss-add')) {
      S.missOpen = S.missOpen === id ? null : id;
      renderMisses();
      const sel = el.missList.querySelector('.miss-row[data-id="' + CSS.escape(id) + '"] .miss-intent');
      if (sel) sel.focus();
    } else if (b.classList.contains('miss-cancel')) {
      S.missOpen = null;
      renderMisses();
    } else if (b.classList.contains('miss-add-go')) {
      const it = intentByName(li.querySelector('.miss-intent').value);
      ex.locale = li.querySelector('.miss-locale').value;
      if (!it) return toast('Pick an intent first.', 'error');
      openEditor(it, { example: ex }).then((ok) => {
        if (!ok) return;
        S.missOpen = null;
        renderMisses();
      });
    } else if (b.classList.contains('miss-new')) {
      ex.locale = guessLocale(ex.text);
      openEditor(null, { example: ex });
    } else if (b.classList.contains('miss-dismiss')) {
      busy(b, true);
      dismissMisses(ex.ids).then(() => {
        S.misses = S.misses.filter((x) => x !== m);
        renderMisses();
      }, (er) => {
        busy(b, false);
        showErr(er);
      });
    }
  }
  const dismissMisses = (ids) => Promise.all(ids.map((id) => api('POST', '/api/admin/intents/misses/' + enc(id) + '/dismiss')));

  // =========================================================================== editor
  // ed: {isNew, name, base (the intent as loaded, for fields this page does not edit), dirty,
  //      seq, client: [...], server: {problems, broken}, saveError, missIds: Set}
  let ed = null;
  let valTimer = 0;
  const TA = {}; // textareas by 'patterns.en', 'examples.sw', 'reply.en', …

  function guardDirty() {
    if (!ed || !ed.dirty) return Promise.resolve(true);
    return confirmBox('Discard unsaved changes?', 'Your changes to ' + (ed.name ? '“' + ed.name + '”' : 'the new intent') + ' are not saved.', 'Discard changes', true);
  }
  // Opens the editor on `intent` (null: a new one). opts.example = {locale, text, ids} adds an example.
  function openEditor(intent, opts) {
    opts = opts || {};
    if (ed && intent && !ed.isNew && ed.name === intent.name && !opts.force) {
      if (opts.example) addExampleToEditor(opts.example);
      else focusEditor();
      return Promise.resolve(true);
    }
    return guardDirty().then((ok) => {
      if (!ok) return false;
      if (view !== 'intents') w.location.hash = '#/intents';
      clearTimeout(valTimer);
      const base = intent ? clone(intent) : { name: '', priority: 20, action: 'reply', team: null, label: null, fuzzy: false, handoff_priority: 0, patterns: { en: [], sw: [] }, unless: { en: [], sw: [] }, examples: { en: [], sw: [] }, slots: {}, reply: { en: '', sw: '' } };
      delete base.hits;
      ed = { isNew: !intent, name: base.name, base: base, dirty: false, seq: 0, client: [], server: { problems: [], broken: [] }, saveError: null, missIds: new Set() };
      fillEditor(base);
      showEditor(true);
      renderIntentList();
      renderProblems();
      setStatus('', '');
      if (opts.example) addExampleToEditor(opts.example);
      if (!intent) el.ieName.focus();
      else if (!opts.example) focusEditor();
      return true;
    });
  }
  function focusEditor() {
    el.editor.scrollIntoView({ block: 'start', behavior: 'smooth' });
    el.ieTitle.setAttribute('tabindex', '-1');
    el.ieTitle.focus({ preventScroll: true });
  }
  function closeEditor() {
    return guardDirty().then((ok) => {
      if (!ok) return false;
      clearTimeout(valTimer);
      ed = null;
      showEditor(false);
      renderIntentList();
      return true;
    });
  }
  function showEditor(on_) {
    el.intentEmpty.hidden = on_;
    el.editor.hidden = !on_;
    el.tryDraftWrap.hidden = !on_;
  }
  function fillEditor(it) {
    el.ieTitle.textContent = ed.isNew ? 'New intent' : 'Edit intent: ' + it.name;
    el.ieName.value = str(it.name);
    el.ieName.readOnly = !ed.isNew;
    el.ieName.classList.toggle('is-readonly', !ed.isNew);
    el.ieNameHelp.textContent = ed.isNew ? 'Lowercase letters, digits and _ — it becomes the file name.' : 'The name of a saved intent cannot change.';
    el.iePriority.value = str(it.priority);
    el.ieAction.value = VARS[it.action] ? it.action : 'reply';
    el.ieTeam.value = str(it.team);
    el.ieFuzzy.checked = !!it.fuzzy;
    el.ieHandoffPriority.value = str(it.handoff_priority || 0);
    el.ieLabel.value = str(it.label);
    LOCALES.forEach((l) => {
      TA['patterns.' + l].value = ((it.patterns || {})[l] || []).join('\n');
      TA['unless.' + l].value = ((it.unless || {})[l] || []).join('\n');
      TA['examples.' + l].value = ((it.examples || {})[l] || []).join('\n');
      TA['reply.' + l].value = str((it.reply || {})[l]);
    });
    clear(el.ieSlots);
    const slots = isObj(it.slots) ? it.slots : {};
    Object.keys(slots).forEach((k) => addSlotRow(k, slots[k]));
    // Tall enough for what they hold (within reason).
    el.editor.querySelectorAll('textarea').forEach((t) => { t.rows = Math.min(14, Math.max(t.id ? 4 : 2, t.value.split('\n').length + 1)); });
    el.ieDelete.hidden = ed.isNew;
    el.tryDraftName.textContent = it.name || 'the new intent';
    renderVars();
    setDirty(false);
  }
  const ACTION_HELP = { reply: 'Answers with the template.', order_status: 'Looks up the order.', invoice_status: 'Looks up the invoice.', stock_check: 'Looks up stock.', handoff: 'Passes to a person.', cancel_order: 'Cancels the order after an explicit yes (strong proof).', return_refund: 'Opens a return request after an explicit yes, or reads its state.', invoice_copy: 'Emails a copy of the invoice to the address on it.' };
  function renderVars() {
    el.ieActionHelp.textContent = ACTION_HELP[el.ieAction.value] || '';
    clear(el.ieVars);
    const vars = VARS[el.ieAction.value] || [];
    append(el.ieVars, 'Template variables for ' + el.ieAction.value + ': ');
    vars.forEach((v, i) => append(el.ieVars, i ? ', ' : '', h('code', null, '{{ ' + v + ' }}')));
    append(el.ieVars, '. Slots are filled from the message.');
  }
  function setDirty(on_) {
    if (!ed) return;
    ed.dirty = on_;
    el.ieDirty.hidden = !on_;
  }
  function addExampleToEditor(ex) {
    const ta = TA['examples.' + ex.locale] || TA['examples.en'];
    const v = ta.value;
    const have = v.split(/\r?\n/).some((x) => x.trim() === ex.text.trim());
    if (!have) ta.value = v + (v && !/\n$/.test(v) ? '\n' : '') + ex.text;
    (ex.ids || []).forEach((id) => ed.missIds.add(id));
    validateSoon();
    ta.scrollIntoView({ block: 'center', behavior: 'smooth' });
    ta.focus({ preventScroll: true });
    ta.setSelectionRange(ta.value.length, ta.value.length);
    toast(have ? 'That example is already there.' : 'Added to the ' + LOCALE_NAMES[ex.locale] + ' examples. The check shows whether a pattern matches it; then save.', 'ok');
  }

  // ---- slots
  let slotSeq = 0;
  function addSlotRow(name, slot) {
    slot = slot || {};
    const i = ++slotSeq;
    const pr = isObj(slot.prompt) ? slot.prompt : {};
    const r = h('div', { class: 'slot-row', role: 'group', 'aria-label': 'Slot ' + (name || '(new)') });
    r.__orig = clone(slot);
    const fld = (key, label, tag, value, ph) => {
      const input = h(tag, { id: 'slot-' + i + '-' + key, class: 'mono slot-' + key, spellcheck: 'false', autocomplete: 'off', rows: tag === 'textarea' ? '2' : null, placeholder: ph || null });
      input.value = str(value);
      return append(h('div', { class: 'fld' + (key === 'name' ? '' : ' fld-wide') }), h('label', { for: input.id }, label), input);
    };
    const req = h('input', { type: 'checkbox', id: 'slot-' + i + '-required', class: 'slot-required' });
    req.checked = !!slot.required;
    const rm = btn('Remove', 'btn-sm btn-quiet slot-remove', { 'aria-label': 'Remove slot ' + str(name) });
    on(rm, 'click', () => {
      r.remove();
      validateSoon();
    });
    append(r,
      append(h('div', { class: 'slot-line' }), fld('name', 'Slot name', 'input', name, 'order_number'),
        fld('pattern', 'Pattern', 'input', slot.pattern, '(?P<order_number>\\d{3,})'),
        append(h('div', { class: 'fld fld-check' }), req, h('label', { for: req.id }, 'Required')), rm),
      append(h('div', { class: 'slot-line' }), fld('prompt-en', 'Prompt (en)', 'textarea', pr.en), fld('prompt-sw', 'Prompt (sw)', 'textarea', pr.sw)));
    el.ieSlots.appendChild(r);
    return r;
  }
  const slotRows = () => Array.from(el.ieSlots.querySelectorAll('.slot-row'));

  // ---- reading the form
  // Lines of a textarea without blank ones; map[i] = 1-based line number of item i.
  function lines(ta, trim) {
    const items = [];
    const map = [];
    ta.value.split(/\r?\n/).forEach((x, i) => {
      if (!x.trim()) return;
      items.push(trim ? x.trim() : x);
      map.push(i + 1);
    });
    return { items: items, map: map };
  }
  // The intent as the form shows it, plus client-side hints: {intent, maps, client, blockers}.
  function collect() {
    const it = clone(ed.base) || {};
    delete it.hits;
    const maps = {};
    const client = []; // {el, message, block?}
    it.name = ed.isNew ? el.ieName.value.trim() : ed.name;
    const pr = el.iePriority.value.trim();
    it.priority = /^-?\d+$/.test(pr) ? parseInt(pr, 10) : null;
    it.action = el.ieAction.value;
    it.team = el.ieTeam.value.trim() || null;
    it.fuzzy = el.ieFuzzy.checked;
    const hp = el.ieHandoffPriority.value.trim();
    it.handoff_priority = /^-?\d+$/.test(hp) ? parseInt(hp, 10) : 0;
    it.label = el.ieLabel.value.trim().toLowerCase() || null;
    ['patterns', 'unless', 'examples'].forEach((k) => { it[k] = isObj(it[k]) ? it[k] : {}; });
    it.reply = isObj(it.reply) ? it.reply : {};
    LOCALES.forEach((l) => {
      ['patterns', 'unless'].forEach((k) => {
        const p = lines(TA[k + '.' + l], false);
        it[k][l] = p.items;
        maps[k + '.' + l] = p.map;
        p.items.forEach((src, i) => {
          const m = regexHint(patternRegex(src));
          if (m) client.push({ el: TA[k + '.' + l], message: 'Line ' + p.map[i] + ': ' + m });
        });
      });
      const x = lines(TA['examples.' + l], true);
      it.examples[l] = x.items;
      maps['examples.' + l] = x.map;
      it.reply[l] = TA['reply.' + l].value;
    });
    if (!it.name) client.push({ el: el.ieName, message: 'Give the intent a name.', block: true });
    else if (ed.isNew && intentByName(it.name)) client.push({ el: el.ieName, message: 'An intent called “' + it.name + '” already exists: open it from the list instead.', block: true });
    else if (ed.isNew && !/^[a-z0-9][a-z0-9_]*$/.test(it.name)) client.push({ el: el.ieName, message: 'Use lowercase letters, digits and _ only.' });
    if (it.priority === null) client.push({ el: el.iePriority, message: 'Enter a whole number.', block: true });
    const slots = {};
    slotRows().forEach((r) => {
      const nameI = r.querySelector('.slot-name');
      const patI = r.querySelector('.slot-pattern');
      const name = nameI.value.trim();
      const pat = patI.value.trim();
      const pe = r.querySelector('.slot-prompt-en').value;
      const ps = r.querySelector('.slot-prompt-sw').value;
      const req = r.querySelector('.slot-required').checked;
      if (!name) {
        if (pat || pe.trim() || ps.trim() || req) client.push({ el: nameI, message: 'Give the slot a name.', block: true });
        return;
      }
      if (Object.prototype.hasOwnProperty.call(slots, name)) {
        client.push({ el: nameI, message: 'Another slot already has this name.', block: true });
        return;
      }
      const s = clone(r.__orig) || {};
      s.pattern = pat || null;
      s.required = req;
      s.prompt = Object.assign(isObj(s.prompt) ? s.prompt : {}, { en: pe, sw: ps });
      slots[name] = s;
      if (pat) {
        const m = regexHint(pat);
        if (m) client.push({ el: patI, message: m });
        else if (m === '' && !new RegExp('\\(\\?P?<' + name.replace(/[^\w]/g, '\\$&') + '>').test(pat)) client.push({ el: patI, message: 'Needs a named group (?P<' + name + '>…).' });
      }
    });
    it.slots = slots;
    return { intent: it, maps: maps, client: client, blockers: client.filter((c) => c.block) };
  }

  // The regex a rule pattern stands for: a leading ~ (fuzzy) dropped, " ... " as a word gap.
  function patternRegex(src) {
    return src.replace(/^~\s*/, '').split(' ... ').join("(?:\\s+[\\w'-]+){0,4}\\s+");
  }
  // Client-side check of one Rust-regex pattern: a message when it is certainly wrong, '' when it
  // looks fine, null when the browser cannot judge it (different syntax). Only a hint.
  function regexHint(src) {
    let cls = false;
    for (let i = 0; i < src.length; i++) {
      const c = src[i];
      if (c === '\\') {
        const n = src[i + 1];
        if (n === undefined) return 'Ends with a lone backslash.';
        if (!cls && /[1-9]/.test(n)) return 'Back-references (\\' + n + ') are not supported.';
        if (n === 'k' && src[i + 2] === '<') return 'Back-references (\\k<…>) are not supported.';
        i++;
        continue;
      }
      if (cls) {
        if (c === '[') return null; // nested classes / set operations: Rust only
        if (c === ']') cls = false;
        continue;
      }
      if (c === '[') {
        cls = true;
        if (src[i + 1] === '^') i++;
        if (src[i + 1] === ']') i++;
        continue;
      }
      if (c === '(' && src[i + 1] === '?') {
        const t = src.slice(i + 2, i + 4);
        if (t[0] === '=' || t[0] === '!' || t === '<=' || t === '<!') return 'Look-ahead and look-behind are not supported.';
      }
    }
    if (/\\[pPAzZQEuUC]|\\[xb]\{|\(\?[a-zA-Z-]+[:)]/.test(src)) return null;
    try {
      new RegExp(src.replace(/\(\?P</g, '(?<')); // eslint-disable-line no-new
    } catch (e) {
      return 'Not a valid regular expression: ' + str(e.message).replace(/^.*: /, '') + '.';
    }
    if (/[A-Z]/.test(src.replace(/\\./g, '').replace(/\(\?P?<[^>]*>/g, ''))) return 'Messages are lowercased before matching, so uppercase letters never match.';
    return '';
  }

  // ---- validation
  function validateSoon(immediate) {
    if (!ed) return;
    ed.rev = (ed.rev || 0) + 1;
    setDirty(true);
    ed.saveError = null;
    clearTimeout(valTimer);
    setStatus('Checking…', 'is-checking');
    valTimer = setTimeout(runValidate, immediate ? 0 : VALIDATE_DELAY);
  }
  function runValidate() {
    if (!ed) return;
    const c = collect();
    ed.client = c.client;
    ed.maps = c.maps;
    el.tryDraftName.textContent = c.intent.name || 'the new intent';
    if (c.intent.priority === null) {
      renderProblems();
      return setStatus('Fix the marked fields', 'is-bad');
    }
    const seq = ++ed.seq;
    const mine = ed;
    api('POST', '/api/admin/intents/validate', { intent: c.intent }).then((r) => {
      if (ed !== mine || seq !== ed.seq) return;
      ed.server = { problems: (r && r.problems) || [], broken: (r && r.broken_examples) || [] };
      ed.overlaps = (r && r.overlaps) || [];
      renderProblems();
    }).catch((e) => {
      if (ed !== mine || seq !== ed.seq) return;
      if (e.status === 422 && (e.body.problems || e.body.broken_examples)) {
        ed.server = { problems: e.body.problems || [], broken: e.body.broken_examples || [] };
        renderProblems();
      } else {
        ed.server = { problems: fieldErrors(e), broken: [] };
        renderProblems();
        if (!ed.server.problems.length) setStatus('Could not check: ' + e.message, 'is-bad');
      }
    });
  }
  function setStatus(text, cls) {
    el.ieStatus.textContent = text;
    el.ieStatus.className = 'val-status ' + (cls || '');
  }
  // Where a server problem belongs: {el, label, prefix}. field: "patterns.en[1]", "reply.sw",
  // "slots.order_number.prompt.en", "name", … Unknown fields go to the summary only.
  function locate(field) {
    const f = str(field).replace(/^intents?\./, '');
    let m = /^(patterns|unless|examples)\.(\w+)(?:\[(\d+)\])?/.exec(f);
    if (m && TA[m[1] + '.' + m[2]]) {
      const map = (ed.maps && ed.maps[m[1] + '.' + m[2]]) || [];
      const idx = m[3] !== undefined ? parseInt(m[3], 10) : null;
      const where = idx === null ? '' : map[idx] ? 'Line ' + map[idx] + ': ' : 'Item ' + (idx + 1) + ': ';
      return { el: TA[m[1] + '.' + m[2]], label: ({ patterns: 'Patterns', unless: 'Unless', examples: 'Examples' }[m[1]]) + ' (' + m[2] + ')', prefix: where };
    }
    m = /^reply\.(\w+)/.exec(f);
    if (m && TA['reply.' + m[1]]) return { el: TA['reply.' + m[1]], label: 'Reply (' + m[1] + ')', prefix: '' };
    m = /^slots\.([^.[\]]+)(?:\.(\w+)(?:\.(\w+))?)?/.exec(f);
    if (m) {
      const r = slotRows().find((x) => x.querySelector('.slot-name').value.trim() === m[1]);
      if (r) {
        const part = m[2] === 'pattern' ? '.slot-pattern' : m[2] === 'required' ? '.slot-required' : m[2] === 'prompt' ? '.slot-prompt-' + (m[3] === 'sw' ? 'sw' : 'en') : '.slot-name';
        return { el: r.querySelector(part), label: 'Slot ' + m[1] + (m[2] ? ' ' + m[2] + (m[3] ? ' (' + m[3] + ')' : '') : ''), prefix: '' };
      }
    }
    const basic = { name: el.ieName, priority: el.iePriority, action: el.ieAction, team: el.ieTeam, fuzzy: el.ieFuzzy, handoff_priority: el.ieHandoffPriority, label: el.ieLabel }[f];
    if (basic) return { el: basic, label: f.charAt(0).toUpperCase() + f.slice(1), prefix: '' };
    return { el: null, label: f || 'Rules', prefix: '' };
  }
  function renderProblems() {
    if (!ed) return;
    el.editor.querySelectorAll('.fld-msg').forEach((n) => n.remove());
    el.editor.querySelectorAll('[aria-invalid]').forEach((n) => {
      n.removeAttribute('aria-invalid');
      n.removeAttribute('aria-errormessage');
      n.classList.remove('is-invalid');
    });
    const perEl = new Map();
    const summary = [];
    const add = (target, label, message) => {
      summary.push({ el: target, label: label, message: message });
      if (!target) return;
      const arr = perEl.get(target) || [];
      if (arr.indexOf(message) < 0) arr.push(message);
      perEl.set(target, arr);
    };
    const server = (ed.server && ed.server.problems) || [];
    server.forEach((p) => {
      const loc = locate(p.field);
      add(loc.el, loc.label, loc.prefix + str(p.message));
    });
    (ed.client || []).forEach((c) => {
      // A blocking client check on a field the server already explained adds nothing.
      if (c.block && perEl.has(c.el)) return;
      add(c.el, labelOf(c.el), c.message);
    });
    perEl.forEach((msgs, target) => {
      target.setAttribute('aria-invalid', 'true');
      target.classList.add('is-invalid');
      const m = h('p', { class: 'fld-msg', id: target.id + '-msg' });
      msgs.forEach((x, i) => append(m, i ? h('br') : null, x));
      target.setAttribute('aria-errormessage', m.id);
      const holder = target.closest('.fld') || target.parentNode;
      holder.appendChild(m);
    });
    const broken = (ed.server && ed.server.broken) || [];
    renderErrorBox(el.ieErrors, ed.saveError, summary, broken);
    const n = summary.length + broken.length;
    if (ed.saveError) setStatus('Not saved', 'is-bad');
    else if (n) setStatus(plural(n, 'problem'), 'is-bad');
    else if (ed.dirty && ed.overlaps && ed.overlaps.length) setStatus('✓ Valid · overlaps: ' + ed.overlaps.map((o) => '“' + str(o.example) + '” (' + str(o.intent) + ') also matches ' + str(o.other)).join('; '), 'is-ok');
    else setStatus(ed.dirty ? '✓ All checks pass' : '', 'is-ok');
  }
  // "Patterns (en)", "Slot city: pattern", … from the field's own label.
  function labelOf(target) {
    const lab = el.editor.querySelector('label[for="' + target.id + '"]');
    const base = lab ? str(lab.firstChild.textContent).trim() : 'Field';
    const r = target.closest('.slot-row');
    const loc = target.closest('.locale');
    if (r) return 'Slot ' + (r.querySelector('.slot-name').value.trim() || '(unnamed)') + ': ' + base.replace(/^slot /i, '').toLowerCase();
    return base + (loc ? ' (' + loc.getAttribute('data-locale') + ')' : '');
  }
  function brokenText(b) {
    const where = ' (intent ' + str(b.intent) + ', ' + str(b.locale) + ') ';
    const to = b.classified_as ? 'now goes to ' + b.classified_as : 'is no longer understood';
    return '“' + str(b.example) + '”' + where + to;
  }
  // Fills an error box: optional headline, problems [{el?, label, message}], broken examples.
  function renderErrorBox(box, headline, problems, broken) {
    clear(box);
    if (!headline && !problems.length && !broken.length) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    if (headline) box.appendChild(h('p', { class: 'errors-head' }, headline));
    if (problems.length) {
      box.appendChild(h('h3', null, plural(problems.length, 'problem')));
      const ul = h('ul', { class: 'err-list' });
      problems.forEach((p) => {
        const li = h('li');
        if (p.el) {
          const a = h('button', { type: 'button', class: 'linklike' }, p.label);
          on(a, 'click', () => p.el.focus());
          append(li, a, ': ', p.message);
        } else {
          append(li, h('b', null, p.label), ': ', p.message);
        }
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (broken.length) {
      box.appendChild(h('h3', null, broken.length === 1 ? 'This example would break' : 'These ' + broken.length + ' examples would break'));
      const ul = h('ul', { class: 'err-list broken-list' });
      broken.forEach((b) => ul.appendChild(h('li', { class: 'broken-example', 'data-intent': str(b.intent), 'data-locale': str(b.locale) }, brokenText(b))));
      box.appendChild(ul);
    }
  }

  // ---- save / delete
  function save() {
    if (!ed) return;
    clearTimeout(valTimer);
    const c = collect();
    ed.client = c.client;
    ed.maps = c.maps;
    if (c.blockers.length) {
      ed.saveError = 'Not saved: fix the marked fields first.';
      ed.seq++;
      renderProblems();
      setStatus('Not saved', 'is-bad');
      c.blockers[0].el.focus();
      return;
    }
    const mine = ed;
    const rev = mine.rev || 0;
    mine.seq++;
    busy(el.ieSave, true);
    setStatus('Saving…', 'is-checking');
    api('PUT', '/api/admin/intents/' + enc(c.intent.name), c.intent).then((r) => {
      if (r && r.version !== undefined) S.version = r.version;
      const saved = (r && r.intent) || c.intent;
      const old = intentByName(saved.name);
      const withHits = Object.assign({}, saved, { hits: old ? old.hits || 0 : 0 });
      S.intents = S.intents.filter((i) => i.name !== saved.name).concat([withHits]);
      if (ed === mine && (mine.rev || 0) !== rev) {
        // Edited while saving: keep the newer text, now as an edit of the saved intent.
        Object.assign(ed, { isNew: false, name: saved.name, base: clone(saved) });
        el.ieName.readOnly = true;
        el.ieDelete.hidden = false;
        el.ieTitle.textContent = 'Edit intent: ' + saved.name;
        validateSoon();
      } else if (ed === mine) {
        const missIds = Array.from(ed.missIds);
        ed = { isNew: false, name: saved.name, base: clone(saved), dirty: false, seq: mine.seq + 1, client: [], server: { problems: [], broken: [] }, saveError: null, missIds: new Set() };
        fillEditor(saved);
        renderProblems();
        setStatus('Saved · version ' + str(S.version), 'is-ok');
        if (missIds.length) dismissMisses(missIds).catch(() => {}).then(loadMisses);
      }
      renderIntentList();
      toast('Saved “' + saved.name + '” as rule set version ' + str(S.version) + '. It is live now.', 'ok');
    }).catch((e) => {
      if (ed !== mine) return showErr(e);
      ed.saveError = 'Not saved: ' + e.message;
      ed.server = { problems: e.body.problems || fieldErrors(e), broken: e.body.broken_examples || [] };
      renderProblems();
      el.ieErrors.focus({ preventScroll: true });
      el.ieErrors.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    }).then(() => busy(el.ieSave, false));
  }
  function del() {
    if (!ed || ed.isNew) return;
    const name = ed.name;
    confirmBox('Delete “' + name + '”?', 'The bot stops recognising these messages at once. You can bring it back from History.', 'Delete intent', true).then((ok) => {
      if (!ok || !ed || ed.name !== name) return;
      busy(el.ieDelete, true);
      api('DELETE', '/api/admin/intents/' + enc(name)).then((r) => {
        if (r && r.version !== undefined) S.version = r.version;
        S.intents = S.intents.filter((i) => i.name !== name);
        ed.dirty = false;
        closeEditor();
        toast('Deleted “' + name + '” (rule set version ' + str(S.version) + ').', 'ok');
      }).catch((e) => {
        if (!ed) return showErr(e);
        ed.saveError = 'Not deleted: ' + e.message;
        ed.server = { problems: e.body.problems || fieldErrors(e), broken: e.body.broken_examples || [] };
        renderProblems();
        el.ieErrors.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      }).then(() => busy(el.ieDelete, false));
    });
  }

  // =========================================================================== try a message
  function runTry() {
    const text = el.tryText.value.trim();
    if (!text) {
      el.tryText.focus();
      return;
    }
    const body = { text: text };
    let draftName = null;
    if (ed && el.tryDraft.checked) {
      const c = collect();
      if (c.intent.priority === null) return tryError('The draft has an invalid priority; fix it or untick “Use the unsaved draft”.');
      if (!c.intent.name) c.intent.name = '(new intent)';
      body.intent = c.intent;
      draftName = c.intent.name;
    }
    busy(el.tryRun, true);
    clear(el.tryResult).appendChild(h('p', { class: 'muted' }, 'Classifying…'));
    api('POST', '/api/admin/intents/classify', body).then((r) => renderTry(text, r || {}, draftName), (e) => {
      tryError(e.message);
      fieldErrors(e).forEach((f) => el.tryResult.appendChild(h('p', { class: 'muted' }, f.field + ': ' + f.message)));
    }).then(() => busy(el.tryRun, false));
  }
  function tryError(msg) {
    clear(el.tryResult).appendChild(h('p', { class: 'form-error' }, msg));
  }
  function renderTry(text, r, draftName) {
    const dl = h('dl', { class: 'facts' });
    const fact = (label, id, node) => append(dl, h('dt', null, label), append(h('dd', { id: id }), node));
    const slots = isObj(r.slots) ? r.slots : {};
    const keys = Object.keys(slots);
    const chips = h('span', { class: 'slot-chips' });
    keys.forEach((k) => chips.appendChild(append(sp('slot-chip'), sp('sk', k), sp('sv', typeof slots[k] === 'string' ? slots[k] : JSON.stringify(slots[k])))));
    fact('Intent', 'try-intent', r.intent ? badge(r.intent, 'hit') : badge('Not understood', 'miss'));
    fact('Locale', 'try-locale', r.locale ? str(r.locale) + ' · ' + (LOCALE_NAMES[r.locale] || '') : '—');
    fact('Pattern', 'try-pattern', r.pattern ? h('code', { class: 'pat' }, r.pattern) : sp('muted', r.intent ? '—' : 'none matched'));
    fact('Slots', 'try-slots', keys.length ? chips : sp('muted', 'none'));
    if (r.corrected) fact('Read as', 'try-corrected', h('code', null, str(r.corrected)));
    if (Array.isArray(r.excluded) && r.excluded.length) fact('Ruled out', 'try-excluded', sp('muted', r.excluded.map(str).join(', ') + ' (an unless pattern matched)'));
    const hasReply = r.reply !== null && r.reply !== undefined;
    append(clear(el.tryResult), dl, draftName ? h('p', { class: 'help' }, 'Classified with the unsaved draft of ' + draftName + '.') : null,
      append(h('div', { class: 'chat', role: 'group', 'aria-label': 'Preview of the conversation' }),
        append(h('div', { class: 'bubble-row from-customer' }), h('div', { class: 'bubble' }, text)),
        append(h('div', { class: 'bubble-row from-bot' }), h(hasReply ? 'div' : 'p', { class: hasReply ? 'bubble' : 'muted', id: 'try-reply' }, hasReply ? str(r.reply) : 'No reply.'))));
  }

  // =========================================================================== history
  function loadVersions() {
    return api('GET', '/api/admin/intents/versions').then((r) => {
      S.versions = ((r && r.versions) || []).slice().sort((a, b) => b.version - a.version);
      renderVersions();
      if (S.versionSel === null && S.versions.length) selectVersion(S.versions[0].version);
      else if (S.versionSel !== null) updateRollback();
    }).catch((e) => {
      clear(el.versionList).appendChild(h('li', { class: 'list-empty is-error' }, 'Could not load the history: ' + e.message));
    });
  }
  const currentVersion = () => (S.versions.length ? S.versions[0].version : null);
  function renderVersions() {
    clear(el.versionList);
    S.versions.forEach((v, i) => {
      const li = h('li');
      const b = h('button', { type: 'button', class: 'version-row', 'data-version': str(v.version) });
      if (v.version === S.versionSel) {
        b.classList.add('is-active');
        b.setAttribute('aria-current', 'true');
      }
      const top = sp('vr-top');
      append(top, sp('vr-num', 'Version ' + v.version), i === 0 ? badge('current', 'cur') : null, timeEl(v.created_at, fmtWhen(v.created_at)));
      append(b, top, sp('vr-author', str(v.author) || 'unknown'), v.note ? sp('vr-note', v.note) : null);
      li.appendChild(b);
      el.versionList.appendChild(li);
    });
    if (!S.versions.length) el.versionList.appendChild(h('li', { class: 'list-empty' }, 'No versions yet.'));
  }
  function selectVersion(v) {
    S.versionSel = v;
    el.versionDiff.parentNode.querySelectorAll('.errors').forEach((n) => n.remove());
    renderVersions();
    el.versionTitle.textContent = 'Version ' + v;
    el.versionMeta.textContent = 'Loading…';
    clear(el.versionDiff);
    updateRollback();
    api('GET', '/api/admin/intents/versions/' + enc(v)).then((r) => {
      if (S.versionSel !== v) return;
      el.versionMeta.textContent = ['by ' + (str(r.author) || 'unknown'), fmtWhen(r.created_at), str(r.note)].filter(Boolean).join(' · ');
      renderDiff(str(r.diff));
    }).catch((e) => {
      if (S.versionSel !== v) return;
      el.versionMeta.textContent = '';
      el.versionDiff.appendChild(sp('diff-err', 'Could not load this version: ' + e.message));
    });
  }
  function updateRollback() {
    const cur = S.versionSel !== null && S.versionSel === currentVersion();
    el.versionRollback.disabled = S.versionSel === null || cur;
    el.versionRollback.title = cur ? 'This is the current version.' : '';
  }
  function renderDiff(text) {
    clear(el.versionDiff);
    if (!text.trim()) {
      el.versionDiff.appendChild(sp('diff-ctx', 'No changes against the previous version.'));
      return;
    }
    text.replace(/\n$/, '').split('\n').forEach((ln) => {
      let cls = 'diff-ctx';
      if (/^(\+\+\+|---)( |$)/.test(ln) || /^diff |^index /.test(ln)) cls = 'diff-file';
      else if (ln.charAt(0) === '+') cls = 'diff-add';
      else if (ln.charAt(0) === '-') cls = 'diff-del';
      else if (/^@@/.test(ln)) cls = 'diff-hunk';
      el.versionDiff.appendChild(sp('dl ' + cls, ln + '\n'));
    });
  }
  function rollback() {
    const v = S.versionSel;
    if (v === null) return;
    confirmBox('Roll back to version ' + v + '?', 'The rules become exactly what they were in version ' + v + '. This is saved as a new version, so it can be undone the same way.', 'Roll back').then((ok) => {
      if (!ok) return;
      busy(el.versionRollback, true);
      api('POST', '/api/admin/intents/versions/' + enc(v) + '/rollback').then((r) => {
        toast('Rolled back to version ' + v + ': now version ' + str(r && r.version) + '.', 'ok');
        S.versionSel = r && r.version !== undefined ? r.version : null;
        if (ed && !ed.dirty) {
          ed = null;
          showEditor(false);
        }
        loadIntents();
        return loadVersions().then(() => { if (S.versionSel !== null) selectVersion(S.versionSel); });
      }).catch((e) => {
        const box = h('div', { class: 'errors' });
        renderErrorBox(box, 'Not rolled back: ' + e.message, fieldErrors(e).map((x) => ({ label: x.field, message: x.message })), e.body.broken_examples || []);
        el.versionDiff.before(box);
      }).then(() => {
        busy(el.versionRollback, false);
        updateRollback();
      });
    });
  }

  // =========================================================================== import / export
  function loadExport() {
    clear(el.ioFiles).appendChild(h('li', { class: 'list-empty' }, 'Loading…'));
    return api('GET', '/api/admin/intents/export').then((r) => {
      S.exportData = r || {};
      const prec = str(S.exportData.precedence);
      el.ioPrecedence.hidden = !prec;
      clear(el.ioPrecedence);
      if (prec) append(el.ioPrecedence, h('b', null, 'Which rules win: '), prec);
      el.ioDownloadAll.disabled = false;
      renderFiles();
    }).catch((e) => {
      clear(el.ioFiles).appendChild(h('li', { class: 'list-empty is-error' }, 'Could not export: ' + e.message));
    });
  }
  const exportFiles = () => (S.exportData && isObj(S.exportData.files) ? S.exportData.files : {});
  function renderFiles() {
    const files = exportFiles();
    const paths = Object.keys(files).sort();
    clear(el.ioFiles);
    const mk = (label, path, cls) => {
      const li = h('li', { class: 'file-item' });
      const v = h('button', { type: 'button', class: 'file-row ' + (cls || ''), 'data-path': path, title: path || null }, label);
      li.appendChild(v);
      if (path) li.appendChild(btn('Download', 'btn-sm btn-quiet file-dl', { 'data-path': path, 'aria-label': 'Download ' + path }));
      el.ioFiles.appendChild(li);
    };
    if (paths.length) mk('All files (combined view)', '', 'is-all');
    paths.forEach((p) => mk(p, p));
    if (!paths.length) el.ioFiles.appendChild(h('li', { class: 'list-empty' }, 'The export is empty.'));
    showFile(paths.length ? '' : null);
  }
  function showFile(path) {
    const files = exportFiles();
    el.ioFiles.querySelectorAll('.file-row').forEach((b) => {
      const cur = b.getAttribute('data-path') === path;
      b.classList.toggle('is-active', cur);
      if (cur) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    });
    if (path === null) {
      el.ioFileName.textContent = 'Nothing to show.';
      el.ioPreview.textContent = '';
    } else if (path === '') {
      el.ioFileName.textContent = 'All files';
      el.ioPreview.textContent = Object.keys(files).sort().map((p) => '==> ' + p + ' <==\n' + str(files[p]).replace(/\n?$/, '\n')).join('\n');
    } else {
      el.ioFileName.textContent = path;
      el.ioPreview.textContent = str(files[path]);
    }
  }
  function onFilesClick(e) {
    const b = e.target.closest('button');
    if (!b) return;
    const path = b.getAttribute('data-path');
    if (b.classList.contains('file-dl')) download(path.replace(/\//g, '_'), str(exportFiles()[path]));
    else showFile(path);
  }
  function downloadAll() {
    if (!S.exportData) return;
    const v = S.version !== null && S.version !== undefined ? '-v' + S.version : '';
    download('kituo-rules' + v + '.json', JSON.stringify({ files: exportFiles() }, null, 2) + '\n', 'application/json');
  }
  // =========================================================================== agents & teams
  function loadAgents() {
    return Promise.all([api('GET', '/api/admin/agents'), loadTeams()]).then((rs) => {
      S.agents = (rs[0] && rs[0].agents) || [];
      renderAgents();
      renderTeams();
    }).catch((e) => emptyRow(el.agentTable.tBodies[0], 7, 'Could not load the agents: ' + e.message, 'is-error'));
  }
  function loadTeams() {
    return api('GET', '/api/teams').then((r) => {
      S.teams = ((r && r.teams) || []).filter((t) => t && t.name);
      fillTeamsDatalist();
    }, () => { /* the list is a convenience */ });
  }
  function fillTeamsDatalist() {
    const names = new Set(S.teams.map((t) => t.name));
    S.agents.forEach((a) => (a.teams || []).forEach((t) => names.add(t)));
    S.intents.forEach((i) => { if (i.team) names.add(i.team); });
    clear(el.teamsDatalist);
    Array.from(names).sort().forEach((n) => el.teamsDatalist.appendChild(h('option', { value: n })));
  }
  function renderAgents() {
    const tb = el.agentTable.tBodies[0];
    clear(tb);
    const list = S.agents.slice().sort((a, b) => (b.active ? 1 : 0) - (a.active ? 1 : 0) || str(a.name).localeCompare(str(b.name)));
    list.forEach((a) => tb.appendChild(agentRow(a)));
    if (!list.length) emptyRow(tb, 7, 'No agents.');
    fillTeamsDatalist();
  }
  function agentRow(a) {
    const who = str(a.name) || str(a.email);
    const isMe = me && a.id === me.id;
    const tr = h('tr', { 'data-id': str(a.id), class: a.active ? '' : 'is-inactive' });
    const c1 = h('td');
    append(c1, h('div', { class: 'ag-name' }, who), isMe ? badge('you', 'cur') : null, h('div', { class: 'muted ag-email' }, str(a.email)));
    const role = h('select', { class: 'ag-role', 'aria-label': 'Role of ' + who });
    ['agent', 'admin'].forEach((r) => role.appendChild(h('option', { value: r }, r)));
    role.value = a.role === 'admin' ? 'admin' : 'agent';
    on(role, 'change', () => {
      const want = role.value;
      const go = isMe && want !== 'admin' ? confirmBox('Remove your own admin role?', 'You will lose access to these pages at once.', 'Remove my admin role', true) : Promise.resolve(true);
      go.then((ok) => (ok ? patchAgent(a, { role: want }, role) : (role.value = a.role)));
    });
    const teams = h('td', { class: 'ag-teams' });
    (a.teams || []).forEach((t) => {
      const chip = sp('team-chip');
      const x = h('button', { type: 'button', class: 'chip-x', 'aria-label': 'Remove ' + who + ' from team ' + t, title: 'Remove from team' }, '×');
      on(x, 'click', () => teamMember('remove', t, a, x));
      append(chip, sp('', t), x);
      teams.appendChild(chip);
    });
    const tf = h('form', { class: 'team-add' });
    const ti = h('input', { type: 'text', list: 'teams-datalist', placeholder: 'add team', 'aria-label': 'Add ' + who + ' to a team', maxlength: '64' });
    const tb = h('button', { type: 'submit', class: 'btn btn-sm' }, 'Add');
    on(tf, 'submit', (e) => {
      e.preventDefault();
      const t = ti.value.trim().toLowerCase();
      if (t) teamMember('add', t, a, tb);
    });
    append(tf, ti, tb);
    teams.appendChild(tf);
    const cap = h('input', { type: 'number', min: '0', max: '1000', step: '1', class: 'ag-cap', 'aria-label': 'Capacity of ' + who });
    cap.value = str(a.capacity);
    on(cap, 'change', () => {
      if (cap.value === '') return;
      const v = parseInt(cap.value, 10);
      if (isNaN(v) || v < 0) {
        cap.value = str(a.capacity);
        return toast('Capacity is a whole number from 0.', 'error');
      }
      patchAgent(a, { capacity: v }, cap);
    });
    const pres = sp('pres');
    append(pres, sp('presence-dot p-' + str(a.presence)), PRESENCE[a.presence] || str(a.presence) || '—');
    const act = h('input', { type: 'checkbox', class: 'switch ag-active', role: 'switch', 'aria-label': who + ' is active' });
    act.checked = !!a.active;
    on(act, 'change', () => {
      const want = act.checked;
      const go = !want ? confirmBox('Deactivate ' + who + '?', 'Inactive agents get no conversations. You can reactivate them later.', 'Deactivate', true) : Promise.resolve(true);
      go.then((ok) => (ok ? patchAgent(a, { active: want }, act) : (act.checked = !!a.active)));
    });
    append(tr, c1, append(h('td'), role), teams, append(h('td', { class: 'num' }, ''), cap), h('td', { class: 'num' }, str(a.load === undefined ? '' : a.load)), append(h('td'), pres), append(h('td'), act));
    return tr;
  }
  function patchAgent(a, body, ctl) {
    busy(ctl, true);
    return api('PATCH', '/api/admin/agents/' + enc(a.id), body).then((r) => {
      const next = (r && r.agent) || Object.assign({}, a, body);
      S.agents = S.agents.map((x) => (x.id === a.id ? next : x));
      if (me && a.id === me.id && body.role && body.role !== 'admin') {
        leaving = true;
        w.location.reload();
        return;
      }
      renderAgents();
      toast('Saved ' + (str(next.name) || str(next.email)) + '.', 'ok');
    }).catch((e) => {
      showErr(e);
      renderAgents();
    }).then(() => busy(ctl, false));
  }
  function teamMember(kind, team, a, ctl) {
    busy(ctl, true);
    const p = kind === 'add'
      ? api('POST', '/api/admin/teams/' + enc(team) + '/members', { agent_id: a.id })
      : api('DELETE', '/api/admin/teams/' + enc(team) + '/members/' + enc(a.id));
    return p.then(() => {
      toast((kind === 'add' ? 'Added ' : 'Removed ') + (str(a.name) || str(a.email)) + (kind === 'add' ? ' to ' : ' from ') + team + '.', 'ok');
      return loadAgents();
    }).catch((e) => {
      showErr(e);
      busy(ctl, false);
    });
  }
  function renderTeams() {
    clear(el.teamList);
    const byId = new Map(S.agents.map((a) => [a.id, a]));
    const nameOf = (m) => (isObj(m) ? str(m.name || m.email || m.id) : byId.has(m) ? str(byId.get(m).name || byId.get(m).email) : str(m));
    S.teams.slice().sort((a, b) => (a.name < b.name ? -1 : 1)).forEach((t) => {
      const names = Array.isArray(t.members) ? t.members.map(nameOf) : [];
      const n = Array.isArray(t.members) ? names.length : typeof t.members === 'number' ? t.members : null;
      el.teamList.appendChild(append(h('li', { class: 'team-item', 'data-team': t.name }), h('b', null, t.name), ' ',
        sp('muted', n === null ? '' : '(' + plural(n, 'member') + ')'), names.length ? h('div', { class: 'team-members' }, names.join(', ')) : null));
    });
    if (!S.teams.length) el.teamList.appendChild(h('li', { class: 'list-empty' }, 'No teams yet.'));
  }
  function addAgent() {
    clearFormError(el.agentFormError);
    const body = { email: el.agentEmail.value.trim(), name: el.agentName.value.trim(), role: el.agentRole.value };
    if (el.agentPassword.value) body.password = el.agentPassword.value;
    if (!body.email || !body.name) return need(el.agentFormError, 'agent-', !body.email ? 'email' : 'name');
    busy(el.agentAdd, true);
    api('POST', '/api/admin/agents', body).then((r) => {
      const a = (r && r.agent) || {};
      el.agentForm.reset();
      if (r && r.password) {
        el.agentCreatedWho.textContent = str(a.name || a.email);
        el.agentCreatedPassword.textContent = r.password;
        el.agentCreated.hidden = false;
        el.agentCreatedCopy.focus();
      } else {
        el.agentCreated.hidden = true;
        toast('Added ' + str(a.name || a.email) + '.', 'ok');
      }
      loadAgents();
    }).catch((er) => formError(el.agentFormError, 'agent-', er)).then(() => busy(el.agentAdd, false));
  }

  // =========================================================================== canned responses
  function loadCanned() {
    return api('GET', '/api/canned_responses').then((r) => {
      S.canned = ((r && r.canned_responses) || []).slice().sort((a, b) => (a.shortcut < b.shortcut ? -1 : 1));
      renderCanned();
    }).catch((e) => emptyRow(el.cannedTable.tBodies[0], 3, 'Could not load: ' + e.message, 'is-error'));
  }
  function renderCanned() {
    const tb = el.cannedTable.tBodies[0];
    clear(tb);
    S.canned.forEach((c) => {
      const acts = h('div', { class: 'btn-row' });
      const ed_ = btn('Edit', 'btn-sm canned-edit', { 'aria-label': 'Edit /' + c.shortcut });
      const rm = btn('Delete', 'btn-sm btn-quiet canned-delete', { 'aria-label': 'Delete /' + c.shortcut });
      on(ed_, 'click', () => {
        el.cannedShortcut.value = c.shortcut;
        el.cannedText.value = c.text;
        el.cannedText.focus();
        el.cannedForm.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      });
      on(rm, 'click', () => confirmDo(rm, 'Delete /' + c.shortcut + '?', 'Agents can no longer insert it.', 'Delete',
        () => api('DELETE', '/api/admin/canned_responses/' + enc(c.shortcut)), 'Deleted /' + c.shortcut + '.', loadCanned));
      append(acts, ed_, rm);
      tb.appendChild(row([h('code', { class: 'sc' }, '/' + c.shortcut), h('div', { class: 'canned-body' }, str(c.text)), [acts, 'actions']], { 'data-shortcut': c.shortcut }));
    });
    if (!S.canned.length) emptyRow(tb, 3, 'No canned responses yet.');
  }
  function saveCanned() {
    clearFormError(el.cannedFormError);
    const sc = el.cannedShortcut.value.trim().replace(/^\/+/, '').toLowerCase();
    const text = el.cannedText.value;
    if (!sc || !text.trim()) return need(el.cannedFormError, 'canned-', !sc ? 'shortcut' : 'text');
    busy(el.cannedSave, true);
    api('PUT', '/api/admin/canned_responses/' + enc(sc), { text: text }).then(() => {
      toast('Saved /' + sc + '.', 'ok');
      el.cannedForm.reset();
      loadCanned();
    }).catch((er) => formError(el.cannedFormError, 'canned-', er)).then(() => busy(el.cannedSave, false));
  }

  // =========================================================================== settings
  function loadSettings() {
    return api('GET', '/api/admin/settings').then((r) => {
      S.settings = r || {};
      fillSettings();
      fillBackoffice(S.settings.backoffice);
    }).catch((e) => {
      el.settingsError.hidden = false;
      el.settingsError.textContent = 'Could not load the settings: ' + e.message;
    });
  }
  function fillSettings(newSecret) {
    const s = S.settings || {};
    el.setBusinessHours.value = str(s.business_hours);
    el.setUtcOffset.value = str(s.utc_offset);
    el.setAllowedOrigins.value = (s.allowed_origins || []).join('\n');
    el.setWidgetSecret.value = newSecret || '';
    setSecretVisible(!!newSecret);
    el.setSecretState.textContent = newSecret ? 'Saved. Copy this secret to your web server now: it is not shown again.' : s.widget_secret_set
      ? 'A secret is set (it is never shown). Leave empty to keep it; type or generate a new one to replace it.'
      : 'No secret is set: the widget’s identify is refused until you set one.';
    el.setSecretState.classList.toggle('is-warn', !s.widget_secret_set);
  }
  function fillBackoffice(b) {
    b = b || {};
    el.boSource.textContent = str(b.source) || 'builtin';
    el.boLocation.textContent = str(b.location) || '—';
    el.boState.textContent = str(b.state) || 'unknown';
    el.boState.classList.toggle('is-warn', b.state === 'down');
    el.boLastError.textContent = str(b.last_error) || 'none';
  }
  function testBackoffice() {
    busy(el.boTest, true);
    el.boTestResult.textContent = 'Testing…';
    api('POST', '/api/admin/backoffice/test', {}).then((r) => {
      fillBackoffice(r);
      el.boTestResult.textContent = r.ok ? 'Connected: answered in ' + r.latency_ms + ' ms.'
        : 'Failed after ' + r.latency_ms + ' ms: ' + str(r.error);
      el.boTestResult.classList.toggle('is-warn', !r.ok);
    }).catch((er) => { el.boTestResult.textContent = 'Could not test: ' + er.message; })
      .then(() => busy(el.boTest, false));
  }
  function setSecretVisible(v) {
    el.setWidgetSecret.type = v ? 'text' : 'password';
    el.setSecretShow.setAttribute('aria-pressed', v ? 'true' : 'false');
    el.setSecretShow.textContent = v ? 'Hide' : 'Show';
  }
  function saveSettings() {
    clearFormError(el.settingsError);
    const body = {
      business_hours: el.setBusinessHours.value.trim() || null,
      utc_offset: el.setUtcOffset.value.trim(),
      allowed_origins: el.setAllowedOrigins.value.split(/\r?\n/).map((x) => x.trim()).filter(Boolean)
    };
    if (!body.utc_offset) delete body.utc_offset;
    if (el.setWidgetSecret.value) body.widget_secret = el.setWidgetSecret.value;
    busy(el.settingsSave, true);
    api('PUT', '/api/admin/settings', body).then((r) => {
      S.settings = r || S.settings;
      fillSettings(body.widget_secret);
      toast('Settings saved.', 'ok');
    }).catch((er) => formError(el.settingsError, 'set-', er)).then(() => busy(el.settingsSave, false));
  }

  // =========================================================================== SLA targets
  function loadSla() {
    return api('GET', '/api/admin/sla').then((r) => {
      const body = el.slaTable.querySelector('tbody');
      while (body.firstChild) body.removeChild(body.firstChild);
      const rows = (r && r.targets) || [];
      const mins = (s) => (s ? Math.round(s / 60) + ' min' : '—');
      if (!rows.length) body.appendChild(h('tr', null)).appendChild(h('td', { colspan: '4', class: 'list-empty' }, 'No targets yet.'));
      rows.forEach((t) => {
        const tr = h('tr', { 'data-team': str(t.team), 'data-priority': str(t.priority) });
        [t.team || 'every team', t.priority, mins(t.first_response_secs), mins(t.resolution_secs)].forEach((x) => tr.appendChild(h('td', null, str(x))));
        body.appendChild(tr);
      });
    }).catch((e) => formError(el.slaFormError, 'sla-', e));
  }
  function saveSla() {
    clearFormError(el.slaFormError);
    const secs = (input) => (input.value.trim() ? Math.round(Number(input.value) * 60) : null);
    const body = {
      team: el.slaTeam.value.trim() || null,
      priority: el.slaPriority.value,
      first_response_secs: secs(el.slaFirstResponse),
      resolution_secs: secs(el.slaResolution)
    };
    busy(el.slaSave, true);
    api('PUT', '/api/admin/sla', body).then(() => {
      toast('SLA target saved.', 'ok');
      loadSla();
    }).catch((er) => formError(el.slaFormError, 'sla-', er)).then(() => busy(el.slaSave, false));
  }

  // =========================================================================== API tokens
  function loadTokens() {
    return api('GET', '/api/admin/tokens').then((r) => {
      const list = ((r && r.tokens) || []).slice().sort((a, b) => (a.revoked_at ? 1 : 0) - (b.revoked_at ? 1 : 0) || ms(b.created_at) - ms(a.created_at));
      const tb = el.tokenTable.tBodies[0];
      clear(tb);
      list.forEach((t) => {
        const rv = t.revoked_at ? null : btn('Revoke', 'btn-sm btn-danger token-revoke', { 'aria-label': 'Revoke token ' + str(t.name) });
        if (rv) on(rv, 'click', () => confirmDo(rv, 'Revoke “' + str(t.name) + '”?', 'Anything using this token stops working at once. This cannot be undone.', 'Revoke',
          () => api('DELETE', '/api/admin/tokens/' + enc(t.id)), 'Revoked “' + str(t.name) + '”.', loadTokens));
        const status = t.revoked_at ? badge('Revoked ' + fmtWhen(t.revoked_at), 'revoked') : badge('Active', 'ok');
        tb.appendChild(row([h('b', null, str(t.name)), badge(str(t.role), 'role'), timeEl(t.created_at, fmtWhen(t.created_at)), status, [rv, 'actions']],
          { 'data-id': str(t.id), class: t.revoked_at ? 'is-inactive' : null }));
      });
      if (!list.length) emptyRow(tb, 5, 'No API tokens.');
    }).catch((e) => emptyRow(el.tokenTable.tBodies[0], 5, 'Could not load: ' + e.message, 'is-error'));
  }
  function createToken() {
    clearFormError(el.tokenFormError);
    const name = el.tokenName.value.trim();
    if (!name) return need(el.tokenFormError, 'token-', 'name');
    busy(el.tokenCreate, true);
    api('POST', '/api/admin/tokens', { name: name, role: el.tokenRole.value }).then((r) => {
      el.tokenForm.reset();
      el.tokenOnceName.textContent = str(r && r.name) || name;
      el.tokenValue.textContent = str(r && r.token);
      el.tokenOnce.hidden = false;
      el.tokenCopy.focus();
      loadTokens();
    }).catch((er) => formError(el.tokenFormError, 'token-', er)).then(() => busy(el.tokenCreate, false));
  }

  // =========================================================================== audit log
  let auditSeq = 0;
  function loadAudit() {
    const q = ['limit=200'];
    if (el.auditAction.value) q.push('action=' + enc(el.auditAction.value));
    if (el.auditActor.value.trim()) q.push('actor=' + enc(el.auditActor.value.trim()));
    const seq = ++auditSeq;
    el.auditStatus.textContent = 'Loading…';
    return api('GET', '/api/admin/audit?' + q.join('&')).then((r) => {
      if (seq !== auditSeq) return;
      const list = (r && r.entries) || [];
      const tb = el.auditTable.tBodies[0];
      clear(tb);
      list.forEach((en) => {
        tb.appendChild(row([[timeEl(en.at, fmtWhen(en.at)), 'nowrap'], auditValue(en.actor, en.actor_name), badge(str(en.action), 'aud aud-' + str(en.action).split('.')[0]),
          auditValue(en.target, en.target_name), details(en.details)], { 'data-action': str(en.action) }));
      });
      if (!list.length) emptyRow(tb, 5, 'No entries match.');
      el.auditStatus.textContent = list.length >= 200 ? 'Showing the latest 200 entries.' : plural(list.length, 'entry', 'entries');
    }).catch((e) => {
      if (seq !== auditSeq) return;
      el.auditStatus.textContent = '';
      emptyRow(el.auditTable.tBodies[0], 5, 'Could not load the audit log: ' + e.message, 'is-error');
    });
  }
  function auditValue(v, name) {
    if (name) return h('span', { title: str(v) }, str(name));
    if (isObj(v)) return str(v.name || v.email || v.id || JSON.stringify(v));
    return str(v) || '—';
  }
  function details(obj) {
    if (!isObj(obj) || !Object.keys(obj).length) return sp('muted', obj && !isObj(obj) ? str(obj) : '—');
    const dl = h('dl', { class: 'details' });
    Object.keys(obj).forEach((k) => {
      const v = obj[k];
      append(dl, h('dt', null, k), h('dd', null, typeof v === 'string' ? v : JSON.stringify(v)));
    });
    return dl;
  }

  // =========================================================================== shell
  const LOADERS = {
    intents: () => {
      loadIntents();
      loadMisses();
    },
    history: loadVersions,
    io: () => { if (!S.exportData) loadExport(); },
    agents: loadAgents,
    canned: loadCanned,
    settings: () => {
      loadSettings();
      loadSla();
    },
    tokens: loadTokens,
    audit: loadAudit
  };
  let ready = false;
  function route() {
    if (!ready) return;
    const m = /^#\/(\w+)/.exec(w.location.hash);
    const v = m && VIEWS.indexOf(m[1]) >= 0 ? m[1] : 'intents';
    const changed = v !== view;
    view = v;
    VIEWS.forEach((x) => {
      $('view-' + x).hidden = x !== v;
      const n = $('nav-' + x);
      if (x === v) n.setAttribute('aria-current', 'page');
      else n.removeAttribute('aria-current');
    });
    d.title = $('nav-' + v).textContent + ' · Kituo admin';
    if (changed) {
      el.main.scrollTop = 0;
      LOADERS[v]();
    }
  }
  function logout() {
    const go = ed && ed.dirty ? confirmBox('Log out with unsaved changes?', 'Your changes to the intent are not saved.', 'Log out', true) : Promise.resolve(true);
    go.then((ok) => {
      if (!ok) return;
      el.logout.disabled = true;
      api('POST', '/api/logout').catch(() => {}).then(() => {
        leaving = true;
        w.location.replace('/login');
      });
    });
  }

  const submit = (form, fn) => on(form, 'submit', (e) => {
    e.preventDefault();
    fn();
  });
  function bind() {
    // Every element with an id is el.<camelCase id>.
    d.querySelectorAll('[id]').forEach((n) => { el[n.id.replace(/-(\w)/g, (x, c) => c.toUpperCase())] = n; });
    el.editor = el.intentEditor;
    LOCALES.forEach((l) => ['patterns', 'unless', 'examples', 'reply'].forEach((k) => { TA[k + '.' + l] = $('ie-' + k + '-' + l); }));
    const clicks = {
      intentNew: () => openEditor(null),
      missesRefresh: loadMisses,
      missList: onMissClick,
      ieDelete: del,
      ieClose: closeEditor,
      ieSlotAdd: () => {
        addSlotRow('', { required: false }).querySelector('.slot-name').focus();
        validateSoon();
      },
      versionRollback: rollback,
      historyRefresh: loadVersions,
      ioExport: loadExport,
      ioDownloadAll: downloadAll,
      ioFiles: onFilesClick,
      agentsRefresh: loadAgents,
      agentCreatedCopy: () => copyText(el.agentCreatedPassword, el.agentCreatedCopy),
      tokenCopy: () => copyText(el.tokenValue, el.tokenCopy),
      cannedCancel: () => {
        el.cannedForm.reset();
        clearFormError(el.cannedFormError);
      },
      boTest: testBackoffice,
      setSecretShow: () => setSecretVisible(el.setWidgetSecret.type === 'password'),
      setSecretGenerate: () => {
        el.setWidgetSecret.value = randomHex(32);
        setSecretVisible(true);
        el.setSecretState.textContent = 'New secret generated: copy it to your web server (it signs customer emails), then save.';
        el.setWidgetSecret.select();
      },
      logout: logout,
      bootRetry: () => w.location.reload(),
      intentList: (e) => {
        const r = e.target.closest('.intent-row');
        const it = r && intentByName(r.getAttribute('data-name'));
        if (it) openEditor(it);
      },
      versionList: (e) => {
        const r = e.target.closest('.version-row');
        if (r) selectVersion(Number(r.getAttribute('data-version')));
      }
    };
    Object.keys(clicks).forEach((k) => on(el[k], 'click', clicks[k]));
    const forms = { intentEditor: save, tryForm: runTry, agentForm: addAgent, cannedForm: saveCanned, settingsForm: saveSettings, slaForm: saveSla, tokenForm: createToken, auditForm: loadAudit };
    Object.keys(forms).forEach((k) => submit(el[k], forms[k]));
    // "Done" on a secret shown once forgets it.
    [[el.agentCreatedHide, el.agentCreated, el.agentCreatedPassword], [el.tokenHide, el.tokenOnce, el.tokenValue]].forEach((x) => on(x[0], 'click', () => {
      x[1].hidden = true;
      x[2].textContent = '';
    }));
    on(el.intentFilter, 'input', renderIntentList);
    on(el.editor, 'input', (e) => {
      if (e.target === el.ieAction) renderVars();
      validateSoon();
    });
    on(el.editor, 'keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
        e.preventDefault();
        save();
      }
    });
    on(el.auditAction, 'change', loadAudit);
    let auditTimer = 0;
    on(el.auditActor, 'input', () => {
      clearTimeout(auditTimer);
      auditTimer = setTimeout(loadAudit, VALIDATE_DELAY);
    });
    on(w, 'hashchange', route);
    on(w, 'beforeunload', (e) => {
      if (leaving || !ed || !ed.dirty) return;
      e.preventDefault();
      e.returnValue = '';
    });
  }

  function boot() {
    bind();
    loadMe().then(() => {
      d.body.classList.remove('is-booting');
      if (!me) throw new Error('The server did not say who you are.');
      el.adminName.textContent = str(me.name) || str(me.email);
      el.adminName.title = [me.email, me.role].filter(Boolean).join(' · ');
      if (me.role !== 'admin') {
        d.body.classList.add('is-gated');
        $('gate-who').textContent = (str(me.name) || str(me.email)) + ' (' + str(me.role || 'agent') + ')';
        VIEWS.forEach((x) => { $('view-' + x).hidden = true; });
        $('admins-only').hidden = false;
        d.title = 'Admins only · Kituo admin';
        return;
      }
      ready = true;
      route();
      loadTeams();
    }).catch((e) => {
      if (e.status === 401) return toLogin();
      d.body.classList.remove('is-booting');
      d.body.classList.add('is-gated');
      VIEWS.forEach((x) => { $('view-' + x).hidden = true; });
      $('boot-error-text').textContent = e.message;
      $('boot-error').hidden = false;
    });
  }

  if (d.readyState === 'loading') on(d, 'DOMContentLoaded', boot);
  else boot();
})();
