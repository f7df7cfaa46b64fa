// Behaviour pages ask for with data- attributes, kept out of the markup so the
// Content-Security-Policy can refuse inline script everywhere.
(function () {
  "use strict";

  // <form data-confirm="Question?">: submitted only when the person agrees.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target.closest("form[data-confirm]");
      if (form && !window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );

  // <button type="submit" data-confirm="Question?" data-confirm-count="N">: that button
  // submits only when the person agrees, and then with confirm=N, the number the server
  // checks against what waits now (without script, the server asks on a page instead).
  document.addEventListener(
    "submit",
    (event) => {
      const button = event.submitter && event.submitter.closest("button[data-confirm]");
      if (!button) return;
      if (!window.confirm(button.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      if (button.dataset.confirmCount) {
        const form = event.target;
        let field = form.querySelector("input[name=confirm]");
        if (!field) {
          field = document.createElement("input");
          field.type = "hidden";
          field.name = "confirm";
          form.appendChild(field);
        }
        field.value = button.dataset.confirmCount;
      }
    },
    true,
  );

  // <button data-dialog="id">: opens that <dialog> (a question asked before acting);
  // <button data-dialog-close> inside it closes it again, as Escape does.
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("button[data-dialog]");
    const closer = event.target.closest("[data-dialog-close]");
    if (opener && !opener.disabled) {
      const dialog = document.getElementById(opener.dataset.dialog);
      if (dialog && !dialog.open) dialog.showModal();
    } else if (closer && closer.closest("dialog")) {
      closer.closest("dialog").close();
    }
  });

  // <select data-navigate="/page?name=">: choosing a value opens that page with it.
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-navigate]");
    if (select && select.value) {
      window.location = select.dataset.navigate + encodeURIComponent(select.value);
    }
  });
})();
