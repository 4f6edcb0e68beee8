// Answer snippets: a click copies the snippet's text into the answer box (no inline scripts: CSP).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-snippet-body]");
  if (!button) { return; }
  var form = button.closest("form");
  var box = form && form.querySelector("textarea[name='" + button.dataset.snippetTarget + "']");
  if (box) { box.value = button.dataset.snippetBody; box.focus(); }
});
