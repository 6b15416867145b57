// The claim page's code look-up: "Use" puts the code into the field last focused.
// A field with data-lookup="icd|hcpcs|modifier" also switches the look-up to its code set.
(function () {
  "use strict";
  var target = null;
  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLInputElement) || !field.dataset.lookup) { return; }
    target = field;
    var set = document.getElementById("lookup-set");
    if (set) { set.value = field.dataset.lookup; }
  });
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest(".use-code") : null;
    if (!button || !target) { return; }
    var code = button.dataset.code || "";
    if (target.dataset.lookup === "modifier" && target.value.trim() && button.dataset.set === "modifier") {
      var parts = target.value.split(",").map(function (p) { return p.trim(); }).filter(Boolean);
      if (parts.indexOf(code) < 0) { parts.push(code); }
      target.value = parts.join(", ");
    } else {
      target.value = code;
    }
    target.dispatchEvent(new Event("change", { bubbles: true }));
    target.focus();
  });
})();
