// The pipeline board: move a card by dragging it to another column (the browser's own
// drag events), by Alt+ArrowRight / Alt+ArrowLeft on a focused card, or with its stage
// menu. Every way posts the card's own move form (which works without script too); the
// answer is the card where the deal now is and its columns' fresh headers. A stage that
// needs fields answers with a dialog asking for them; a deal someone else moved first
// answers 409 and is shown where it now is.
(function () {
  "use strict";

  const board = document.querySelector("[data-board]");
  if (!board) return;
  const status = document.getElementById("board-status");

  function say(message, problem) {
    status.textContent = message;
    status.classList.toggle("problem", Boolean(problem));
  }

  function columns() {
    return Array.from(board.querySelectorAll(".board-column"));
  }

  function parse(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  // Put the card the server sent where its stage says, and the headers it sent in place.
  function place(fragment) {
    fragment.querySelectorAll(".column-head").forEach((head) => {
      const old = document.getElementById(head.id);
      if (old) old.replaceWith(head);
    });
    const card = fragment.querySelector(".card");
    if (!card) return null;
    const old = document.getElementById(card.id);
    const list = document.getElementById("stage-" + card.dataset.stage + "-cards");
    if (old) old.remove();
    if (list) {
      const more = list.querySelector(":scope > .more");
      list.insertBefore(card, more);
      if (window.htmx) htmx.process(card);
    }
    return card;
  }

  function askForFields(html) {
    const old = document.getElementById("move-dialog");
    if (old) old.remove();
    const dialog = parse(html).querySelector("dialog");
    document.body.appendChild(dialog);
    dialog.showModal();
    const first = dialog.querySelector("input:not([type=hidden]), select");
    if (first) first.focus();
  }

  // Post a move form's fields (the card's form, or the dialog's) and show the answer.
  async function send(form, stageId) {
    const fields = new FormData(form);
    if (stageId) fields.set("stage_id", stageId);
    const cardId = "deal-" + form.closest("[data-deal]").dataset.deal;
    document.getElementById(cardId)?.classList.add("moving");
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: fields,
        headers: { "HX-Request": "true" },
        credentials: "same-origin",
      });
    } catch (error) {
      say("The move could not be sent; check the connection and try again.", true);
      document.getElementById(cardId)?.classList.remove("moving");
      return;
    }
    const html = await response.text();
    document.getElementById(cardId)?.classList.remove("moving");
    if (response.status === 422 && html.includes("<dialog")) {
      askForFields(html);
      return;
    }
    const dialog = document.getElementById("move-dialog");
    if (dialog) dialog.remove();
    const fragment = parse(html);
    const message = fragment.querySelector("[data-message]");
    say(message ? message.textContent : "The move failed (" + response.status + ").", !response.ok);
    const card = place(fragment);
    if (card && response.ok) card.focus();
  }

  function moveCard(card, stageId) {
    const form = card.querySelector("form.card-move");
    if (!form || !stageId || String(stageId) === card.dataset.stage) return;
    send(form, stageId);
  }

  // The card's own stage menu and Move button, and the dialog's form.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("form.card-move")) {
      event.preventDefault();
      moveCard(form.closest(".card"), form.elements.stage_id.value);
    } else if (form.matches("form[data-move-form]") && form.closest("dialog")) {
      event.preventDefault();
      send(form);
    }
  });

  // Dragging: the card carries its id; a column under it lights up and takes the drop.
  let dragged = null;
  board.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest(".card[draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    card.classList.add("dragging");
  });
  board.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    columns().forEach((column) => column.classList.remove("drop-target"));
  });
  board.addEventListener("dragover", (event) => {
    const column = event.target.closest(".board-column");
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    columns().forEach((other) => other.classList.toggle("drop-target", other === column));
  });
  board.addEventListener("drop", (event) => {
    const column = event.target.closest(".board-column");
    if (!column || !dragged) return;
    event.preventDefault();
    const card = dragged;
    column.classList.remove("drop-target");
    moveCard(card, column.dataset.stage);
  });

  // The keyboard: Alt+ArrowRight to the next stage, Alt+ArrowLeft to the one before.
  board.addEventListener("keydown", (event) => {
    if (!event.altKey || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    const card = event.target.closest(".card");
    if (!card || event.target !== card || !card.querySelector("form.card-move")) return;
    event.preventDefault();
    const stages = columns().map((column) => column.dataset.stage);
    const at = stages.indexOf(card.dataset.stage) + (event.key === "ArrowRight" ? 1 : -1);
    if (at < 0 || at >= stages.length) {
      say("There is no stage that way.", true);
      return;
    }
    const name = columns()[at].dataset.stageName;
    say("Moving to " + name + "…");
    moveCard(card, stages[at]);
  });

  // A column's next cards may hold one moved into it meanwhile: keep the newer copy.
  document.body.addEventListener("htmx:afterSettle", () => {
    const seen = new Set();
    Array.from(board.querySelectorAll(".card")).reverse().forEach((card) => {
      if (seen.has(card.id)) card.remove();
      else seen.add(card.id);
    });
  });
})();
