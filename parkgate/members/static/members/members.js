// The members' page: installable web app, offline notice, and the remote control's error message.
(function () {
  "use strict";
  var script = document.currentScript;
  var swUrl = script && script.dataset.sw;
  var scope = script && script.dataset.scope;
  if ("serviceWorker" in navigator && swUrl) {
    navigator.serviceWorker.register(swUrl, { scope: scope }).catch(function () {});
  }
  function showOffline() {
    var banner = document.querySelector(".member-offline");
    if (banner) banner.hidden = navigator.onLine;
  }
  window.addEventListener("online", showOffline);
  window.addEventListener("offline", showOffline);
  document.addEventListener("DOMContentLoaded", function () {
    showOffline();
    // Signing out: forget the pages kept for offline use on this device.
    var logout = script && script.dataset.logout;
    var forms = document.querySelectorAll("form[data-clear-cache]" + (logout ? ', form[action="' + logout + '"]' : ""));
    forms.forEach(function (form) {
      form.addEventListener("submit", function () {
        if (navigator.serviceWorker && navigator.serviceWorker.controller) {
          navigator.serviceWorker.controller.postMessage("clear");
        }
      });
    });
  });
  // A request that never reached us (or failed) says so plainly, as the remote control does.
  function showError(event) {
    var form = event.detail && event.detail.elt && event.detail.elt.closest("form[data-offline-result]");
    if (!form) return;
    var template = document.querySelector(form.dataset.offlineResult);
    var target = document.getElementById("rc-result");
    if (template && target) target.replaceChildren(template.content.cloneNode(true));
  }
  document.addEventListener("htmx:sendError", showError);
  document.addEventListener("htmx:responseError", showError);
})();
