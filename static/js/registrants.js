// The staff page without reloads: photo preview, upload progress, and
// notes and deletions sent in the background. Every form also works
// without this script, as an ordinary POST.
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
    const fileName = card.querySelector("[data-file-name]");
    fileName.textContent = "Photo: " + registrant.photo_original_name;
    fileName.hidden = !registrant.photo_original_name;
    const del = card.querySelector("[data-delete]");
    del.hidden = !registrant.photo_url;
    del.open = false;
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

  function errorText(result) {
    if (result.status === 413) return "This file is too large.";
    return result.data.error || "Something went wrong (HTTP " + result.status + ").";
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
    input.addEventListener("change", function () {
      if (preview.src) URL.revokeObjectURL(preview.src);
      const file = input.files[0];
      preview.hidden = !file;
      if (file) preview.src = URL.createObjectURL(file);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
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
      });
    });
  }

  function enhanceDeleteForm(card, form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form, "DELETE", null).then(function (result) {
        if (handle(card, result)) showPhoto(card, result.data.registrant);
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

  // A card shows only the forms the user's role may use (webinars.roles).
  const enhancers = [
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
