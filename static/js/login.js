// The login page's demo users: clicking one fills the form with its email and the demo
// password, and puts the focus on "Sign in" (kept out of the page: the CSP refuses
// inline script).
(function () {
  "use strict";

  document.addEventListener("click", (event) => {
    const user = event.target.closest("button.demo-user");
    if (!user) return;
    const form = document.querySelector(".auth-card form");
    form.elements.email.value = user.dataset.email;
    form.elements.password.value = user.dataset.password;
    form.querySelector("button[type=submit]").focus();
  });
})();
