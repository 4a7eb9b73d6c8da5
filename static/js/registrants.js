// The staff page without reloads: the photo checked before sending (with
// the server's sentences), a preview that is never a broken image, drag and
// drop and paste onto a card, upload progress, and notes and deletions sent
// in the background. Every form also works without this script, as an
// ordinary POST, and the server checks everything again.
(function () {
  "use strict";

  function showMessage(card, text, level) {
    const box = card.querySelector("[data-messages]");
    const line = document.createElement("p");
    line.className = "message message--" + level;
    line.textContent = text;
    box.replaceChildren(line);
  }

  function showPhoto(card, registrant) {
    const slot = card.querySelector("[data-photo]");
    let avatar;
    if (registrant.photo_url) {
      avatar = document.createElement("img");
      avatar.className = "avatar";
      avatar.src = registrant.thumbnail_url;
      avatar.alt = "Photo of " + registrant.name;
    } else {
      avatar = document.createElement("span");
      avatar.className = "avatar avatar--initials";
      avatar.setAttribute("aria-hidden", "true");
      avatar.textContent = registrant.initials;
    }
    slot.replaceChildren(avatar);
    const label = card.querySelector("[data-photo-label]");
    if (label) label.textContent = registrant.photo_url ? "Replace photo" : "Add a photo";
    const fileName = card.querySelector("[data-file-name]");
    fileName.textContent = "Photo: " + registrant.photo_original_name;
    fileName.hidden = !registrant.photo_original_name || card.tagName === "TR";
    const del = card.querySelector("[data-delete]");
    del.hidden = !registrant.photo_url;
    del.open = false;
    const crop = card.querySelector("[data-crop]");
    if (!crop) return;
    crop.hidden = !registrant.photo_url;
    if (registrant.photo_url) {
      crop.querySelectorAll("[data-crop-photo], [data-crop-result]").forEach(
        function (image) {
          if (image.getAttribute("src") !== registrant.photo_url) {
            image.src = registrant.photo_url;
          }
        }
      );
      crop.dispatchEvent(
        new CustomEvent("focus-changed", { detail: registrant.photo_focus })
      );
    }
  }

  // XMLHttpRequest rather than fetch: only it reports upload progress.
  function send(form, method, body, onProgress) {
    return new Promise(function (resolve) {
      const request = new XMLHttpRequest();
      request.open(method, form.action);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader(
        "X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value
      );
      request.responseType = "json";
      if (onProgress) {
        request.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) onProgress(event.loaded / event.total);
        });
      }
      request.addEventListener("load", function () {
        const data = request.response || {};
        resolve({ ok: request.status < 300, data: data, status: request.status });
      });
      request.addEventListener("error", function () {
        resolve({ ok: false, data: { error: "The server could not be reached." } });
      });
      request.send(body);
    });
  }

  // The server's own sentence whenever it sent one; a proxy's bare 413 too.
  function errorText(result) {
    if (result.data.error) return result.data.error;
    if (result.status === 413) {
      return "The server refused this file as too large (HTTP 413).";
    }
    return "Something went wrong (HTTP " + result.status + ").";
  }

  const MEGABYTE = 1024 * 1024; // as webinars.uploadhandler

  // What a refused file is, in the words webinars.sniffing uses.
  function describe(file) {
    if (file.type === "image/svg+xml") return "SVG";
    if (file.type === "text/html" || file.type === "text/xml") return "HTML or XML";
    if (file.type.startsWith("text/")) return "text";
    return "not an image we can read";
  }

  function isAccepted(file, accept) {
    const name = file.name.toLowerCase();
    return accept.split(",").some(function (entry) {
      return entry.startsWith(".") ? name.endsWith(entry) : file.type === entry;
    });
  }

  // The server's sentences (webinars.photos), said before anything is sent.
  function refusal(form, input, file) {
    const maxBytes = Number(form.dataset.maxBytes);
    if (file.size > maxBytes) {
      return "Photos can be at most " + Number(form.dataset.maxMb) + " MB; " +
        "this file is " + (file.size / MEGABYTE).toFixed(1) + " MB.";
    }
    if (file.size === 0) return "The file is empty; choose a photo.";
    if (!isAccepted(file, input.accept)) {
      return form.dataset.rule + "; this file is " + describe(file) + ".";
    }
    return "";
  }

  // Shown only once the browser has decoded it: never a broken image.
  function showPreview(card, preview, file) {
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.hidden = true;
    preview.removeAttribute("src");
    const url = URL.createObjectURL(file);
    const probe = new Image();
    probe.src = url;
    probe.decode().then(
      function () {
        preview.src = url;
        preview.hidden = false;
      },
      function () {
        URL.revokeObjectURL(url);
        showMessage(
          card,
          "This browser cannot show a preview of this file; it is checked " +
            "when you upload it.",
          "warning"
        );
      }
    );
  }

  function handle(card, result) {
    if (result.ok) {
      showMessage(card, result.data.message, "success");
    } else {
      showMessage(card, errorText(result), "error");
    }
    return result.ok;
  }

  function enhancePhotoForm(card, form) {
    const input = form.querySelector("input[type=file]");
    const preview = form.querySelector("[data-preview]");
    const progress = form.querySelector("[data-progress]");
    const button = form.querySelector("button[type=submit]");
    form.querySelector("[data-drop-hint]").hidden = false;

    function chosen() {
      const file = input.files[0];
      card.querySelector("[data-messages]").replaceChildren();
      if (!file) {
        preview.hidden = true;
        return;
      }
      const refused = refusal(form, input, file);
      if (refused) {
        preview.hidden = true;
        showMessage(card, refused, "error");
        return;
      }
      showPreview(card, preview, file);
    }

    function take(files) {
      const photos = Array.from(files || []);
      if (!photos.length) return false;
      const transfer = new DataTransfer();
      transfer.items.add(photos[0]);
      input.files = transfer.files;
      chosen();
      button.focus();
      return true;
    }

    input.addEventListener("change", chosen);
    card.addEventListener("dragover", function (event) {
      if (!event.dataTransfer.types.includes("Files")) return;
      event.preventDefault();
      card.classList.add("card--dropping");
    });
    card.addEventListener("dragleave", function (event) {
      if (!card.contains(event.relatedTarget)) card.classList.remove("card--dropping");
    });
    card.addEventListener("drop", function (event) {
      card.classList.remove("card--dropping");
      if (take(event.dataTransfer.files)) event.preventDefault();
    });
    card.addEventListener("paste", function (event) {
      if (event.target.closest("textarea, input[type=search]")) return;
      if (take(event.clipboardData && event.clipboardData.files)) {
        event.preventDefault();
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const file = input.files[0];
      const refused = file ? refusal(form, input, file) : "Choose a photo first.";
      if (refused) {
        showMessage(card, refused, "error");
        input.focus();
        return;
      }
      button.disabled = true;
      progress.hidden = false;
      progress.value = 0;
      send(form, "POST", new FormData(form), function (fraction) {
        progress.value = Math.round(fraction * 100);
      }).then(function (result) {
        button.disabled = false;
        progress.hidden = true;
        if (handle(card, result)) {
          showPhoto(card, result.data.registrant);
          form.reset();
          preview.hidden = true;
        }
        card.querySelector("[data-messages]").focus();
      });
    });
  }

  function enhanceDeleteForm(card, form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form, "DELETE", null).then(function (result) {
        if (handle(card, result)) {
          showPhoto(card, result.data.registrant);
          card.querySelector("[data-messages]").focus();
        }
      });
    });
  }

  function enhanceNotesForm(card, form) {
    const version = form.querySelector("[name=notes_version]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form, "POST", new FormData(form)).then(function (result) {
        const data = result.data || {};
        if (data.registrant) {
          // The saved text's version: the next save starts from it.
          version.value = data.registrant.notes_version;
          showTheirs(form, null);
        } else if (data.notes) {
          // A conflict: show their text; saving again (merged) replaces it.
          version.value = data.notes.notes_version;
          showTheirs(form, data.notes.theirs);
        }
        handle(card, result);
      });
    });
  }

  function showTheirs(form, text) {
    let shown = form.querySelector("[data-notes-theirs]");
    if (text === null) {
      if (shown) shown.remove();
      return;
    }
    if (!shown) {
      shown = document.createElement("div");
      shown.dataset.notesTheirs = "";
      const label = document.createElement("p");
      label.className = "notes-form__theirs-label";
      label.textContent = "Their notes, saved meanwhile:";
      const pre = document.createElement("pre");
      pre.className = "notes-form__theirs";
      shown.append(label, pre);
      form.querySelector("textarea").before(shown);
    }
    shown.querySelector("pre").textContent = text;
  }

  // The crop centre: a click or the arrow keys on the whole photo move it;
  // the square beside it shows the thumbnail it makes (object-position
  // places the point as Pillow's ImageOps.fit centering does).
  function enhanceCropForm(card, form) {
    const frame = form.querySelector("[data-crop-frame]");
    const marker = form.querySelector("[data-crop-marker]");
    const result = form.querySelector("[data-crop-result]");
    const x = form.querySelector("[data-crop-x]");
    const y = form.querySelector("[data-crop-y]");
    frame.hidden = false;
    form.querySelector("[data-crop-result-box]").hidden = false;

    function clamp(value) {
      return Math.min(1, Math.max(0, Math.round(value * 100) / 100));
    }

    function place(focusX, focusY) {
      x.value = clamp(focusX).toFixed(2);
      y.value = clamp(focusY).toFixed(2);
      draw();
    }

    function draw() {
      const left = clamp(Number(x.value)) * 100;
      const top = clamp(Number(y.value)) * 100;
      marker.style.left = left + "%";
      marker.style.top = top + "%";
      result.style.objectPosition = left + "% " + top + "%";
    }

    frame.addEventListener("click", function (event) {
      const box = frame.getBoundingClientRect();
      place((event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height);
    });
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    frame.addEventListener("keydown", function (event) {
      const step = steps[event.key];
      if (!step) return;
      event.preventDefault();
      place(Number(x.value) + step[0] * 0.05, Number(y.value) + step[1] * 0.05);
    });
    x.addEventListener("input", draw);
    y.addEventListener("input", draw);
    form.closest("[data-crop]").addEventListener("focus-changed", function (event) {
      place(event.detail[0], event.detail[1]);
    });
    draw();

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      send(form, "POST", new FormData(form)).then(function (result) {
        button.disabled = false;
        if (handle(card, result)) showPhoto(card, result.data.registrant);
        card.querySelector("[data-messages]").focus();
      });
    });
  }

  // A card shows only the forms the user's role may use (webinars.roles).
  const enhancers = [
    ["[data-crop-form]", enhanceCropForm],
    ["[data-photo-form]", enhancePhotoForm],
    ["[data-delete-form]", enhanceDeleteForm],
    ["[data-notes-form]", enhanceNotesForm],
  ];
  document.querySelectorAll("[data-registrant]").forEach(function (card) {
    enhancers.forEach(function ([selector, enhance]) {
      const form = card.querySelector(selector);
      if (form) enhance(card, form);
    });
  });
})();
