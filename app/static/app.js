// Ruyi's own script (no inline scripts: the Content-Security-Policy forbids them).
// Destructive actions carry data-confirm="question"; the browser asks before submitting.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);
