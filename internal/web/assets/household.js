// The household file (一户一档): each visit's best GPS fix against the
// home point on a small Leaflet map with no tiles (a line between them,
// the distance on it), and full-size photos in a dialog on click. The
// visit list is swapped by the notes search (htmx), so maps are drawn
// again after each swap. Text is set with textContent only.
(function () {
  "use strict";
  function point(s) {
    var p = (s || "").split(",");
    return p.length === 2 ? [parseFloat(p[0]), parseFloat(p[1])] : null;
  }
  function drawMaps(root) {
    if (!window.L) { return; }
    var els = root.querySelectorAll(".visit-map:not([data-ready])");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], home = point(el.getAttribute("data-home")), fix = point(el.getAttribute("data-fix"));
      if (!home || !fix) { continue; }
      // Points a few metres apart would hide each other's labels: the
      // legend under the map names the colours, the line carries the
      // distance, and the scale bar gives the size.
      var map = L.map(el, { attributionControl: false, zoomControl: false, scrollWheelZoom: false, maxZoom: 19 });
      L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
      L.polyline([home, fix], { weight: 2, color: "#616e7c", dashArray: "4 4", className: "fix-line" })
        .bindTooltip(el.getAttribute("data-distance"), { sticky: true }).addTo(map);
      L.circleMarker(home, { radius: 7, weight: 2, color: "#fff", fillColor: "#0b5cad", fillOpacity: 1, className: "home-mark" })
        .bindTooltip("住户位置").addTo(map);
      L.circleMarker(fix, { radius: 6, weight: 2, color: "#fff", fillColor: "#b3261e", fillOpacity: 1, className: "fix-mark" })
        .bindTooltip("走访定位").addTo(map);
      map.fitBounds(L.latLngBounds([home, fix]), { padding: [24, 24], maxZoom: 18 });
      el.setAttribute("data-ready", "true");
    }
  }
  document.addEventListener("DOMContentLoaded", function () { drawMaps(document); });
  document.addEventListener("htmx:afterSwap", function (e) { drawMaps(e.detail.target.parentNode || document); });

  // A thumbnail opens the full photo in the page; without script the
  // link opens it on its own.
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a.photo") : null;
    var dialog = document.getElementById("photo-view");
    if (!a || !dialog || typeof dialog.showModal !== "function") { return; }
    e.preventDefault();
    var img = dialog.querySelector("img");
    img.removeAttribute("src");
    img.src = a.getAttribute("href");
    dialog.showModal();
  });
  document.addEventListener("click", function (e) {
    var dialog = document.getElementById("photo-view");
    if (dialog && e.target === dialog) { dialog.close(); } // a click beside the photo closes it
  });
})();
