// The console's own script, loaded on every page: htmx requests carry the
// page's CSRF token (from <meta name="csrf-token">) in X-CSRF-Token.
(function () {
  "use strict";
  function token() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (e) {
    var t = token();
    if (t) { e.detail.headers["X-CSRF-Token"] = t; }
  });
  // A form that ends, removes or approves in bulk says what it will do
  // and waits for a yes (data-confirm holds the question).
  document.addEventListener("submit", function (e) {
    var q = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (q && !window.confirm(q)) { e.preventDefault(); }
  }, true);
})();
