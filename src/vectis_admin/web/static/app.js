// htmx swaps error answers too: the console's error fragments say what went wrong and where.
document.addEventListener("DOMContentLoaded", function () {
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: true, error: true },
    ];
  }
});
// <dialog> elements opened and closed by buttons with data-open / data-close.
document.addEventListener("click", function (event) {
  const opener = event.target.closest("[data-open]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.open);
    if (dialog) { dialog.showModal(); event.preventDefault(); }
  }
  const closer = event.target.closest("[data-close]");
  if (closer) {
    const dialog = closer.closest("dialog");
    if (dialog) { dialog.close(); event.preventDefault(); }
  }
});
