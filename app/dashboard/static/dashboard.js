// The dashboard's only script: draws the overview's charts with the vendored Chart.js and keeps
// a live run's page fresh by polling its status. Loaded with `defer`; no inline script anywhere.
"use strict";

function drawCharts() {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const common = { responsive: true, maintainAspectRatio: false, animation: false };
  const make = (id, config) => {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, { ...config, options: { ...common, ...(config.options || {}) } });
  };
  make("chart-runs", {
    type: "bar",
    data: { labels: data.days, datasets: [
      { label: "runs", data: data.runs, backgroundColor: "#8fb8ed" },
      { label: "fixed", data: data.fixed, backgroundColor: "#1a7f37" },
    ] },
  });
  make("chart-fix-rate", {
    type: "line",
    data: { labels: data.days, datasets: [
      { label: "fix rate %", data: data.fix_rate, borderColor: "#1a7f37", spanGaps: true },
    ] },
    options: { scales: { y: { min: 0, max: 100 } } },
  });
  make("chart-cost", {
    type: "line",
    data: { labels: data.days, datasets: [
      { label: "cost USD", data: data.cost, borderColor: "#9a6700" },
      { label: "daily budget (per repository)", data: data.days.map(() => data.budget),
        borderColor: "#cf222e", borderDash: [6, 4], pointRadius: 0 },
    ] },
  });
}

function followLiveRun() {
  const url = document.body.dataset.live;
  if (!url) return;
  const seconds = Number(document.body.dataset.refresh || "3");
  const tick = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const state = await response.json();
        if (!state.live) { window.location.reload(); return; }
        const badge = document.querySelector("[data-testid=run-status]");
        if (badge && badge.textContent !== state.status) { window.location.reload(); return; }
      }
    } catch (error) {
      // A network hiccup: try again on the next tick.
    }
    window.setTimeout(tick, seconds * 1000);
  };
  window.setTimeout(tick, seconds * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  drawCharts();
  followLiveRun();
});
