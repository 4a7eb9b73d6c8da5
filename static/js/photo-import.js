// The bulk import's preview: the ticked photos saved one registrant a
// request (photo-import/apply-row/), with a progress bar and a count read
// out as it changes, then the same summary the server's page shows. Without
// this script the form saves every ticked photo in one request.
(function () {
  "use strict";

  function post(url, form, fields) {
    const body = new FormData();
    ["token", "match"].forEach(function (name) {
      body.append(name, form.elements[name].value);
    });
    Object.keys(fields).forEach(function (name) { body.append(name, fields[name]); });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
      },
    }).then(
      function (response) {
        return response.json().then(
          function (data) { return { status: response.status, data: data }; },
          function () { return { status: response.status, data: {} }; }
        );
      },
      function () {
        return { status: 0, data: { error: "The server could not be reached." } };
      }
    );
  }

  function errorText(result) {
    return result.data.error || "Something went wrong (HTTP " + result.status + ").";
  }

  // Refused as a whole (logged out, CSRF, role): the other rows would be too.
  function isFatal(result) {
    return result.status === 0 || result.status === 403 || !result.data.row;
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function list(lines, className, itemClass) {
    const box = element("ul", className);
    lines.forEach(function (line) { box.append(element("li", itemClass, line)); });
    return box;
  }

  // As webinars/photo_import.html writes it for the form without script.
  function summary(form, total, saved, failed) {
    const section = element("section", "import-summary");
    section.setAttribute("aria-labelledby", "summary-title");
    const title = element("h2", "", "Done");
    title.id = "summary-title";
    title.tabIndex = -1;
    let text = plural(saved.length, "photo") + " saved";
    if (total > saved.length) text += ", " + (total - saved.length) + " not saved";
    const status = element("p", "message message--success", text + ".");
    status.setAttribute("role", "status");
    section.append(title, status);
    if (saved.length) {
      section.append(list(saved.map(function (row) {
        return row.name + " → " + row.registrant + " (" + row.webinar + ")";
      })));
    }
    if (failed.length) {
      section.append(list(failed, "messages", "message message--error"));
    }
    const back = element("p");
    const link = element("a", "", "Back to the registrants");
    link.href = form.dataset.registrantsUrl;
    back.append(link, " · import more below.");
    section.append(back);
    form.replaceWith(section);
    title.focus();
  }

  async function apply(form) {
    const ticked = Array.from(form.querySelectorAll("[name=confirm]:checked"));
    const box = form.querySelector("[data-import-progress]");
    const bar = box.querySelector("progress");
    const count = box.querySelector("[data-import-count]");
    const saved = [];
    const failed = [];
    bar.max = Math.max(ticked.length, 1);
    bar.value = 0;
    box.hidden = false;
    form.querySelector("[type=submit]").disabled = true;
    const show = function () {
      bar.value = saved.length + failed.length;
      count.textContent = saved.length + " of " + ticked.length + " applied" +
        (failed.length ? ", " + failed.length + " refused" : "");
    };
    show();
    for (let done = 0; done < ticked.length; done += 1) {
      const result = await post(form.dataset.rowUrl, form, { row: ticked[done].value });
      if (result.status === 200 && result.data.success) {
        saved.push(result.data.row);
      } else if (isFatal(result)) {
        failed.push(plural(ticked.length - done, "file") + " not tried: " +
          errorText(result));
        break;
      } else {
        failed.push(result.data.row.name + ": " + errorText(result));
      }
      show();
    }
    await post(form.dataset.finishUrl, form, {});
    summary(form, ticked.length, saved, failed);
  }

  document.querySelectorAll("[data-import-preview]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      apply(form);
    });
  });
})();
