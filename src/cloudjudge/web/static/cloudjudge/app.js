/* cloudjudge: small progressive enhancements. No inline scripts (the CSP
   allows scripts from 'self' only); without JavaScript every form still works
   and the server applies the same rules. */
(function () {
  "use strict";

  var LOCAL_BREAKOUT = "local_breakout";
  var FALLBACK_ERROR = "判定を更新できませんでした。保存して再度お試しください。";

  /* The live verdict: when the preview request fails (an error status, or no
     answer at all), say so in the panel rather than leave the old verdict
     standing as if it were current. The next successful preview replaces it. */
  function previewFailed(event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "verdict") {
      return;
    }
    var message = document.createElement("p");
    message.className = "error";
    message.setAttribute("role", "alert");
    message.textContent = target.getAttribute("data-error-message") || FALLBACK_ERROR;
    target.replaceChildren(message);
  }
  ["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, previewFailed);
  });

  /* The local breakout usage (表1 A/B/C) only means something for local
     breakout: hide it and disable its inputs otherwise, so neither the live
     preview nor the saved form sends a choice left over from before. */
  function syncBreakoutUsage(form) {
    var inputs = form.querySelectorAll('input[name="breakout_usage"], select[name="breakout_usage"]');
    if (!inputs.length) {
      return;
    }
    var method = form.querySelector('input[name="method"]:checked, select[name="method"]');
    var applies = !!method && method.value === LOCAL_BREAKOUT;
    var field = inputs[0].closest(".field");
    if (field) {
      field.hidden = !applies;
    }
    inputs.forEach(function (input) {
      input.disabled = !applies;
    });
  }

  /* Capture phase: runs before htmx's own "change" handler on the form reads
     the values. htmx also refuses to send a form that fails the browser's
     validation (an empty purpose, say), which would keep the preview from ever
     listing what is missing: for the preview only, the form is marked
     novalidate, and the mark is taken off again once htmx has sent it, so
     saving still gets the browser's checks. */
  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = input && input.form;
    if (!form || !form.classList.contains("appform")) {
      return;
    }
    if (input.name === "method") {
      syncBreakoutUsage(form);
    }
    if (!form.noValidate) {
      form.noValidate = true;
      form.setAttribute("data-preview-novalidate", "");
    }
  }, true);
  document.addEventListener("change", function (event) {
    var form = event.target && event.target.form;
    if (form && form.hasAttribute("data-preview-novalidate")) {
      form.removeAttribute("data-preview-novalidate");
      form.noValidate = false;
    }
  });

  /* A service picked from the register: the block for a service not in the
     register yet is beside the point, so it is hidden and not sent. */
  function syncServiceBlock(form) {
    var picker = form.querySelector('select[name="service"]');
    var block = form.querySelector("#new-service");
    if (!picker || !block) {
      return;
    }
    var picked = picker.value !== "";
    block.hidden = picked;
    block.querySelectorAll("input, select, textarea").forEach(function (input) {
      input.disabled = picked;
    });
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.name === "service" && input.form && input.form.classList.contains("appform")) {
      syncServiceBlock(input.form);
    }
  }, true);

  document.querySelectorAll("form.appform").forEach(syncBreakoutUsage);
  document.querySelectorAll("form.appform").forEach(syncServiceBlock);
})();

// Re-judging the register works in steps: while a run is unfinished, the
// report page posts the next step itself (without JavaScript: the button).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("rejudge-apply");
  if (form && form.dataset.continue === "1") form.submit();
});
