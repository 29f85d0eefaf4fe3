// Small progressive enhancements; everything works without them.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.requestSubmit();
  }
});
document.documentElement.classList.add("js");
// The one confirmation dialog: a native <dialog> opened with showModal(), so the page behind it
// is inert; Tab and Shift+Tab wrap inside it (focus trapped), Escape cancels, and focus returns
// to the button that opened it. Never the browser's confirm().
const FOCUSABLE = "button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])";
function openDialog(dialog, opener) {
  dialog.ukuOpener = opener;
  dialog.showModal();
  const first = dialog.querySelector("[autofocus]") || dialog.querySelector(FOCUSABLE);
  if (first) first.focus();
}
document.addEventListener("keydown", (event) => {
  const dialog = event.target.closest && event.target.closest("dialog[open]");
  if (!dialog || event.key !== "Tab") return;
  const items = Array.from(dialog.querySelectorAll(FOCUSABLE)).filter((el) => !el.disabled);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
});
document.addEventListener("close", (event) => {
  const dialog = event.target;
  if (dialog instanceof HTMLDialogElement && dialog.ukuOpener) {
    dialog.ukuOpener.focus();
    dialog.ukuOpener = null;
  }
}, true);
document.addEventListener("click", (event) => {
  const closer = event.target.closest("[data-dialog-close]");
  if (closer) {
    event.preventDefault();
    closer.closest("dialog").close();
  }
});
// Buttons with data-confirm-modal="id" open that <dialog> instead of submitting; the dialog's own
// submit button (same name and value) sends the form. Without JavaScript the button submits
// directly.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm-modal]");
  if (!button) return;
  const dialog = document.getElementById(button.getAttribute("data-confirm-modal"));
  if (!(dialog instanceof HTMLDialogElement)) return;
  event.preventDefault();
  openDialog(dialog, button);
});
// Buttons with data-confirm="question" ask in the shared dialog before submitting their form
// with the button's own name and value; data-confirm-count names the checkboxes whose checked
// count the question states: "{n}" in data-confirm (data-confirm-one when one is checked).
let confirmedButton = null;
function confirmDialog() {
  let dialog = document.getElementById("uku-confirm-dialog");
  if (dialog) return dialog;
  dialog = document.createElement("dialog");
  dialog.id = "uku-confirm-dialog";
  dialog.className = "uku-dialog";
  dialog.setAttribute("aria-labelledby", "uku-confirm-text");
  const text = document.createElement("p");
  text.id = "uku-confirm-text";
  const buttons = document.createElement("div");
  buttons.className = "d-flex justify-content-end gap-2 mt-3";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "btn btn-secondary";
  cancel.setAttribute("data-dialog-close", "");
  const ok = document.createElement("button");
  ok.type = "button";
  ok.className = "btn btn-primary";
  ok.setAttribute("data-uku-confirm-ok", "");
  buttons.append(cancel, ok);
  dialog.append(text, buttons);
  document.body.appendChild(dialog);
  return dialog;
}
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (!button || button === confirmedButton) return;
  event.preventDefault();
  const dialog = confirmDialog();
  let question = button.getAttribute("data-confirm");
  const countName = button.getAttribute("data-confirm-count");
  if (countName) {
    const scope = button.form || document;
    const n = scope.querySelectorAll(`input[type=checkbox][name="${countName}"]:checked`).length;
    if (n === 1 && button.hasAttribute("data-confirm-one")) question = button.getAttribute("data-confirm-one");
    question = question.replace("{n}", String(n));
  }
  dialog.querySelector("#uku-confirm-text").textContent = question;
  dialog.querySelector("[data-dialog-close]").textContent = document.documentElement.lang === "nb" ? "Avbryt" : "Cancel";
  const ok = dialog.querySelector("[data-uku-confirm-ok]");
  ok.textContent = button.getAttribute("data-confirm-ok") || button.textContent.trim();
  ok.onclick = () => {
    dialog.ukuOpener = null;
    dialog.close();
    confirmedButton = button;
    button.click();
    confirmedButton = null;
  };
  openDialog(dialog, button);
});
// The bulk-action bar (templates/includes/bulk_bar.html): "N selected" follows the checkboxes
// named by data-bulk-count, and the bar's actions are disabled while none is checked.
function updateBulkBars() {
  document.querySelectorAll("[data-bulk-bar]").forEach((bar) => {
    const name = bar.getAttribute("data-bulk-bar");
    const form = bar.closest("form") || document;
    const checked = form.querySelectorAll(`input[type=checkbox][name="${name}"]:checked`).length;
    const count = bar.querySelector("[data-bulk-count]");
    if (count) {
      const template = count.getAttribute(checked === 1 ? "data-one" : "data-many") || "{n}";
      count.textContent = template.replace("{n}", String(checked));
    }
    bar.querySelectorAll("[data-bulk-needs-selection]").forEach((el) => {
      el.disabled = checked === 0;
    });
  });
}
document.addEventListener("change", updateBulkBars);
document.addEventListener("DOMContentLoaded", updateBulkBars);
document.addEventListener("htmx:afterSwap", updateBulkBars);
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
  updateBulkBars();
});
// Phones show every table's rows as cards (static/css/uku.css): each cell is labelled by its
// column's header, unless the template labelled it already (data-label).
function labelTableCells(root) {
  (root || document).querySelectorAll("main table").forEach((table) => {
    const headerRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headerRow) return;
    const labels = [];
    Array.from(headerRow.cells).forEach((th) => {
      const text = th.textContent.replace(/[▲▼↑↓↕]/g, "").replace(/\s+/g, " ").trim();
      for (let i = 0; i < (th.colSpan || 1); i += 1) labels.push(text);
    });
    Array.from(table.tBodies).forEach((body) => {
      Array.from(body.rows).forEach((row) => {
        let column = 0;
        Array.from(row.cells).forEach((cell) => {
          const label = labels[column];
          if (label && (cell.colSpan || 1) === 1 && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", label);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", () => labelTableCells(document));
document.addEventListener("htmx:afterSwap", () => labelTableCells(document));
