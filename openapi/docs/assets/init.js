// Starts Swagger UI on the fieldvisit docs page.
//
// It is a file of its own, not an inline script, so that the page's
// Content-Security-Policy can keep script-src to 'self'. The spec URL comes
// from the data-spec-url attribute of #swagger-ui, written by the Go handler.
(function () {
  "use strict";

  function start() {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof SwaggerUIBundle !== "function") {
      return;
    }
    window.ui = SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      dom_id: "#swagger-ui",
      deepLinking: true,
      // No call to the online validator at validator.swagger.io.
      validatorUrl: null,
      // Never let ?url=... or ?configUrl=... in the address bar load another spec.
      queryConfigEnabled: false,
      presets: [SwaggerUIBundle.presets.apis],
      plugins: [SwaggerUIBundle.plugins.DownloadUrl],
      layout: "BaseLayout"
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
