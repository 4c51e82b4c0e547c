// corpus web view: keyboard navigation of a diff. Loaded from this server only (the pages
// send a Content-Security-Policy without 'unsafe-inline'); no inline handlers anywhere.
"use strict";
(function () {
  var current = -1;

  function changes() {
    return Array.prototype.filter.call(document.querySelectorAll(".diff .change"), function (el) {
      return el.offsetParent !== null || el.closest("details") !== null;
    });
  }

  function go(step) {
    var list = changes();
    if (!list.length) return;
    current = Math.max(0, Math.min(list.length - 1, current + step));
    var el = list[current];
    var folded = el.closest("details");
    if (folded) folded.open = true;
    list.forEach(function (other) { other.classList.remove("current"); });
    el.classList.add("current");
    el.scrollIntoView({block: "center"});
    if (history.replaceState) history.replaceState(null, "", "#" + el.id);
  }

  document.addEventListener("keydown", function (event) {
    if (!document.body.classList.contains("diff-page")) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (event.key === "n" || event.key === "j") { go(1); event.preventDefault(); }
    else if (event.key === "p" || event.key === "k") { go(-1); event.preventDefault(); }
  });
})();
