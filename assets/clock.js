// The header clock, in the display time zone, ticking in the browser: no server round trip.
(function () {
  function tick() {
    document.querySelectorAll(".oc-clock").forEach(function (el) {
      var tz = el.getAttribute("data-tz") || undefined;
      el.textContent = new Intl.DateTimeFormat("en-GB", {
        timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
      }).format(new Date()) + " " + (el.getAttribute("data-label") || "");
    });
  }
  setInterval(tick, 1000);
})();
