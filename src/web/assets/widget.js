/*
 * Kituo chat widget.
 * Embed on any page with:
 *   <script src="https://HOST/widget.js" async></script>
 * Optional attributes: data-email, data-name, data-hmac, data-locale-title.
 * Plain ES2019, no dependencies. Everything below lives in one IIFE; all DOM ids
 * and classes are prefixed with "kituo-" so the host page is left alone.
 */
(function () {
  'use strict';

  var w = window;
  var d = document;
  if (w.__kituoWidget) return;
  w.__kituoWidget = true;

  // ------------------------------------------------------------------ config
  const MAX_LEN = 4000;
  const COUNTER_FROM = 3500;
  const TYPING_SEND_EVERY = 3000;
  const TYPING_SHOW_FOR = 4000;
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 15000;
  const SESSION_WAIT = 10000;
  const NOTICE_FOR = 6000;
  const K_TOKEN = 'kituo.visitor_token';
  const K_OPEN = 'kituo.open';
  const K_PENDING = 'kituo.pending';
  const K_SEEN = 'kituo.seen';
  const AUTHORS = ['customer', 'bot', 'agent', 'system'];
  const MESSAGE_ERRORS = ['too_long', 'rate_limited', 'empty', 'busy', 'unavailable', 'empty_message', 'invalid_message', 'message_too_long'];

  // ------------------------------------------------- locate our own <script>
  function findScript() {
    const cur = d.currentScript;
    if (cur && cur.src) return cur;
    const all = d.getElementsByTagName('script');
    for (let i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(?:[?#].*)?$/.test(all[i].src || '')) return all[i];
    }
    return null;
  }
  const script = findScript();
  function attr(name) {
    const v = script ? script.getAttribute(name) : null;
    return v && v.trim() ? v.trim() : '';
  }

  let base;
  try {
    base = new URL(script && script.src ? script.src : w.location.href, w.location.href);
  } catch (e) {
    base = w.location;
  }
  const WS_URL = (base.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + base.host + '/ws/chat';
  const TITLE = attr('data-locale-title') || 'Chat with us';

  // ----------------------------------------------------------------- storage
  function probe(kind) {
    try {
      const s = w[kind];
      s.setItem('kituo.__probe', '1');
      s.removeItem('kituo.__probe');
      return s;
    } catch (e) {
      return null;
    }
  }
  const LS = probe('localStorage');
  const SS = probe('sessionStorage');
  const memory = {};
  function sget(s, k) {
    try {
      if (s) return s.getItem(k);
    } catch (e) { /* ignore */ }
    return Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : null;
  }
  function sset(s, k, v) {
    memory[k] = v;
    try {
      if (s) s.setItem(k, v);
    } catch (e) { /* ignore */ }
  }
  function sdel(s, k) {
    delete memory[k];
    try {
      if (s) s.removeItem(k);
    } catch (e) { /* ignore */ }
  }

  // ----------------------------------------------------------------- helpers
  function h(tag, attrs, text) {
    const n = d.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (attrs[k] !== null && attrs[k] !== undefined) n.setAttribute(k, attrs[k]);
      });
    }
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function pad(n) {
    return String(n).padStart(2, '0');
  }
  function uuid() {
    const c = w.crypto;
    if (c && typeof c.randomUUID === 'function') {
      try {
        return c.randomUUID();
      } catch (e) { /* insecure context */ }
    }
    const b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.prototype.map.call(b, function (v) { return pad(v.toString(16)); }).join('');
    return x.slice(0, 8) + '-' + x.slice(8, 12) + '-' + x.slice(12, 16) + '-' + x.slice(16, 20) + '-' + x.slice(20);
  }
  function safeHref(url) {
    try {
      const u = new URL(url);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
    } catch (e) { /* not a URL */ }
    return null;
  }
  function count(s, ch) {
    return s.split(ch).length - 1;
  }

  // Puts `text` into `node` as text nodes; http(s) URLs become <a> elements.
  function fillText(node, text, linkify) {
    if (!linkify) {
      node.textContent = text;
      return;
    }
    const re = /\bhttps?:\/\/[^\s<>"'`]+/gi;
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      let url = m[0];
      for (;;) {
        const ch = url.charAt(url.length - 1);
        if (!/[.,;:!?'")\]}]/.test(ch)) break;
        if (ch === ')' && count(url, ')') <= count(url, '(')) break;
        url = url.slice(0, -1);
      }
      if (m.index > last) node.appendChild(d.createTextNode(text.slice(last, m.index)));
      const href = safeHref(url);
      if (href) {
        const a = h('a', { href: href, target: '_blank', rel: 'noopener noreferrer', class: 'kituo-link' });
        a.textContent = url;
        node.appendChild(a);
      } else {
        node.appendChild(d.createTextNode(url));
      }
      last = m.index + url.length;
      re.lastIndex = last;
    }
    if (last < text.length) node.appendChild(d.createTextNode(text.slice(last)));
  }

  // ------------------------------------------------------------------ styles
  const TEAL = '#0f766e';
  const CSS = [
    '#kituo-root,#kituo-root *,#kituo-root *::before,#kituo-root *::after{box-sizing:border-box;margin:0;padding:0;border:0;background:none;box-shadow:none;float:none;letter-spacing:normal;text-transform:none;text-decoration:none;text-indent:0;text-shadow:none;min-width:0;max-width:none;font:inherit;color:inherit;line-height:inherit}',
    '#kituo-root{font:14.5px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#0f172a;-webkit-font-smoothing:antialiased}',
    '#kituo-root [hidden]{display:none!important}',
    '#kituo-root .kituo-sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
    '#kituo-root :focus{outline:none}',
    '#kituo-root :focus-visible{outline:3px solid #5eead4;outline-offset:2px}',
    '#kituo-root button{cursor:pointer;-webkit-appearance:none;appearance:none}',
    '#kituo-root .kituo-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:58px;height:58px;border-radius:50%;background:' + TEAL + ';color:#fff;display:flex;align-items:center;justify-content:center;box-shadow:0 6px 20px rgba(15,23,42,.28);transition:transform .15s ease,background .15s ease}',
    '#kituo-root .kituo-launcher:hover{background:#115e59;transform:scale(1.05)}',
    '#kituo-root .kituo-launcher svg{width:28px;height:28px;fill:currentColor}',
    '#kituo-root .kituo-launcher .kituo-ic-close{display:none}',
    '#kituo-root.kituo-is-open .kituo-launcher .kituo-ic-chat{display:none}',
    '#kituo-root.kituo-is-open .kituo-launcher .kituo-ic-close{display:block}',
    '#kituo-root .kituo-badge{position:absolute;top:-3px;right:-3px;min-width:21px;height:21px;padding:0 6px;border-radius:11px;background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:21px;text-align:center;border:2px solid #fff}',
    '#kituo-root .kituo-panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:372px;height:600px;max-height:calc(100vh - 116px);background:#fff;border-radius:16px;box-shadow:0 14px 44px rgba(15,23,42,.25),0 2px 6px rgba(15,23,42,.08);display:flex;flex-direction:column;overflow:hidden;animation:kituo-in .18s ease-out}',
    '@keyframes kituo-in{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}',
    '#kituo-root .kituo-header{background:' + TEAL + ';color:#fff;padding:14px 12px 12px 18px;display:flex;align-items:flex-start;gap:8px;flex:none}',
    '#kituo-root .kituo-head-text{flex:1;min-width:0}',
    '#kituo-root .kituo-title{font-size:16.5px;font-weight:650;line-height:1.3}',
    '#kituo-root .kituo-sub,#kituo-root .kituo-status{font-size:12.5px;opacity:.9;line-height:1.35;margin-top:2px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
    '#kituo-root .kituo-status{opacity:1;font-style:italic}',
    '#kituo-root .kituo-avatar{display:inline-flex;align-items:center;justify-content:center;width:20px;height:20px;border-radius:50%;background:#fff;color:' + TEAL + ';font-size:10.5px;font-weight:700;margin-right:6px;vertical-align:middle}',
    '#kituo-root .kituo-csat{align-self:stretch;background:#fff;border:1px solid #e2e8f0;border-radius:12px;padding:10px 12px;display:flex;flex-direction:column;gap:8px}',
    '#kituo-root .kituo-csat-q{font-weight:600}',
    '#kituo-root .kituo-csat-row{display:flex;gap:6px}',
    '#kituo-root .kituo-csat-star{flex:1;height:34px;border:1px solid #cbd5e1;border-radius:8px;background:#f8fafc;font-weight:600;cursor:pointer}',
    '#kituo-root .kituo-csat-star[aria-pressed="true"]{background:' + TEAL + ';border-color:' + TEAL + ';color:#fff}',
    '#kituo-root .kituo-csat-comment{font:inherit;border:1px solid #cbd5e1;border-radius:8px;padding:6px 8px;resize:vertical}',
    '#kituo-root .kituo-csat-send{align-self:flex-end;background:' + TEAL + ';color:#fff;border-radius:8px;padding:6px 14px;font-weight:600}',
    '#kituo-root .kituo-csat-send:disabled{opacity:.5}',
    '#kituo-root .kituo-status::before{content:"";display:inline-block;width:7px;height:7px;border-radius:50%;background:#fbbf24;margin-right:6px;vertical-align:1px}',
    '#kituo-root .kituo-close{width:34px;height:34px;border-radius:8px;color:#fff;display:flex;align-items:center;justify-content:center;flex:none}',
    '#kituo-root .kituo-close:hover{background:rgba(255,255,255,.16)}',
    '#kituo-root .kituo-close svg{width:20px;height:20px;fill:currentColor}',
    '#kituo-root .kituo-body{flex:1;overflow-y:auto;overscroll-behavior:contain;background:#f8fafc;padding:16px 14px 8px}',
    '#kituo-root .kituo-empty{color:#475569;font-size:13.5px;text-align:center;padding:28px 12px}',
    '#kituo-root .kituo-empty b{display:block;color:#0f172a;font-size:15px;font-weight:600;margin-bottom:4px}',
    '#kituo-root .kituo-messages{display:flex;flex-direction:column;gap:10px}',
    '#kituo-root .kituo-msg{display:flex;flex-direction:column;align-items:flex-start;align-self:flex-start;max-width:84%}',
    '#kituo-root .kituo-msg[data-author="customer"]{align-self:flex-end;align-items:flex-end}',
    '#kituo-root .kituo-author{font-size:12px;font-weight:600;color:#475569;margin:0 0 3px 4px}',
    '#kituo-root .kituo-text{display:block;padding:9px 13px;border-radius:15px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:normal;background:#fff;border:1px solid #e2e8f0;border-bottom-left-radius:5px}',
    '#kituo-root .kituo-msg[data-author="customer"] .kituo-text{background:' + TEAL + ';border-color:' + TEAL + ';color:#fff;border-radius:15px;border-bottom-right-radius:5px}',
    '#kituo-root .kituo-msg[data-author="agent"] .kituo-text{background:#f0fdfa;border-color:#99f6e4}',
    '#kituo-root .kituo-msg[data-author="system"] .kituo-text{background:#f1f5f9;border:1px dashed #cbd5e1;color:#334155;font-size:13px;font-style:italic}',
    '#kituo-root .kituo-link{color:' + TEAL + ';text-decoration:underline;text-underline-offset:2px}',
    '#kituo-root .kituo-msg[data-author="customer"] .kituo-link{color:#fff}',
    '#kituo-root .kituo-quick{display:flex;gap:6px;margin-top:6px;flex-wrap:wrap}',
    '#kituo-root .kituo-quick-reply{font:inherit;font-size:13px;padding:5px 14px;border-radius:15px;border:1px solid ' + TEAL + ';background:#fff;color:' + TEAL + ';cursor:pointer}',
    '#kituo-root .kituo-quick-reply:hover,#kituo-root .kituo-quick-reply:focus-visible{background:' + TEAL + ';color:#fff}',
    '#kituo-root .kituo-meta{font-size:11px;color:#64748b;margin:3px 5px 0;display:flex;gap:6px;align-items:center}',
    '#kituo-root .kituo-pending{opacity:.6}',
    '#kituo-root .kituo-failed{opacity:1}',
    '#kituo-root .kituo-failed .kituo-text{background:#fff1f2!important;border-color:#fda4af!important;color:#881337!important}',
    '#kituo-root .kituo-failed .kituo-meta{color:#be123c}',
    '#kituo-root .kituo-retry{color:#be123c;font-weight:600;text-decoration:underline;font-size:11px}',
    '#kituo-root .kituo-typing{font-size:12.5px;color:#475569;padding:4px 18px 6px;background:#f8fafc;flex:none;font-style:italic}',
    '#kituo-root .kituo-notice{font-size:12.5px;background:#fff7ed;color:#9a3412;border-top:1px solid #fed7aa;padding:7px 16px;flex:none}',
    '#kituo-root .kituo-composer{border-top:1px solid #e2e8f0;padding:10px 10px 8px 12px;background:#fff;flex:none}',
    '#kituo-root .kituo-row{display:flex;align-items:flex-end;gap:8px}',
    '#kituo-root .kituo-input{flex:1;display:block;width:100%;resize:none;min-height:42px;max-height:128px;padding:10px 12px;border:1px solid #cbd5e1;border-radius:12px;background:#fff;color:#0f172a;font-size:14.5px;line-height:1.4;white-space:pre-wrap;overflow-y:auto}',
    '#kituo-root .kituo-input:focus-visible{outline:none}',
    '#kituo-root .kituo-input::placeholder{color:#94a3b8}',
    '#kituo-root .kituo-input:focus{border-color:' + TEAL + ';box-shadow:0 0 0 3px rgba(15,118,110,.18)}',
    '#kituo-root .kituo-send{width:42px;height:42px;border-radius:50%;background:' + TEAL + ';color:#fff;display:flex;align-items:center;justify-content:center;flex:none;transition:background .15s ease,opacity .15s ease}',
    '#kituo-root .kituo-send:hover{background:#115e59}',
    '#kituo-root .kituo-files{display:flex;flex-wrap:wrap;gap:6px;margin-top:4px}',
    '#kituo-root .kituo-file{display:inline-block;color:' + TEAL + ';text-decoration:underline}',
    '#kituo-root .kituo-thumb{display:block;max-width:160px;max-height:120px;border-radius:8px;border:1px solid #e2e8f0}',
    '#kituo-root .kituo-attach{width:36px;height:42px;color:#475569;display:flex;align-items:center;justify-content:center;flex:none;font-size:20px;cursor:pointer}',
    '#kituo-root .kituo-send:disabled{opacity:.4;cursor:default;background:' + TEAL + '}',
    '#kituo-root .kituo-send svg{width:20px;height:20px;fill:currentColor}',
    '#kituo-root .kituo-foot{display:flex;justify-content:space-between;font-size:11px;color:#94a3b8;margin-top:6px;padding:0 2px}',
    '#kituo-root .kituo-counter{color:#64748b;font-variant-numeric:tabular-nums}',
    '#kituo-root .kituo-counter.kituo-near{color:#b91c1c;font-weight:600}',
    '@media (max-width:480px){#kituo-root .kituo-panel{left:0;right:0;top:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}#kituo-root.kituo-is-open .kituo-launcher{display:none}#kituo-root .kituo-input{font-size:16px}#kituo-root .kituo-launcher{right:16px;bottom:16px}}',
    '@media (prefers-reduced-motion:reduce){#kituo-root .kituo-panel{animation:none}#kituo-root .kituo-launcher{transition:none}}'
  ].join('\n');

  const ICON_CHAT = '<svg class="kituo-ic-chat" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4.3 21a.6.6 0 0 0 .9.7l3.9-2.1c.9.2 1.9.4 2.9.4 5.5 0 10-3.8 10-8.5S17.5 3 12 3zm-4.5 9.8a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6zm4.5 0a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6zm4.5 0a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6z"/></svg>';
  const ICON_CLOSE = '<svg class="kituo-ic-close" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6.7 5.3 12 10.6l5.3-5.3a1 1 0 1 1 1.4 1.4L13.4 12l5.3 5.3a1 1 0 0 1-1.4 1.4L12 13.4l-5.3 5.3a1 1 0 0 1-1.4-1.4l5.3-5.3-5.3-5.3a1 1 0 0 1 1.4-1.4z"/></svg>';
  const ICON_SEND = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M3.4 20.6 21.7 12.9a1 1 0 0 0 0-1.8L3.4 3.4a.8.8 0 0 0-1.1 1l2.4 6.1c.1.3.4.5.7.5l8.1 1-8.1 1c-.3 0-.6.2-.7.5l-2.4 6.1a.8.8 0 0 0 1.1 1z"/></svg>';

  // ------------------------------------------------------------------- state
  let mounted = false;
  let isOpen = sget(SS, K_OPEN) === '1';
  let started = false;
  let ws = null;
  let ready = false; // a session frame arrived on the current socket
  let everReady = false;
  let attempt = 0;
  let reconnectTimer = 0;
  let sessionTimer = 0;
  let silentCloses = 0;
  // Set when the server said the address has too many chats open: not a refused token.
  let addressFull = false;
  let conversationId = null;
  let identity = null;
  let identifiedAs = '';
  let agentName = ''; // the agent helping, from the server's agent frame
  let csatCard = null; // the open rating card, if any
  let lastTypingSent = 0;
  let typingTimer = 0;
  let noticeTimer = 0;
  let unread = 0;

  const seqs = []; // rendered seqs, ascending
  const bySeq = new Map(); // seq -> element
  const idToSeq = new Map(); // message id -> seq
  let pending = loadPending(); // [{cid, text, at, ackId, state, sentAt, el}]

  if (attr('data-email') && attr('data-hmac')) {
    identity = { email: attr('data-email'), hmac: attr('data-hmac') };
    if (attr('data-name')) identity.name = attr('data-name');
  }

  // DOM references (set in mount)
  let root, launcher, badge, panel, statusEl, subEl, body, emptyEl, list, typingEl, noticeEl, input, sendBtn, counter;

  // ---------------------------------------------------------------- pending
  function loadPending() {
    try {
      const arr = JSON.parse(sget(SS, K_PENDING) || '[]');
      if (!Array.isArray(arr)) return [];
      return arr
        .filter(function (p) { return p && typeof p.cid === 'string' && typeof p.text === 'string'; })
        .map(function (p) { return { cid: p.cid, text: p.text, at: p.at || Date.now(), ackId: null, ackSeq: null, state: 'pending', sentAt: 0, el: null }; });
    } catch (e) {
      return [];
    }
  }
  function savePending() {
    const keep = pending
      .filter(function (p) { return !p.ackId && p.state === 'pending'; })
      .map(function (p) { return { cid: p.cid, text: p.text, at: p.at }; });
    if (keep.length) sset(SS, K_PENDING, JSON.stringify(keep));
    else sdel(SS, K_PENDING);
  }
  function dropPending(p) {
    if (p.el && p.el.parentNode) p.el.parentNode.removeChild(p.el);
    p.el = null;
    pending = pending.filter(function (x) { return x !== p; });
    savePending();
    updateEmpty();
  }

  // ------------------------------------------------------------------ socket
  function send(obj) {
    if (!ws || ws.readyState !== 1) return false;
    try {
      ws.send(JSON.stringify(obj));
      return true;
    } catch (e) {
      return false;
    }
  }

  function start() {
    if (started) return;
    started = true;
    connect();
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = 0;
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) return;
    const token = sget(LS, K_TOKEN);
    const url = WS_URL + (token ? '?visitor_token=' + encodeURIComponent(token) : '');
    setStatus(everReady || attempt > 0 ? 'reconnecting\u2026' : 'connecting\u2026');
    let sock;
    try {
      sock = new WebSocket(url);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    ready = false;
    let opened = false;
    sock.onopen = function () {
      if (ws !== sock) return;
      opened = true;
      clearTimeout(sessionTimer);
      sessionTimer = setTimeout(function () {
        if (ws === sock && !ready) {
          try { sock.close(4000, 'no session'); } catch (e) { /* ignore */ }
        }
      }, SESSION_WAIT);
    };
    sock.onmessage = function (ev) {
      if (ws !== sock || typeof ev.data !== 'string') return;
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (f && typeof f === 'object' && typeof f.type === 'string') handle(f);
    };
    sock.onerror = function () { /* a close event follows */ };
    sock.onclose = function () {
      if (ws !== sock) return;
      clearTimeout(sessionTimer);
      const hadSession = ready;
      ws = null;
      ready = false;
      hideTyping();
      // A stored token that the server keeps refusing (socket opens, no session,
      // closes) is dropped after a few tries so the visitor is not stuck.
      if (opened && !hadSession && !addressFull && ++silentCloses >= 3) {
        silentCloses = 0;
        sdel(LS, K_TOKEN);
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    setStatus('reconnecting\u2026');
    const step = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    attempt = Math.min(attempt + 1, 30);
    const delay = Math.min(BACKOFF_MAX, Math.round(step * (0.7 + Math.random() * 0.6)));
    reconnectTimer = setTimeout(function () {
      reconnectTimer = 0;
      connect();
    }, delay);
  }

  function reconnectNow() {
    if (!started) return;
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) return;
    attempt = 0;
    connect();
  }

  function handle(f) {
    switch (f.type) {
      case 'session': onSession(f); break;
      case 'message': onMessage(f); break;
      case 'ack': onAck(f); break;
      case 'typing': onTyping(f); break;
      case 'identified': onIdentified(f); break;
      case 'error': onError(f); break;
      case 'agent': onAgent(f); break;
      case 'csat_request': onCsatRequest(f); break;
      case 'csat_recorded': onCsatRecorded(f); break;
      default: break;
    }
  }

  function onSession(f) {
    clearTimeout(sessionTimer);
    ready = true;
    everReady = true;
    attempt = 0;
    silentCloses = 0;
    addressFull = false;
    setStatus('');
    if (typeof f.visitor_token === 'string' && f.visitor_token) sset(LS, K_TOKEN, f.visitor_token);
    const cid = f.conversation_id === null || f.conversation_id === undefined ? null : String(f.conversation_id);
    if (cid !== conversationId) {
      clearMessages();
      conversationId = cid;
    }
    send({ type: 'resume', after_seq: maxSeq() });
    if (identity) sendIdentify();
    pending.forEach(function (p) {
      if (p.state === 'pending' && !p.ackId) transmit(p);
    });
  }

  function onMessage(f) {
    const seq = Number(f.seq);
    if (!Number.isFinite(seq)) return;
    const id = f.id === null || f.id === undefined ? '' : String(f.id);
    const author = AUTHORS.indexOf(f.author) >= 0 ? f.author : 'system';
    if (author === 'customer') {
      const p = pending.find(function (x) {
        return (id && x.ackId === id) || (x.ackSeq === seq && x.ackId !== null) || (f.client_msg_id && x.cid === f.client_msg_id);
      });
      if (p) dropPending(p);
    } else {
      hideTyping();
    }
    if (bySeq.has(seq)) return;
    const stick = author === 'customer' || nearBottom();
    const node = buildMessage(f, seq, author);
    insertMessage(seq, id, node);
    if (seq === seqs[seqs.length - 1]) clearQuickReplies(node);
    else node.querySelectorAll('.kituo-quick').forEach(function (q) { q.remove(); });
    if (author !== 'customer' && !isOpen && seq > seenSeq()) {
      unread++;
      updateBadge();
    }
    if (isOpen) markSeen();
    if (stick) scrollToEnd();
  }

  function onAck(f) {
    const p = pending.find(function (x) { return x.cid === f.client_msg_id; });
    if (!p) return;
    p.ackId = f.id === null || f.id === undefined ? '' : String(f.id);
    p.ackSeq = Number.isFinite(Number(f.seq)) && f.seq !== null ? Number(f.seq) : null;
    p.state = 'pending';
    savePending();
    if ((p.ackId && idToSeq.has(p.ackId)) || (p.ackSeq !== null && bySeq.has(p.ackSeq))) {
      dropPending(p);
    } else if (p.el) {
      p.el.classList.remove('kituo-failed');
      p.el.classList.add('kituo-pending');
      setMeta(p.el, 'sent');
    }
  }

  function onTyping(f) {
    if (f.author === 'customer') return;
    const who = f.author_name ? String(f.author_name) : f.author === 'bot' ? 'Assistant' : 'Agent';
    if (!typingEl) return;
    typingEl.textContent = who + ' is typing\u2026';
    typingEl.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOW_FOR);
  }

  function onAgent(f) {
    agentName = typeof f.name === 'string' ? f.name.trim() : '';
    updateSub();
  }

  function initials(name) {
    const parts = name.split(/\s+/).filter(Boolean);
    const first = parts.length ? Array.from(parts[0])[0] : '';
    const last = parts.length > 1 ? Array.from(parts[parts.length - 1])[0] : '';
    return (first + last).toUpperCase() || '?';
  }

  // The rating card: five buttons, an optional comment, sent as {type:'csat',rating,comment}.
  function onCsatRequest(f) {
    if (!list || csatCard) return;
    const card = h('div', { class: 'kituo-csat', id: 'kituo-csat', role: 'group', 'aria-label': 'Rate this conversation' });
    card.appendChild(h('div', { class: 'kituo-csat-q' }, 'How did we do?'));
    const row = h('div', { class: 'kituo-csat-row' });
    let chosen = 0;
    const comment = h('textarea', { class: 'kituo-csat-comment', id: 'kituo-csat-comment', rows: '2', maxlength: '1000', placeholder: 'Add a comment (optional)', 'aria-label': 'Comment' });
    const submitBtn = h('button', { type: 'button', class: 'kituo-csat-send', id: 'kituo-csat-send', disabled: '' }, 'Send rating');
    for (let n = 1; n <= 5; n++) {
      const b = h('button', { type: 'button', class: 'kituo-csat-star', 'data-rating': String(n), 'aria-label': n + ' out of 5', 'aria-pressed': 'false' }, String(n));
      b.addEventListener('click', function () {
        chosen = n;
        row.querySelectorAll('button').forEach(function (x) {
          x.setAttribute('aria-pressed', Number(x.getAttribute('data-rating')) <= n ? 'true' : 'false');
        });
        submitBtn.disabled = false;
      });
      row.appendChild(b);
    }
    submitBtn.addEventListener('click', function () {
      if (!chosen) return;
      const text = comment.value.trim();
      const frame = { type: 'csat', rating: chosen };
      if (text) frame.comment = text;
      if (send(frame)) {
        submitBtn.disabled = true;
        submitBtn.textContent = 'Sending\u2026';
      }
    });
    card.appendChild(row);
    card.appendChild(comment);
    card.appendChild(submitBtn);
    card.setAttribute('data-conversation', f.conversation_id ? String(f.conversation_id) : '');
    csatCard = card;
    list.appendChild(card);
    scrollToEnd();
  }

  function onCsatRecorded(f) {
    if (!csatCard) return;
    while (csatCard.firstChild) csatCard.removeChild(csatCard.firstChild);
    csatCard.appendChild(h('div', { class: 'kituo-csat-done', id: 'kituo-csat-done' }, 'Thank you! You rated us ' + Number(f.rating) + ' out of 5.'));
    csatCard = null;
  }

  function onIdentified(f) {
    identifiedAs = f.email ? String(f.email) : identity ? identity.email : '';
    updateSub();
  }

  function onError(f) {
    const code = typeof f.code === 'string' ? f.code : '';
    addressFull = code === 'too_many_connections';
    let p = f.client_msg_id ? pending.find(function (x) { return x.cid === f.client_msg_id; }) : null;
    if (!p && MESSAGE_ERRORS.indexOf(code) >= 0) {
      const now = Date.now();
      for (let i = pending.length - 1; i >= 0; i--) {
        const x = pending[i];
        if (x.state === 'pending' && !x.ackId && x.sentAt && now - x.sentAt < 10000) {
          p = x;
          break;
        }
      }
    }
    if (p && p.ackId) p = null;
    // "busy": the conversation was locked for a moment; send again by itself a few times.
    if (p && code === 'busy' && (p.busyTries || 0) < 3) {
      p.busyTries = (p.busyTries || 0) + 1;
      p.sentAt = 0;
      setTimeout(function () {
        if (p.state === 'pending' && !p.ackId) transmit(p);
      }, 400 + Math.random() * 800 * p.busyTries);
      return;
    }
    showNotice(f.message ? String(f.message) : friendlyError(code), code);
    if (p) markFailed(p);
  }

  function friendlyError(code) {
    if (code === 'too_long' || code === 'message_too_long') return 'That message is too long.';
    if (code === 'rate_limited') return 'You are sending messages too quickly. Please wait a moment.';
    if (code === 'bad_hmac' || code === 'identify_disabled') return 'We could not verify who you are, but you can keep chatting.';
    return 'Something went wrong. Please try again.';
  }

  function sendIdentify() {
    const msg = { type: 'identify', email: identity.email };
    if (identity.name) msg.name = identity.name;
    msg.hmac = identity.hmac || '';
    send(msg);
  }

  function transmit(p) {
    if (ready && send({ type: 'message', text: p.text, client_msg_id: p.cid })) p.sentAt = Date.now();
  }

  // --------------------------------------------------------------- messages
  function maxSeq() {
    return seqs.length ? seqs[seqs.length - 1] : 0;
  }

  function seenSeq() {
    try {
      const s = JSON.parse(sget(LS, K_SEEN) || 'null');
      if (s && s.c === conversationId && typeof s.s === 'number') return s.s;
    } catch (e) { /* ignore */ }
    return 0;
  }
  function markSeen() {
    if (conversationId !== null) sset(LS, K_SEEN, JSON.stringify({ c: conversationId, s: maxSeq() }));
    unread = 0;
    updateBadge();
  }

  function defaultName(author) {
    if (author === 'bot') return 'Assistant';
    if (author === 'agent') return 'Support';
    return 'Notice';
  }

  function timeEl(iso) {
    const t = h('time', { class: 'kituo-time' });
    const dt = iso ? new Date(iso) : null;
    if (dt && !isNaN(dt.getTime())) {
      t.setAttribute('datetime', String(iso));
      t.textContent = pad(dt.getHours()) + ':' + pad(dt.getMinutes());
      t.title = dt.toLocaleString();
    }
    return t;
  }

  // Files a message carries: images as thumbnails (a click opens the full file), others as links.
  // The visitor token goes in the query: an <img> cannot send a header.
  function fileUrl(a) {
    const token = sget(LS, K_TOKEN) || '';
    return base.protocol + '//' + base.host + String(a.url) + '?visitor_token=' + encodeURIComponent(token);
  }
  function buildFiles(files) {
    const box = h('div', { class: 'kituo-files' });
    files.forEach(function (a) {
      if (!a || typeof a.url !== 'string') return;
      const link = h('a', { class: 'kituo-file', href: fileUrl(a), target: '_blank', rel: 'noopener noreferrer' });
      if (String(a.content_type).indexOf('image/') === 0) {
        link.appendChild(h('img', { class: 'kituo-thumb', src: fileUrl(a), alt: String(a.name || 'image') }));
      } else {
        link.textContent = '\ud83d\udcc4 ' + String(a.name || 'file');
      }
      box.appendChild(link);
    });
    return box;
  }

  // Sends a chosen file over HTTP; it comes back as a message on the socket like any other.
  function uploadFile(file) {
    const token = sget(LS, K_TOKEN);
    if (!file || !token) return;
    const url = base.protocol + '//' + base.host + '/api/widget/attachments?name=' + encodeURIComponent(file.name || '');
    fetch(url, { method: 'POST', headers: { 'X-Visitor-Token': token }, body: file }).then(function (r) {
      if (r.ok) return;
      return r.json().then(function (j) {
        showNotice((j && j.error && j.error.message) || 'The file could not be sent.', 'upload_failed');
      }, function () { showNotice('The file could not be sent.', 'upload_failed'); });
    }, function () { showNotice('The file could not be sent; check your connection.', 'upload_failed'); });
  }

  function buildMessage(f, seq, author) {
    const m = h('div', { class: 'kituo-msg kituo-from-' + author, 'data-author': author, 'data-seq': String(seq) });
    if (f.id !== null && f.id !== undefined) m.setAttribute('data-id', String(f.id));
    if (author === 'customer') {
      m.appendChild(h('span', { class: 'kituo-sr' }, 'You said:'));
    } else {
      m.appendChild(h('div', { class: 'kituo-author' }, f.author_name ? String(f.author_name) : defaultName(author)));
    }
    const t = h('div', { class: 'kituo-text' });
    fillText(t, f.text === null || f.text === undefined ? '' : String(f.text), author === 'bot' || author === 'agent');
    m.appendChild(t);
    if (Array.isArray(f.attachments) && f.attachments.length) m.appendChild(buildFiles(f.attachments));
    const meta = h('div', { class: 'kituo-meta' });
    meta.appendChild(timeEl(f.created_at));
    m.appendChild(meta);
    if (author === 'bot' && Array.isArray(f.quick_replies) && f.quick_replies.length) {
      // Answers the bot offers (yes / no to a restated action): a click sends the same text.
      const q = h('div', { class: 'kituo-quick', role: 'group', 'aria-label': 'Quick replies' });
      f.quick_replies.slice(0, 4).forEach(function (label) {
        const text = String(label);
        const b = h('button', { type: 'button', class: 'kituo-quick-reply' }, text);
        b.addEventListener('click', function () {
          clearQuickReplies();
          sendMessage(text);
        });
        q.appendChild(b);
      });
      m.appendChild(q);
    }
    return m;
  }

  // Quick replies belong to the latest question only: gone once anything newer arrives or is sent.
  function clearQuickReplies(keep) {
    list.querySelectorAll('.kituo-quick').forEach(function (q) {
      if (!keep || !keep.contains(q)) q.remove();
    });
  }

  function insertMessage(seq, id, node) {
    let lo = 0;
    let hi = seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seqs[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    let before = lo < seqs.length ? bySeq.get(seqs[lo]) : list.querySelector('.kituo-local');
    seqs.splice(lo, 0, seq);
    bySeq.set(seq, node);
    if (id) idToSeq.set(id, seq);
    list.insertBefore(node, before || null);
    updateEmpty();
  }

  function clearMessages() {
    bySeq.forEach(function (node) {
      if (node.parentNode) node.parentNode.removeChild(node);
    });
    bySeq.clear();
    idToSeq.clear();
    seqs.length = 0;
    // Acknowledged-but-unseen messages belonged to the previous conversation.
    pending.filter(function (p) { return p.ackId !== null; }).forEach(dropPending);
    unread = 0;
    updateBadge();
    updateEmpty();
  }

  function renderPending(p) {
    const m = h('div', {
      class: 'kituo-msg kituo-from-customer kituo-local kituo-pending',
      'data-author': 'customer',
      'data-client-msg-id': p.cid
    });
    m.appendChild(h('span', { class: 'kituo-sr' }, 'You said:'));
    m.appendChild(h('div', { class: 'kituo-text' }, p.text));
    m.appendChild(h('div', { class: 'kituo-meta' }));
    p.el = m;
    setMeta(m, 'sending\u2026');
    list.appendChild(m);
    updateEmpty();
  }

  function setMeta(m, label, retry) {
    const meta = m.querySelector('.kituo-meta');
    if (!meta) return;
    meta.textContent = '';
    meta.appendChild(h('span', { class: 'kituo-state' }, label));
    if (retry) {
      const b = h('button', { type: 'button', class: 'kituo-retry' }, 'Retry');
      b.addEventListener('click', retry);
      meta.appendChild(b);
    }
  }

  function markFailed(p) {
    p.state = 'failed';
    savePending();
    if (!p.el) return;
    p.el.classList.remove('kituo-pending');
    p.el.classList.add('kituo-failed');
    setMeta(p.el, 'Not sent.', function () {
      p.state = 'pending';
      p.ackId = null;
      p.ackSeq = null;
      p.busyTries = 0;
      savePending();
      if (p.el) {
        p.el.classList.remove('kituo-failed');
        p.el.classList.add('kituo-pending');
        setMeta(p.el, 'sending\u2026');
      }
      transmit(p);
      start();
    });
  }

  function sendMessage(text) {
    clearQuickReplies();
    const p = { cid: uuid(), text: text, at: Date.now(), ackId: null, ackSeq: null, state: 'pending', sentAt: 0, el: null };
    pending.push(p);
    savePending();
    renderPending(p);
    scrollToEnd();
    transmit(p);
    start();
  }

  // ---------------------------------------------------------------------- UI
  function setStatus(text) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.hidden = !text;
    if (subEl) subEl.hidden = !!text;
  }

  function updateSub() {
    if (!subEl) return;
    while (subEl.firstChild) subEl.removeChild(subEl.firstChild);
    if (agentName) {
      // An agent joined: their name and initials instead of the generic promise.
      subEl.appendChild(h('span', { class: 'kituo-avatar', id: 'kituo-agent-avatar', 'aria-hidden': 'true' }, initials(agentName)));
      subEl.appendChild(h('span', { id: 'kituo-agent-name' }, agentName));
    } else {
      subEl.textContent = identifiedAs ? 'Signed in as ' + identifiedAs : 'We usually reply within minutes';
    }
  }

  function updateBadge() {
    if (!badge) return;
    const show = unread > 0 && !isOpen;
    badge.hidden = !show;
    badge.textContent = unread > 9 ? '9+' : String(unread);
    launcher.setAttribute('aria-label', isOpen ? 'Close chat' : 'Open chat');
    launcher.title = show ? unread + ' new message' + (unread === 1 ? '' : 's') : '';
  }

  function updateEmpty() {
    if (emptyEl) emptyEl.hidden = list.children.length > 0;
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    if (typingEl) typingEl.hidden = true;
  }

  function showNotice(text, code) {
    if (!noticeEl) return;
    noticeEl.textContent = text;
    if (code) noticeEl.setAttribute('data-code', code);
    else noticeEl.removeAttribute('data-code');
    noticeEl.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { noticeEl.hidden = true; }, NOTICE_FOR);
  }

  function nearBottom() {
    return !body || body.scrollHeight - body.scrollTop - body.clientHeight < 80;
  }
  function scrollToEnd() {
    if (body) body.scrollTop = body.scrollHeight;
  }

  function autosize() {
    input.style.height = 'auto';
    if (!input.scrollHeight) return; // panel hidden: keep the CSS height
    input.style.height = Math.min(input.scrollHeight + 2, 128) + 'px';
  }

  function onInputChange() {
    autosize();
    const len = input.value.length;
    counter.hidden = len < COUNTER_FROM;
    counter.textContent = len + ' / ' + MAX_LEN;
    counter.classList.toggle('kituo-near', len >= MAX_LEN - 100);
    sendBtn.disabled = !input.value.trim();
    const now = Date.now();
    if (len && ready && now - lastTypingSent >= TYPING_SEND_EVERY) {
      lastTypingSent = now;
      send({ type: 'typing' });
    }
  }

  function submit() {
    const text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_LEN) {
      showNotice('Messages can be at most ' + MAX_LEN + ' characters.', 'too_long');
      return;
    }
    input.value = '';
    onInputChange();
    lastTypingSent = 0;
    sendMessage(text);
    input.focus();
  }

  function applyOpen(focus) {
    if (!mounted) return;
    panel.hidden = !isOpen;
    root.classList.toggle('kituo-is-open', isOpen);
    launcher.setAttribute('aria-expanded', isOpen ? 'true' : 'false');
    updateBadge();
    if (isOpen) {
      markSeen();
      scrollToEnd();
      if (focus) setTimeout(function () { input.focus(); }, 20);
    }
  }

  function open(focus) {
    isOpen = true;
    sset(SS, K_OPEN, '1');
    applyOpen(focus !== false);
    if (mounted) start();
  }

  function close() {
    isOpen = false;
    sset(SS, K_OPEN, '0');
    applyOpen(false);
  }

  function mount() {
    if (mounted || d.getElementById('kituo-root')) return;
    mounted = true;

    const style = h('style', { id: 'kituo-style' });
    style.textContent = CSS;
    (d.head || d.documentElement).appendChild(style);

    root = h('div', { id: 'kituo-root', class: 'kituo-root' });

    launcher = h('button', {
      type: 'button',
      id: 'kituo-launcher',
      class: 'kituo-launcher',
      'aria-label': 'Open chat',
      'aria-controls': 'kituo-panel',
      'aria-expanded': 'false'
    });
    launcher.innerHTML = ICON_CHAT + ICON_CLOSE; // static markup, no user data
    badge = h('span', { class: 'kituo-badge', id: 'kituo-badge', 'aria-hidden': 'true', hidden: '' });
    launcher.appendChild(badge);

    panel = h('div', { id: 'kituo-panel', class: 'kituo-panel', role: 'dialog', 'aria-labelledby': 'kituo-title', hidden: '' });

    const header = h('div', { class: 'kituo-header' });
    const headText = h('div', { class: 'kituo-head-text' });
    headText.appendChild(h('div', { id: 'kituo-title', class: 'kituo-title', role: 'heading', 'aria-level': '2' }, TITLE));
    subEl = h('div', { class: 'kituo-sub', id: 'kituo-sub' });
    statusEl = h('div', { class: 'kituo-status', id: 'kituo-status', role: 'status', hidden: '' });
    headText.appendChild(subEl);
    headText.appendChild(statusEl);
    const closeBtn = h('button', { type: 'button', id: 'kituo-close', class: 'kituo-close', 'aria-label': 'Close chat' });
    closeBtn.innerHTML = ICON_CLOSE.replace(' class="kituo-ic-close"', '');
    header.appendChild(headText);
    header.appendChild(closeBtn);

    body = h('div', { class: 'kituo-body', id: 'kituo-body' });
    emptyEl = h('div', { class: 'kituo-empty' });
    emptyEl.appendChild(h('b', null, 'Karibu! \u{1F44B}'));
    emptyEl.appendChild(d.createTextNode('Ask about an order, an invoice or a product \u2014 in English or Kiswahili.'));
    list = h('div', {
      id: 'kituo-messages',
      class: 'kituo-messages',
      role: 'log',
      'aria-live': 'polite',
      'aria-relevant': 'additions',
      'aria-label': 'Conversation'
    });
    body.appendChild(emptyEl);
    body.appendChild(list);

    typingEl = h('div', { class: 'kituo-typing', id: 'kituo-typing', hidden: '' });
    noticeEl = h('div', { class: 'kituo-notice', id: 'kituo-notice', role: 'alert', hidden: '' });

    const composer = h('div', { class: 'kituo-composer' });
    const row = h('div', { class: 'kituo-row' });
    input = h('textarea', {
      id: 'kituo-input',
      class: 'kituo-input',
      rows: '1',
      maxlength: String(MAX_LEN),
      placeholder: 'Type your message\u2026',
      'aria-label': 'Type your message',
      autocomplete: 'off'
    });
    sendBtn = h('button', { type: 'button', id: 'kituo-send', class: 'kituo-send', 'aria-label': 'Send message', disabled: '' });
    sendBtn.innerHTML = ICON_SEND;
    const fileInput = h('input', { type: 'file', id: 'kituo-file', class: 'kituo-sr', accept: 'image/png,image/jpeg,image/gif,image/webp,application/pdf', tabindex: '-1' });
    const attachBtn = h('button', { type: 'button', id: 'kituo-attach', class: 'kituo-attach', 'aria-label': 'Send a photo or PDF' }, '\ud83d\udcce');
    attachBtn.addEventListener('click', function () { fileInput.click(); });
    fileInput.addEventListener('change', function () {
      if (fileInput.files && fileInput.files[0]) uploadFile(fileInput.files[0]);
      fileInput.value = '';
    });
    row.appendChild(fileInput);
    row.appendChild(attachBtn);
    row.appendChild(input);
    row.appendChild(sendBtn);
    const foot = h('div', { class: 'kituo-foot' });
    foot.appendChild(h('span', null, 'Enter to send \u00b7 Shift+Enter for a new line'));
    counter = h('span', { class: 'kituo-counter', id: 'kituo-counter', 'aria-live': 'polite', hidden: '' });
    foot.appendChild(counter);
    composer.appendChild(row);
    composer.appendChild(foot);

    panel.appendChild(header);
    panel.appendChild(body);
    panel.appendChild(typingEl);
    panel.appendChild(noticeEl);
    panel.appendChild(composer);
    root.appendChild(panel);
    root.appendChild(launcher);
    d.body.appendChild(root);

    launcher.addEventListener('click', function () {
      if (isOpen) close();
      else open(true);
    });
    closeBtn.addEventListener('click', function () {
      close();
      launcher.focus();
    });
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') {
        close();
        launcher.focus();
      }
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    });
    input.addEventListener('input', onInputChange);
    sendBtn.addEventListener('click', submit);

    updateSub();
    pending.forEach(renderPending);
    applyOpen(false);
    // Returning visitors (token stored) connect right away so agent replies can
    // raise the unread badge; first-time visitors connect on first open.
    if (isOpen || pending.length || sget(LS, K_TOKEN)) start();
  }

  // --------------------------------------------------------- global events
  w.addEventListener('online', reconnectNow);
  w.addEventListener('offline', function () {
    // The old socket is usually dead after a network change; drop it so the
    // 'online' event can reconnect immediately.
    if (ws) {
      try { ws.close(); } catch (e) { /* ignore */ }
    }
  });
  d.addEventListener('visibilitychange', function () {
    if (d.visibilityState === 'visible') reconnectNow();
  });
  w.addEventListener('pageshow', function (e) {
    if (e.persisted) reconnectNow();
  });

  // ------------------------------------------------------------- public API
  const prev = w.Kituo;
  const api = {
    open: function () { open(true); },
    close: close,
    toggle: function () { if (isOpen) close(); else open(true); },
    isOpen: function () { return isOpen; },
    identify: function (o) {
      if (!o || typeof o !== 'object' || !o.email) return;
      identity = { email: String(o.email) };
      if (o.name) identity.name = String(o.name);
      if (o.hmac) identity.hmac = String(o.hmac);
      if (ready) sendIdentify();
    }
  };
  w.Kituo = api;
  // Calls queued before the script loaded: window.Kituo = {q: [['identify', {...}], ['open']]}
  if (prev && Array.isArray(prev.q)) {
    prev.q.forEach(function (c) {
      if (c && typeof api[c[0]] === 'function') api[c[0]](c[1]);
    });
  }

  if (d.body) mount();
  else d.addEventListener('DOMContentLoaded', mount);
})();
