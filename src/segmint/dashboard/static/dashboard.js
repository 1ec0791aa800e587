// segmint dashboard: draws every chart from its data-figure with the bundled Plotly, and
// submits filter forms as the user changes them. No network requests beyond this server.
(function () {
  "use strict";

  function drawCharts() {
    document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
      var figure = JSON.parse(el.getAttribute("data-figure"));
      var layout = Object.assign(
        { margin: { t: 24, r: 16, b: 40, l: 56 }, font: { family: "system-ui, sans-serif" } },
        figure.layout || {}
      );
      var config = Object.assign(
        { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] },
        figure.config || {}
      );
      window.Plotly.newPlot(el, figure.data, layout, config);
      if (figure.links) {
        el.on("plotly_click", function (event) {
          var point = event.points && event.points[0];
          var key = point && point.customdata;
          if (key && figure.links[key]) {
            window.location.href = figure.links[key];
          }
        });
      }
    });
  }

  function autoSubmit() {
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.Plotly) {
      drawCharts();
    }
    autoSubmit();
  });
})();
