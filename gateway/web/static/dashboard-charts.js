/* The dashboard's charts, drawn by the vendored Chart.js from the page's JSON block
   (#measures-block's data-charts attribute): no inline script, nothing fetched. Each canvas[data-chart] names a series;
   once drawn it gets data-points="N" (the number of values it shows). When the measures were
   still being computed, htmx swaps their block in later: the charts are drawn then. */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("measures-block");
    if (!source || !source.dataset.charts || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.dataset.charts);
    var accent = "#0b5cad";
    var specs = {
      first_pass_rate: { type: "line", labels: data.months, values: data.first_pass_rate, label: "first-pass acceptance %", max: 100 },
      denial_rate: { type: "line", labels: data.months, values: data.denial_rate, label: "denial rate %", max: 100 },
      days_to_payment: { type: "line", labels: data.months, values: data.days_to_payment, label: "median days to payment" },
      aging: { type: "bar", labels: data.aging.buckets, values: data.aging.balance, label: "open balance by days since service" },
      open_balance: { type: "bar", labels: data.months, values: data.open_balance, label: "open balance by month first submitted" }
    };
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) {
      var canvas = canvases[i];
      var spec = specs[canvas.getAttribute("data-chart")];
      if (!spec || Chart.getChart(canvas)) { continue; }
      var scales = { y: { beginAtZero: true } };
      if (spec.max) { scales.y.max = spec.max; }
      new Chart(canvas, {
        type: spec.type,
        data: {
          labels: spec.labels,
          datasets: [{ label: spec.label, data: spec.values, borderColor: accent,
                       backgroundColor: spec.type === "bar" ? accent : "rgba(11,92,173,0.15)",
                       spanGaps: true, tension: 0.2 }]
        },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
                   plugins: { legend: { display: false } }, scales: scales }
      });
      var shown = spec.values.filter(function (v) { return v !== null; }).length;
      canvas.setAttribute("data-points", String(shown));
    }
  }
  document.addEventListener("htmx:load", draw);  // on the new content (the old target is gone)
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
