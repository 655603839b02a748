/* Kituo sign-in page. Served as /login.js: staff pages allow no inline script (CSP). */
(function () {
  'use strict';

  var form = document.getElementById('login-form');
  var email = document.getElementById('login-email');
  var password = document.getElementById('login-password');
  var submit = document.getElementById('login-submit');
  var errorBox = document.getElementById('login-error');

  // Only same-site paths: "/x" yes; "//host", "/\host" and absolute URLs no.
  function target() {
    var next = '';
    try {
      next = new URLSearchParams(window.location.search).get('next') || '';
    } catch (e) { /* old browser */ }
    if (next.charAt(0) === '/' && next.charAt(1) !== '/' && next.charAt(1) !== '\\' && !/[\u0000-\u001f]/.test(next)) return next;
    return '/console';
  }

  function showError(text, field) {
    errorBox.textContent = text;
    email.removeAttribute('aria-invalid');
    password.removeAttribute('aria-invalid');
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  }

  function busy(on) {
    submit.disabled = on;
    submit.textContent = on ? 'Signing in\u2026' : 'Sign in';
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (submit.disabled) return;
    var em = email.value.trim();
    if (!em) return showError('Enter your email address.', email);
    if (!password.value) return showError('Enter your password.', password);
    showError('');
    busy(true);
    fetch('/api/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ email: em, password: password.value })
    }).then(function (res) {
      if (res.ok) {
        window.location.replace(target());
        return;
      }
      return res.json().catch(function () { return null; }).then(function (data) {
        var msg = data && data.error && data.error.message;
        busy(false);
        if (res.status === 429) {
          showError('Too many attempts, wait a minute');
        } else if (res.status === 401) {
          password.value = '';
          showError(msg || 'Wrong email or password.', password);
        } else {
          showError(msg || 'Sign-in failed (' + res.status + '). Try again.');
        }
      });
    }, function () {
      busy(false);
      showError('Cannot reach the server. Check your connection and try again.');
    });
  });
})();
