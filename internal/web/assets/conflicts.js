// The conflict inbox: a refused resolution (already resolved by someone
// else, out of scope, a lost value that no longer passes validation) is
// answered with a row stating why in Chinese; htmx would drop an error
// answer, so such answers to the resolve forms are swapped in too.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status;
    var form = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (form && form.classList && form.classList.contains("resolve") && (status === 404 || status === 409 || status === 422 || status === 503)) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
