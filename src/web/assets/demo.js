/* Demo shop helper, served as /demo.js (the page allows no inline script). */
// Demo helper: buttons with data-ask open the chat and put the text in the input.
document.addEventListener('click', function (e) {
  var b = e.target.closest ? e.target.closest('[data-ask]') : null;
  if (!b || !window.Kituo) return;
  window.Kituo.open();
  var input = document.getElementById('kituo-input');
  if (!input) return;
  input.value = b.getAttribute('data-ask');
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
});
