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

  // <select data-navigate="/page?name=">: choosing a value opens that page with it.
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-navigate]");
    if (select && select.value) {
      window.location = select.dataset.navigate + encodeURIComponent(select.value);
    }
  });
})();
