/* Draws every chart on the page from the JSON next to its canvas (no inline script: CSP). */
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var palette = ["#17bebb", "#e4572e", "#ffc914", "#2e282a", "#76b041", "#8c6bb1", "#4c78a8", "#f58518"];
  document.querySelectorAll("canvas[id$='-chart']").forEach(function (canvas) {
    var source = document.getElementById(canvas.id.replace(/-chart$/, "-data"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.series.map(function (s, i) {
      return {
        label: s.label,
        data: spec.percent ? s.data.map(function (v) { return Math.round(v * 1000) / 10; }) : s.data,
        backgroundColor: spec.type === "radar" ? "rgba(23, 190, 187, 0.25)" : palette[i % palette.length],
        borderColor: palette[i % palette.length],
        tension: 0.25
      };
    });
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: spec.type === "radar" ? { r: { beginAtZero: true } }
          : { y: spec.reverse ? { reverse: true, ticks: { precision: 0 } } : { beginAtZero: true } }
      }
    });
  });
})();
