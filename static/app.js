// Console behaviour that needs script: CSRF header on htmx requests, confirmations, and
// closing dialogs. Loaded from our own origin, so the CSP allows it without a nonce.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  }, true);
  // A Facebook Login form opens the dialog in a new tab; this tab starts waiting for the result.
  document.addEventListener("submit", function (e) {
    if (e.target.hasAttribute("data-oauth-wait") && !e.defaultPrevented) {
      setTimeout(function () { document.body.dispatchEvent(new Event("oauth-start")); }, 300);
    }
  });
  // Copy buttons put a value (a webhook URL, an id) on the clipboard and say so for a moment.
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-copy]");
    if (!b || !navigator.clipboard) return;
    var src = document.querySelector(b.getAttribute("data-copy"));
    if (!src) return;
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      var label = b.textContent;
      b.textContent = b.getAttribute("data-copied") || label;
      setTimeout(function () { b.textContent = label; }, 1500);
    });
  });
  // Lists fold into cards on phones; each cell is labelled with its column's heading there.
  function labelCells(root) {
    root.querySelectorAll("table").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      if (!heads.length) return;
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (td, i) {
          if (heads[i] && !td.hasAttribute("data-label")) td.setAttribute("data-label", heads[i]);
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { labelCells(document); });
  document.addEventListener("htmx:afterSwap", function (e) { labelCells(e.target); });
  // Escape closes the phone menu and returns focus to its button.
  document.addEventListener("keydown", function (e) {
    var toggle = document.getElementById("nav-toggle");
    if (e.key === "Escape" && toggle && toggle.checked) {
      toggle.checked = false;
      toggle.focus();
    }
  });
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-close-dialog]");
    if (t) {
      var d = t.closest("dialog");
      if (d) d.removeAttribute("open");
    }
  });
})();
