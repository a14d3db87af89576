// The console works without this script; it only adds a live refresh of a running job's progress.
(function () {
  "use strict";
  var region = document.querySelector("[data-refresh]");
  if (!region || !window.fetch || !window.DOMParser) { return; }
  var delay = parseInt(region.getAttribute("data-refresh"), 10) || 2000;
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin" }).then(function (answer) {
      return answer.ok ? answer.text() : null;
    }).then(function (html) {
      if (!html) { return; }
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("progress");
      if (!fresh) { return; }
      region.replaceChildren.apply(region, Array.prototype.slice.call(fresh.childNodes));
      if (fresh.hasAttribute("data-refresh")) { window.setTimeout(refresh, delay); }
      else { region.removeAttribute("data-refresh"); }
    }).catch(function () { window.setTimeout(refresh, delay * 2); });
  }
  window.setTimeout(refresh, delay);
}());
