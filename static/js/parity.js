// Parity's page behaviour, as a static file: the Content-Security-Policy allows no inline script
// and no on*= handler attribute (rcm/settings.py, "Production hardening").
//
//   <select data-autosubmit>                 submits its form when the choice changes
//   <button data-uncheck="css selector">     unchecks the matching boxes of its form first
//   an htmx form answered 422                 shows the answer (the form with its errors inline)
(function () {
  "use strict";

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
