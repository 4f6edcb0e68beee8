// The progress bar of a background job (exports, imports): polls the job's state every
// second and reloads the page when the job has finished, to show its result. Without
// JavaScript the page refreshes itself (a <noscript> meta refresh) and has a reload link.
(function () {
  var box = document.querySelector("[data-job-progress]");
  if (!box || box.getAttribute("data-finished") === "true") {
    return;
  }
  var bar = box.querySelector("progress");
  var count = box.querySelector("[data-testid=job-count]");
  var url = box.getAttribute("data-job-progress");

  function show(data) {
    if (data.total) {
      bar.max = data.total;
      bar.value = data.done || 0;
      count.textContent = box.getAttribute("data-rows-text")
        .replace("{done}", data.done || 0).replace("{total}", data.total);
    } else if (data.done) {
      count.textContent = box.getAttribute("data-done-text").replace("{done}", data.done);
    }
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(poll, 2000); return; }
        show(data);
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 1000);
}());
