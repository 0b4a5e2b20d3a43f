// The 挂图作战 map: Leaflet with no tile layer (no internet is needed),
// villages as circles at the centre of their households, coloured by the
// month's rate and sized by households; a click lists the village's
// households as points, each linking to its household file. Text is set
// with textContent only.
(function () {
  "use strict";
  var el = document.getElementById("village-map");
  var detail = document.getElementById("village-detail");
  if (!el || !window.L) { return; }
  var colours = { good: "#2e7d32", warn: "#c77700", bad: "#c62828", none: "#9aa5b1" };
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25, zoomControl: false });
  L.control.zoom({ zoomInTitle: "放大", zoomOutTitle: "缩小" }).addTo(map);
  var villages = L.featureGroup().addTo(map);
  var households = L.featureGroup().addTo(map);
  var byID = {};

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 401) { window.location.href = "/ui/login"; }
      return r.json().then(function (body) { body.ok = r.ok; return body; });
    });
  }
  function node(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined) { n.textContent = text; }
    return n;
  }
  function radius(n) { return Math.max(6, Math.min(28, 4 + Math.sqrt(n) * 2.2)); }

  function select(id) {
    var items = document.querySelectorAll(".village.selected");
    for (var i = 0; i < items.length; i++) { items[i].classList.remove("selected"); }
    var link = document.querySelector('.village[data-village="' + id + '"]');
    if (link) { link.classList.add("selected"); }
    get(el.getAttribute("data-source") + "?village=" + encodeURIComponent(id)).then(function (data) {
      households.clearLayers();
      detail.textContent = "";
      if (!data.ok) { detail.appendChild(node("p", "form-error", data.message_zh)); return; }
      detail.appendChild(node("h2", "", data.village + "（" + data.households.length + "户）"));
      var table = node("table", "data village-households");
      var head = node("tr");
      ["户编号", "户主", "农户状态", "走访进度"].forEach(function (h) { head.appendChild(node("th", "", h)); });
      table.appendChild(node("thead")).appendChild(head);
      var body = table.appendChild(node("tbody"));
      data.households.forEach(function (h) {
        var row = node("tr");
        row.appendChild(node("td", "", h.number));
        var cell = node("td");
        var a = node("a", "", h.head);
        a.href = h.url;
        cell.appendChild(a);
        row.appendChild(cell);
        row.appendChild(node("td", "", h.status));
        row.appendChild(node("td", "tone-" + h.tone, h.state_label));
        body.appendChild(row);
        if (h.lat === null || h.lon === null) { return; }
        var m = L.circleMarker([h.lat, h.lon], { radius: 5, weight: 1, color: "#fff", fillColor: colours[h.tone], fillOpacity: 0.95,
          className: "household-mark tone-" + h.tone });
        var pop = node("div");
        var link = node("a", "", h.head + "（" + h.number + "）");
        link.href = h.url;
        pop.appendChild(link);
        pop.appendChild(node("div", "", h.status + " · " + h.state_label));
        m.bindPopup(pop);
        households.addLayer(m);
      });
      var wrap = node("div", "table-wrap");
      wrap.appendChild(table);
      detail.appendChild(wrap);
      if (households.getLayers().length) { map.fitBounds(households.getBounds(), { padding: [30, 30], maxZoom: 16 }); }
    });
  }

  get(el.getAttribute("data-source")).then(function (data) {
    if (!data.ok) { el.textContent = data.message_zh; return; }
    data.villages.forEach(function (v) {
      if (v.lat === null || v.lon === null) { return; }
      var m = L.circleMarker([v.lat, v.lon], { radius: radius(v.households), weight: 2, color: colours[v.tone], fillColor: colours[v.tone],
        fillOpacity: 0.45, className: "village-mark tone-" + v.tone + " v-" + v.id });
      // Text nodes: Leaflet reads a string as HTML, and a village is named
      // by whoever may edit its region.
      // Names stay on the map while they fit (a town's or a small county's
      // villages); a whole county's show on hover.
      if (data.villages.length <= 40) {
        m.bindTooltip(node("span", "", v.name + " " + v.behind), { permanent: true, direction: "top", className: "village-label", offset: [0, -radius(v.households)] });
      } else {
        m.bindTooltip(node("span", "", v.name + " " + v.behind + " · 已达标" + v.rate_text + " · " + v.households + "户"));
      }
      m.on("click", function () { select(v.id); });
      byID[v.id] = m;
      villages.addLayer(m);
    });
    if (villages.getLayers().length) { map.fitBounds(villages.getBounds(), { padding: [30, 30] }); } else { map.setView([32.1, 114.1], 9); }
    el.setAttribute("data-ready", String(villages.getLayers().length));
    // A link from the overview names a village: show it at once.
    var asked = new URLSearchParams(window.location.search).get("village");
    if (asked) { select(asked); }
  });

  // The side list selects on the map too, without leaving the page.
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest(".village[data-village]") : null;
    if (!a) { return; }
    e.preventDefault();
    select(a.getAttribute("data-village"));
  });
})();
