// Live tables: an element with data-live="SECONDS" is refreshed from the same URL every few
// seconds, so new calls appear without reloading. Confirms destructive forms.
(function () {
  "use strict";
  function refresh(target) {
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Console-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(target.id);
        if (fresh && fresh.innerHTML !== target.innerHTML) { target.innerHTML = fresh.innerHTML; }
      })
      .catch(function () { /* try again at the next tick */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(function (target) {
      var seconds = Math.max(1, parseInt(target.getAttribute("data-live"), 10) || 2);
      setInterval(function () { refresh(target); }, seconds * 1000);
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
