// Control room keyboard helpers: the desk works without a mouse.
// "/" or Escape: back to the search box. Arrow keys: move between the actions of the results.
(function () {
  "use strict";

  function search() {
    return document.querySelector("[data-cr-search]");
  }

  function focusSearch() {
    var box = search();
    if (box) {
      box.focus();
      box.select();
    }
  }

  function navigable() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#cr-results [data-cr-nav]")
    ).filter(function (el) {
      return el.offsetParent !== null && !el.disabled;
    });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target instanceof HTMLElement &&
      (target.matches("textarea, select, input:not([type=radio]):not([type=checkbox])") || target.isContentEditable);
    if (event.key === "Escape" && !event.defaultPrevented) {
      focusSearch();
      return;
    }
    if (event.key === "/" && !typing) {
      event.preventDefault();
      focusSearch();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") {
      return;
    }
    var items = navigable();
    if (!items.length) {
      return;
    }
    if (target === search()) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        items[0].focus();
      }
      return;
    }
    var index = items.indexOf(target);
    if (index === -1) {
      return;
    }
    event.preventDefault();
    if (event.key === "ArrowDown") {
      items[Math.min(index + 1, items.length - 1)].focus();
    } else if (index === 0) {
      focusSearch();
    } else {
      items[index - 1].focus();
    }
  });

  // Walk-in form: the departure follows the chosen visitor timetable until edited by hand.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.matches("[data-cr-policy]")) {
      return;
    }
    var option = select.selectedOptions[0];
    var form = select.form;
    var end = form && form.querySelector("input[name=end]");
    var words = document.getElementById("cr-policy-words");
    if (words && option) {
      words.textContent = option.dataset.words || "";
    }
    if (end && option && option.dataset.end && !end.dataset.touched) {
      end.value = option.dataset.end;
    }
  });
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input instanceof HTMLInputElement && input.name === "end") {
      input.dataset.touched = "1";
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element && target.closest("[data-cr-new-search]")) {
      focusSearch();
    }
  });
})();
