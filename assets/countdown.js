// Reporting deadlines on the incident page counting down in the browser, red once they have passed
// (only the reports due with no submission recorded carry data-due; see layouts/components/incident_submissions.py).
(function () {
  function left(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes >= 1440) { return Math.floor(minutes / 1440) + " d " + Math.floor((minutes % 1440) / 60) + " h"; }
    return minutes >= 60 ? Math.floor(minutes / 60) + ":" + String(minutes % 60).padStart(2, "0") : minutes + " min";
  }

  function tick() {
    document.querySelectorAll(".oc-countdown[data-due]").forEach(function (el) {
      var ms = Number(el.getAttribute("data-due")) - Date.now();
      var over = ms <= 0;
      el.textContent = el.getAttribute(over ? "data-over" : "data-in").replace("{left}", left(ms));
      el.classList.toggle("oc-overdue", over);
    });
  }
  setInterval(tick, 1000);
})();
