// Configure data fields: "+ New custom field…" in a dropdown opens the row's small form.
// Without this script the form is always shown and Save creates the field.
(() => {
  const sync = (select) => {
    const box = document.getElementById(select.dataset.newField);
    if (!box) return;
    const open = select.value === "__new__";
    box.hidden = !open;
    if (open) box.querySelector("input")?.focus();
  };
  const init = (root) => root.querySelectorAll("select[data-new-field]").forEach((s) => {
    const box = document.getElementById(s.dataset.newField);
    if (box) box.hidden = s.value !== "__new__";
  });
  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLSelectElement && event.target.dataset.newField) sync(event.target);
  });
  document.addEventListener("htmx:load", (event) => init(event.target));
  init(document);
})();
