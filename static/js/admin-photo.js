// The admin's registrant form: the chosen photo checked (with the server's
// sentences) and previewed before saving, never as a broken image, sent with
// a progress bar, and the crop centre set by clicking the stored photo. The
// form works without it.
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

  // The answer to a form this script sent: a redirect (as JSON, see
  // webinars/admin.py) is followed, a page (the form with its errors, a
  // refusal) replaces this one, as if the browser had submitted the form.
  function follow(request, message) {
    const type = request.getResponseHeader("Content-Type") || "";
    if (type.startsWith("application/json")) {
      let answer = {};
      try { answer = JSON.parse(request.responseText); } catch (error) { answer = {}; }
      if (answer.location) {
        window.location.assign(answer.location);
        return;
      }
      message.className = "photo-input__message errornote";
      message.textContent = answer.error ||
        "Something went wrong (HTTP " + request.status + ").";
      return;
    }
    document.open();
    document.write(request.responseText);
    document.close();
  }

  function enhanceUpload(box) {
    const form = box.closest("form");
    const input = box.querySelector("input[type=file]");
    const upload = box.querySelector("[data-photo-input-upload]");
    const bar = box.querySelector("[data-photo-input-progress]");
    const percent = box.querySelector("[data-photo-input-percent]");
    const message = box.querySelector("[data-photo-input-message]");
    if (!form || !upload) return;
    const show = function (value) {
      bar.value = value;
      percent.textContent = value + " %";
    };
    let sending = false;
    form.addEventListener("submit", function (event) {
      // Without a photo chosen there is nothing slow to show: the browser sends it.
      if (!input.files.length || event.defaultPrevented) return;
      event.preventDefault();
      if (sending) return;
      sending = true;
      const body = new FormData(form);
      const button = event.submitter;
      if (button && button.name) body.append(button.name, button.value);
      // XMLHttpRequest rather than fetch: only it reports upload progress.
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "text/html");
      request.setRequestHeader("X-Photo-Upload", "progress");
      request.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) {
          show(Math.round((100 * progress.loaded) / progress.total));
        }
      });
      request.upload.addEventListener("load", function () { show(100); });
      request.addEventListener("load", function () {
        sending = false;
        follow(request, message);
      });
      request.addEventListener("error", function () {
        sending = false;
        upload.hidden = true;
        message.className = "photo-input__message errornote";
        message.textContent = "The server could not be reached; nothing was saved.";
      });
      show(0);
      upload.hidden = false;
      request.send(body);
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
    document.querySelectorAll("[data-photo-input]").forEach(function (box) {
      enhancePhotoInput(box);
      enhanceUpload(box);
    });
    document.querySelectorAll("[data-crop-source]").forEach(enhanceCrop);
  });
})();
