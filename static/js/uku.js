// Small progressive enhancements; everything works without them.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.requestSubmit();
  }
});
document.documentElement.classList.add("js");
// Buttons with data-confirm-modal="id" open that Bootstrap modal instead of submitting; the
// modal's own submit button (same name and value) sends the form. Without JavaScript the
// button submits directly.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm-modal]");
  if (!button || !window.bootstrap) return;
  const modal = document.getElementById(button.getAttribute("data-confirm-modal"));
  if (!modal) return;
  event.preventDefault();
  window.bootstrap.Modal.getOrCreateInstance(modal).show();
});
// Buttons with data-confirm ask in a Bootstrap modal (never the browser's confirm()) before
// submitting their form with the button's own name and value.
let confirmedButton = null;
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (!button || !window.bootstrap || button === confirmedButton) return;
  event.preventDefault();
  let modal = document.getElementById("uku-confirm-modal");
  if (!modal) {
    modal = document.createElement("div");
    modal.id = "uku-confirm-modal";
    modal.className = "modal fade";
    modal.tabIndex = -1;
    modal.setAttribute("aria-hidden", "true");
    modal.setAttribute("aria-labelledby", "uku-confirm-text");
    modal.innerHTML = '<div class="modal-dialog"><div class="modal-content">' +
      '<div class="modal-body"><p id="uku-confirm-text" class="mb-0"></p></div>' +
      '<div class="modal-footer"><button type="button" class="btn btn-secondary" data-bs-dismiss="modal"></button>' +
      '<button type="button" class="btn btn-primary" data-uku-confirm-ok></button></div></div></div>';
    document.body.appendChild(modal);
  }
  modal.querySelector("#uku-confirm-text").textContent = button.getAttribute("data-confirm");
  modal.querySelector("[data-bs-dismiss]").textContent = document.documentElement.lang === "nb" ? "Avbryt" : "Cancel";
  const ok = modal.querySelector("[data-uku-confirm-ok]");
  ok.textContent = button.textContent.trim();
  ok.onclick = () => {
    window.bootstrap.Modal.getOrCreateInstance(modal).hide();
    confirmedButton = button;
    button.click();
    confirmedButton = null;
  };
  window.bootstrap.Modal.getOrCreateInstance(modal).show();
});
// "Select all / none" buttons for the checkboxes named by data-check-all / data-check-none.
document.addEventListener("click", (event) => {
  const all = event.target.closest("[data-check-all]");
  const none = event.target.closest("[data-check-none]");
  const button = all || none;
  if (!button || !button.form) return;
  const name = button.getAttribute(all ? "data-check-all" : "data-check-none");
  button.form.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
    box.checked = Boolean(all);
  });
});
