// The gallery's photos: one that fails to load (a missing file, a network
// error) is removed, so its initials underneath show instead of a broken
// image. A listener, not an onerror attribute: the page's policy forbids
// inline handlers.
(function () {
  "use strict";

  function fallBack(photo) {
    photo.remove();
  }

  document.querySelectorAll("[data-portrait-photo]").forEach(function (photo) {
    if (photo.complete && photo.naturalWidth === 0 && photo.currentSrc) {
      fallBack(photo); // failed before this script ran
      return;
    }
    photo.addEventListener("error", function () {
      fallBack(photo);
    });
  });
})();
