// Parkgate's few page behaviours, as listeners on data attributes: the Content-Security-Policy
// allows no inline script, no inline event handler and no htmx hx-on (htmx.config.allowEval=false).
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (language, organisation).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit();
    }
  });

  // <span data-focus="id">: after a page load or an htmx swap, the keyboard focus goes to #id.
  function focusMarked() {
    var marker = document.querySelector("[data-focus]");
    var target = marker && document.getElementById(marker.getAttribute("data-focus"));
    if (target) {
      target.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", focusMarked);
  document.addEventListener("htmx:afterSettle", focusMarked);

  // <form data-error-template="tpl-id" data-error-target="box-id">: when the request cannot be
  // sent or fails, #box-id shows a copy of <template id="tpl-id">.
  function showError(event) {
    var form = event.target instanceof Element ? event.target.closest("[data-error-template]") : null;
    if (!form) {
      return;
    }
    var template = document.getElementById(form.getAttribute("data-error-template"));
    var box = document.getElementById(form.getAttribute("data-error-target"));
    if (template && box) {
      box.replaceChildren(template.content.cloneNode(true));
    }
  }
  document.addEventListener("htmx:sendError", showError);
  document.addEventListener("htmx:responseError", showError);

  // <form data-reset-on-success>: after a successful htmx request that carried a note, the form
  // empties and its enclosing <details> closes.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target instanceof Element ? event.target.closest("form[data-reset-on-success]") : null;
    if (!form || !event.detail.successful) {
      return;
    }
    var note = form.querySelector("textarea");
    if (note && note.value) {
      form.reset();
      var details = form.closest("details");
      if (details) {
        details.open = false;
      }
    }
  });

  // <nav data-collapsible> with a <button data-nav-toggle hidden>: on a phone the menu folds behind
  // the button (the CSS shows the button only on narrow screens). Without JavaScript the whole
  // menu simply stays open.
  function navSetup() {
    document.querySelectorAll("nav[data-collapsible]").forEach(function (nav) {
      var button = nav.querySelector("[data-nav-toggle]");
      if (!button || nav.classList.contains("is-collapsible")) {
        return;
      }
      nav.classList.add("is-collapsible", "is-collapsed");
      button.hidden = false;
      button.setAttribute("aria-expanded", "false");
      button.addEventListener("click", function () {
        var collapsed = nav.classList.toggle("is-collapsed");
        button.setAttribute("aria-expanded", collapsed ? "false" : "true");
      });
    });
  }

  // A table or .table-wrap wider than its box scrolls inside it; a keyboard must reach it too.
  function scrollablesFocusable() {
    document.querySelectorAll("main table, .table-wrap, #cr-log-rows").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1) {
        if (!box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
        }
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }
  // <button data-formset-add="prefix" data-formset-template="tpl-id" data-formset-target="box-id">:
  // appends a copy of the formset's empty row (its __prefix__ numbered) and counts it in
  // prefix-TOTAL_FORMS. Without JavaScript the page offers empty rows after saving instead.
  function formsetSetup() {
    document.querySelectorAll("[data-formset-add]").forEach(function (button) {
      var prefix = button.getAttribute("data-formset-add");
      var template = document.getElementById(button.getAttribute("data-formset-template"));
      var box = document.getElementById(button.getAttribute("data-formset-target"));
      var total = document.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
      var max = document.querySelector("input[name='" + prefix + "-MAX_NUM_FORMS']");
      if (!template || !box || !total) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        var index = parseInt(total.value, 10) || 0;
        if (max && index >= parseInt(max.value, 10)) {
          return;
        }
        var html = template.innerHTML.replace(/__prefix__/g, String(index));
        box.insertAdjacentHTML("beforeend", html);
        total.value = String(index + 1);
        var first = box.lastElementChild && box.lastElementChild.querySelector("input");
        if (first) {
          first.focus();
        }
      });
    });
  }

  // allauth's passkey script (mfa/js/webauthn.js) reports a refused or timed-out ceremony as an
  // "allauth.error" event: the page's [data-passkey-error] message says so instead of the console.
  document.addEventListener("allauth.error", function (event) {
    var tags = (event.detail && event.detail.tags) || [];
    var message = document.querySelector("[data-passkey-error]");
    if (tags.indexOf("webauthn") === -1 || !message) {
      return;
    }
    event.preventDefault();
    message.hidden = false;
  });

  // <button data-passkey-button disabled>: a passkey button does its work in allauth's script, which
  // wires it on DOMContentLoaded (account/js/onload.js, a classic script at the end of the body, so
  // its listener runs before this deferred one's). Until then a click would post the form with no
  // passkey in it ("This field is required."), so the button is enabled only once that script is here.
  function passkeyButtonsReady() {
    if (!(window.allauth && window.allauth.webauthn)) {
      return;
    }
    document.querySelectorAll("button[data-passkey-button]").forEach(function (button) {
      button.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    passkeyButtonsReady();
    formsetSetup();
    navSetup();
    scrollablesFocusable();
  });
  document.addEventListener("htmx:afterSettle", scrollablesFocusable);
  window.addEventListener("resize", scrollablesFocusable);
})();
