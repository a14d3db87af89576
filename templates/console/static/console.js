// The console works without this script. It only adds: a live refresh of a running job's progress,
// a "select all" box for lists of checkboxes, and sorting a table's rows (the page on screen) by a column.
(function () {
  "use strict";

  function refreshProgress() {
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
  }

  // <input type="checkbox" data-select-all="order_ids"> ticks or unticks every box named order_ids
  // of its form; it is hidden until this script runs, as it does nothing without it.
  function selectAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-select-all]"), function (box) {
      var name = box.getAttribute("data-select-all");
      var boxes = function () {
        return Array.prototype.filter.call(box.form.elements, function (e) { return e.name === name; });
      };
      box.closest("[hidden]") && box.closest("[hidden]").removeAttribute("hidden");
      box.addEventListener("change", function () {
        boxes().forEach(function (other) { other.checked = box.checked; });
      });
    });
  }

  // <table data-sortable>: each column header becomes a button sorting the rows on screen by that
  // column (a cell's data-sort value when it has one, else its text), ascending then descending.
  function sortableTables() {
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), function (table) {
      var body = table.tBodies[0];
      var headers = table.tHead ? table.tHead.rows[0].cells : [];
      Array.prototype.forEach.call(headers, function (header, column) {
        if (header.hasAttribute("data-unsortable")) { return; }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort";
        while (header.firstChild) { button.appendChild(header.firstChild); }
        header.appendChild(button);
        button.addEventListener("click", function () {
          var ascending = header.getAttribute("aria-sort") !== "ascending";
          Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
          header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
          var key = function (row) {
            var cell = row.cells[column];
            return cell ? (cell.getAttribute("data-sort") || cell.textContent.trim()) : "";
          };
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = key(a), y = key(b);
            var numeric = x !== "" && y !== "" && !isNaN(x) && !isNaN(y);
            var order = numeric ? Number(x) - Number(y) : x.localeCompare(y, document.documentElement.lang);
            return ascending ? order : -order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  }

  refreshProgress();
  selectAll();
  sortableTables();
}());
