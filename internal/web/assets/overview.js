// The overview's trend chart: the monthly met rates from data-trend,
// drawn with uPlot.
(function () {
  "use strict";
  var el = document.getElementById("trend");
  if (!el || !window.uPlot) { return; }
  var data = JSON.parse(el.getAttribute("data-trend") || "{}");
  var labels = data.labels || [];
  var rates = (data.rates || []).map(function (r) { return r === null ? null : Math.round(r * 1000) / 10; });
  var xs = labels.map(function (_, i) { return i; });
  function size() { return { width: Math.max(el.clientWidth, 280), height: 260 }; }
  var opts = Object.assign(size(), {
    scales: { x: { time: false }, y: { range: [0, 100] } },
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    axes: [
      { values: function (u, vals) { return vals.map(function (v) { return labels[v] || ""; }); }, space: 60 },
      { values: function (u, vals) { return vals.map(function (v) { return v + "%"; }); } }
    ],
    series: [
      {},
      { label: "达标率", stroke: "#b3261e", width: 2, points: { show: true, size: 6 }, spanGaps: false,
        value: function (u, v) { return v === null ? "—" : v + "%"; } }
    ]
  });
  var plot = new uPlot(opts, [xs, rates], el);
  window.addEventListener("resize", function () { plot.setSize(size()); });
})();
