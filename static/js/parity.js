// Parity's page behaviour, as a static file: the Content-Security-Policy allows no inline script
// and no on*= handler attribute (rcm/settings.py, "Production hardening").
//
//   <select data-autosubmit>                 submits its form when the choice changes
//   <button data-uncheck="css selector">     unchecks the matching boxes of its form first
//   an htmx form answered 422                 shows the answer (the form with its errors inline)
//   #pick-form (the batch page)              keeps "Selected: N claims, $X" up to date from the
//                                            ticked .pick-claim boxes (data-cents), the
//                                            [data-pick-page] box and #all-matching
(function () {
  "use strict";

  function money(cents) {
    var text = String(Math.abs(cents) % 100);
    var whole = Math.floor(Math.abs(cents) / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (cents < 0 ? "-$" : "$") + whole + "." + (text.length < 2 ? "0" + text : text);
  }

  function updateSelection(form) {
    var all = form.querySelector("#all-matching");
    var boxes = form.querySelectorAll(".pick-claim");
    var count = 0;
    var cents = 0;
    if (all && all.checked) {
      count = parseInt(all.getAttribute("data-count"), 10) || 0;
      cents = parseInt(all.getAttribute("data-cents"), 10) || 0;
    } else {
      boxes.forEach(function (box) {
        if (box.checked) {
          count += 1;
          cents += parseInt(box.getAttribute("data-cents"), 10) || 0;
        }
      });
    }
    boxes.forEach(function (box) {
      box.disabled = Boolean(all && all.checked);
    });
    var countNode = form.querySelector("#selection-count");
    var amountNode = form.querySelector("#selection-amount");
    if (countNode) {
      countNode.textContent = String(count);
    }
    if (amountNode) {
      amountNode.textContent = money(cents);
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement) || !target.form || target.form.id !== "pick-form") {
      return;
    }
    if (target.matches("[data-pick-page]")) {
      target.form.querySelectorAll(".pick-claim").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    updateSelection(target.form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("pick-form");
    if (form) {
      updateSelection(form);
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLElement && target.matches("[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-uncheck]") : null;
    if (!target || !target.form) {
      return;
    }
    target.form.querySelectorAll(target.getAttribute("data-uncheck")).forEach(function (box) {
      box.checked = false;
    });
  });

  // htmx swaps only 2xx answers; a form refused with 422 (Unprocessable Content) comes back with
  // its errors beside their fields and replaces the form in place.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
