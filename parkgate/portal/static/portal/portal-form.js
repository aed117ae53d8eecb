// Live preview of a portal's branded header while editing. The form works without it.
(function () {
  "use strict";
  var form = document.querySelector("[data-portal-form]");
  if (!form) return;
  var preview = form.querySelector("[data-brand-preview]");
  var nameInput = form.querySelector("input[name=name]");
  var slugInput = form.querySelector("input[name=slug]");
  var colourInput = form.querySelector("input[name=brand_colour]");
  var note = form.querySelector("[data-contrast-note]");
  var slugPreview = form.querySelector("[data-slug-preview]");
  var slugTouched = slugInput && slugInput.value !== "";

  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9\s-]/g, "").trim().replace(/[\s-]+/g, "-").slice(0, 80);
  }
  function linear(c) {
    c = c / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  }
  function contrastWithWhite(hex) {
    var r = parseInt(hex.slice(0, 2), 16), g = parseInt(hex.slice(2, 4), 16), b = parseInt(hex.slice(4, 6), 16);
    var l = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    return 1.05 / (l + 0.05);
  }
  function updateName() {
    var name = nameInput.value.trim();
    preview.querySelector("[data-preview-name]").textContent = name || preview.dataset.placeholder || "";
    if (slugInput && !slugInput.disabled && !slugTouched) {
      slugPreview.textContent = slugify(name);
    }
  }
  function updateColour() {
    var value = colourInput.value.trim();
    if (!/^[0-9a-fA-F]{6}$/.test(value)) { note.textContent = ""; return; }
    preview.style.setProperty("--brand", "#" + value);
    var ratio = Math.floor(contrastWithWhite(value) * 10) / 10;
    note.textContent = form.dataset.contrastLabel.replace("%s", ratio.toFixed(1));
    note.classList.toggle("error", ratio < 4.5);
  }
  function previewFile(input, apply) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (file) apply(URL.createObjectURL(file));
    });
  }
  if (nameInput) nameInput.addEventListener("input", updateName);
  if (slugInput) slugInput.addEventListener("input", function () {
    slugTouched = slugInput.value !== "";
    slugPreview.textContent = slugInput.value || slugify(nameInput.value);
  });
  if (colourInput) colourInput.addEventListener("input", updateColour);
  var logoInput = form.querySelector("input[name=logo]");
  var bannerInput = form.querySelector("input[name=banner]");
  if (logoInput) previewFile(logoInput, function (url) {
    preview.querySelector("[data-preview-logo]").src = url;
    preview.querySelector("[data-preview-logo-box]").hidden = false;
  });
  if (bannerInput) previewFile(bannerInput, function (url) {
    preview.querySelector("[data-preview-banner]").style.backgroundImage = "url('" + url + "')";
  });
  if (colourInput) updateColour();
  if (nameInput && !slugTouched) updateName();
})();
