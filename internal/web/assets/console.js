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
})();
