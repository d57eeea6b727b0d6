// The live page (publisher watch --serve): on each new version the server announces, the page fetches
// itself and swaps its content in, keeping where the reader is; nothing is loaded from elsewhere.
(function () {
  "use strict";
  var night = document.getElementById("night");
  function applyNight() {
    var on = night && night.checked;
    document.querySelectorAll(".card").forEach(function (c) { c.classList.toggle("nightMode", !!on); });
  }
  if (night) {
    night.checked = localStorage.getItem("publisher-night") === "1";
    night.addEventListener("change", function () {
      localStorage.setItem("publisher-night", night.checked ? "1" : "0");
      applyNight();
    });
  }
  applyNight();
  var shown = document.body.getAttribute("data-version");
  function refresh(version) {
    if (version === shown) { return; }
    fetch(location.pathname, { cache: "no-store" }).then(function (r) { return r.text(); }).then(function (text) {
      var doc = new DOMParser().parseFromString(text, "text/html");
      var fresh = doc.getElementById("live");
      var here = document.getElementById("live");
      if (fresh && here) {
        here.replaceWith(document.importNode(fresh, true));
        shown = doc.body.getAttribute("data-version");
        document.body.setAttribute("data-version", shown);
        var style = doc.querySelector("head style"), mine = document.querySelector("head style");
        if (style && mine && style.textContent !== mine.textContent) { mine.textContent = style.textContent; }
        applyNight();
      }
    });
  }
  var events = new EventSource("/events");
  events.onmessage = function (e) { refresh(e.data); };
})();
