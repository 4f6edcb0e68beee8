// Ruyi's own script (no inline scripts: the Content-Security-Policy forbids them).
// Destructive actions carry data-confirm="question"; the browser asks before submitting.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);

// The dispatch dialog's "Use the suggestion": fills the lead and assisting units it names.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-use-suggestion]");
  if (!button) {
    return;
  }
  var form = button.closest("form");
  var lead = form.querySelector("select[name='lead_unit']");
  if (lead) {
    lead.value = button.getAttribute("data-lead");
  }
  var assisting = form.querySelector("select[name='assisting_units']");
  var wanted = (button.getAttribute("data-assisting") || "").split(",");
  if (assisting) {
    Array.prototype.forEach.call(assisting.options, function (option) {
      option.selected = wanted.indexOf(option.value) !== -1;
    });
  }
});
