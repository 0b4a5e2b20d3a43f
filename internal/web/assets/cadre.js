// The cadre page's visit rhythm: visits per month over the last year as
// bars, each with a narrower bar in front for the visits among them that
// carry an evidence flag, drawn with uPlot from data-rhythm.
(function () {
  "use strict";
  var el = document.getElementById("rhythm");
  if (!el || !window.uPlot) { return; }
  var data = JSON.parse(el.getAttribute("data-rhythm") || "{}");
  var labels = data.labels || [];
  var xs = labels.map(function (_, i) { return i; });
  var bars = uPlot.paths.bars({ size: [0.6, 48] });
  var inner = uPlot.paths.bars({ size: [0.3, 20] });
  var top = Math.max.apply(null, [4].concat(data.visits || []));
  function size() { return { width: Math.max(el.clientWidth, 280), height: 240 }; }
  var opts = Object.assign(size(), {
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: [0, top + 1] } },
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    axes: [
      { values: function (u, vals) { return vals.map(function (v) { return Number.isInteger(v) ? (labels[v] || "") : ""; }); }, space: 50 },
      { values: function (u, vals) { return vals.map(function (v) { return Number.isInteger(v) ? v : ""; }); } }
    ],
    series: [
      { label: "月份" },
      { label: "走访次数", fill: "rgba(11, 92, 173, .75)", stroke: "#0b5cad", paths: bars, points: { show: false } },
      { label: "其中带疑点", fill: "rgba(199, 119, 0, .9)", stroke: "#c77700", paths: inner, points: { show: false } }
    ]
  });
  var plot = new uPlot(opts, [xs, data.visits || [], data.flagged || []], el);
  el.setAttribute("data-ready", "");
  window.addEventListener("resize", function () { plot.setSize(size()); });
})();
