// The admin's registrant form: the chosen photo checked (with the server's
// sentences) and previewed before saving, never as a broken image, and the
// crop centre set by clicking the stored photo. The form works without it.
(function () {
  "use strict";

  const MEGABYTE = 1024 * 1024; // as webinars.uploadhandler

  function refusal(box, input, file) {
    if (file.size > Number(box.dataset.maxBytes)) {
      return "Photos can be at most " + Number(box.dataset.maxMb) + " MB; " +
        "this file is " + (file.size / MEGABYTE).toFixed(1) + " MB.";
    }
    if (file.size === 0) return "The file is empty; choose a photo.";
    const name = file.name.toLowerCase();
    const accepted = input.accept.split(",").some(function (entry) {
      return entry.startsWith(".") ? name.endsWith(entry) : file.type === entry;
    });
    if (!accepted) {
      const kind = file.type.startsWith("text/") ? "text" : "not an image we can read";
      return box.dataset.rule + "; this file is " + kind + ".";
    }
    return "";
  }

  function enhancePhotoInput(box) {
    const input = box.querySelector("input[type=file]");
    const preview = box.querySelector("[data-photo-input-preview]");
    const message = box.querySelector("[data-photo-input-message]");
    input.addEventListener("change", function () {
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.hidden = true;
      preview.removeAttribute("src");
      message.textContent = "";
      const file = input.files[0];
      if (!file) return;
      const refused = refusal(box, input, file);
      if (refused) {
        message.textContent = refused;
        message.className = "photo-input__message errornote";
        return;
      }
      const url = URL.createObjectURL(file);
      const probe = new Image();
      probe.src = url;
      probe.decode().then(
        function () {
          preview.src = url;
          preview.hidden = false;
          message.className = "photo-input__message";
          message.textContent = "Saved, with its thumbnails, when you save the form.";
        },
        function () {
          URL.revokeObjectURL(url);
          message.className = "photo-input__message";
          message.textContent = "This browser cannot show a preview of this file; " +
            "it is checked when you save.";
        }
      );
    });
  }

  function enhanceCrop(photo) {
    const x = document.getElementById("id_photo_focus_x");
    const y = document.getElementById("id_photo_focus_y");
    if (!x || !y || x.readOnly) return;
    photo.classList.add("registrant-photo--pickable");
    photo.title = "Click where the square thumbnails should be centred";
    photo.addEventListener("click", function (event) {
      const box = photo.getBoundingClientRect();
      const clamp = function (v) { return Math.min(1, Math.max(0, v)).toFixed(2); };
      x.value = clamp((event.clientX - box.left) / box.width);
      y.value = clamp((event.clientY - box.top) / box.height);
    });
  }

  // The admin loads form media in the head, before the form exists.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-photo-input]").forEach(enhancePhotoInput);
    document.querySelectorAll("[data-crop-source]").forEach(enhanceCrop);
  });
})();
