// Campaign editor conveniences; the server checks everything again. Shows the WhatsApp message
// only for a WhatsApp target, the text or module box of each message, module options of the
// matching platform, clears the image, and refuses files over 5 MB before uploading them.
(function () {
  "use strict";
  var form = document.getElementById("campaign-form");
  if (!form) return;
  var maxBytes = 5 * 1024 * 1024;
  function platformOf(name) {
    var sel = form.querySelector('select[name="' + name + '"]');
    var opt = sel && sel.options[sel.selectedIndex];
    return (opt && opt.getAttribute("data-platform")) || "";
  }
  function sync() {
    var target = platformOf("target_channel_id");
    var sides = { source: platformOf("source_channel_id"), target: target };
    form.querySelectorAll("[data-show-target]").forEach(function (el) {
      el.hidden = el.getAttribute("data-show-target") !== target;
    });
    form.querySelectorAll("fieldset.action").forEach(function (fs) {
      var checked = fs.querySelector('input[type="radio"]:checked');
      var kind = checked ? checked.value : "";
      fs.querySelectorAll("[data-kind]").forEach(function (box) {
        box.hidden = box.getAttribute("data-kind") !== kind;
      });
    });
    form.querySelectorAll("select[data-module-side]").forEach(function (sel) {
      var want = sides[sel.getAttribute("data-module-side")];
      Array.prototype.forEach.call(sel.options, function (o) {
        var p = o.getAttribute("data-platform");
        o.hidden = !!p && p !== want;
        if (o.hidden && o.selected) sel.value = "";
      });
    });
  }
  form.addEventListener("change", function (e) {
    if (e.target.type === "file") {
      var f = e.target.files && e.target.files[0];
      if (f && f.size > maxBytes) {
        e.stopImmediatePropagation();
        e.target.value = "";
        var err = document.getElementById("err-image");
        if (err) err.textContent = form.getAttribute("data-too-large") || "";
      }
      return;
    }
    sync();
  }, true);
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-clear-image]");
    if (!b) return;
    var slot = document.getElementById("image-slot");
    var hidden = slot && slot.querySelector('input[name="media_id"]');
    if (hidden) hidden.value = "";
    var fig = slot && slot.querySelector("figure");
    if (fig) fig.remove();
    document.body.dispatchEvent(new Event("campaign-changed"));
  });
  sync();
})();
