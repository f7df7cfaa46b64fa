// The inbox from the keyboard: j/k move through the list, a sends, e edits, x archives,
// s suppresses, c converts to a deal, ? shows the keys. The server does the work; this
// only clicks the buttons a mouse would.
(function () {
  "use strict";

  function rows() {
    return Array.from(document.querySelectorAll("#inbox-list .inbox-row"));
  }

  function selectedIndex(list) {
    const open = document.querySelector("#inbox-detail .inbox-item");
    const id = open ? open.dataset.item : null;
    return list.findIndex((row) => row.dataset.item === id);
  }

  function mark(id) {
    rows().forEach((row) => {
      const on = row.dataset.item === id;
      row.classList.toggle("selected", on);
      row.setAttribute("aria-selected", on ? "true" : "false");
    });
  }

  // Open a row's reply in the panel (as its link would, without depending on the link
  // having been wired by htmx yet: a list swapped in a moment ago may not be).
  function openRow(row) {
    const url = row.dataset.url;
    htmx.ajax("GET", url, { target: "#inbox-detail", swap: "innerHTML" }).then(() => {
      history.pushState({}, "", url + window.location.search);
    });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const list = rows();
    if (!list.length) return;
    const at = selectedIndex(list);
    openRow(list[Math.min(list.length - 1, Math.max(0, at < 0 ? 0 : at + step))]);
  }

  function click(selector) {
    const button = document.querySelector("#inbox-detail " + selector);
    if (button && !button.disabled) button.click();
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.closest && target.closest("input, textarea, select");
    if (typing) {
      if (event.key === "Escape") target.blur();
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.name === "body") {
        event.preventDefault();
        click("#send-reply");
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const actions = {
      j: () => move(1),
      k: () => move(-1),
      a: () => click("#send-reply"),
      e: () => click("#own-reply"),
      x: () => click("#do-archive"),
      s: () => click("#do-suppress"),
      c: () => click("#do-deal"),
      "?": () => {
        const help = document.getElementById("inbox-help");
        if (help.open) help.close();
        else help.showModal();
      },
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  // Ticks survive the list refreshing itself (a new reply, a deadline ticking on).
  let ticked = [];
  document.addEventListener("htmx:beforeSwap", (event) => {
    const from = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (from && from.id === "inbox-bulk") {
      ticked = [];  // the bulk action was done on them
    } else if (event.detail.target && event.detail.target.id === "inbox-list") {
      ticked = Array.from(document.querySelectorAll("#inbox-list input[name=ids]:checked"))
        .map((box) => box.value);
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (ticked.length && document.getElementById("inbox-list")) {
      document.querySelectorAll("#inbox-list input[name=ids]").forEach((box) => {
        if (ticked.includes(box.value)) box.checked = true;
      });
    }
    const open = document.querySelector("#inbox-detail .inbox-item");
    if (open) mark(open.dataset.item);
  });

  // Ticked replies archived or assigned: if the open one was among them, show it afresh.
  document.body.addEventListener("inbox-bulk-done", (event) => {
    const open = document.querySelector("#inbox-detail .inbox-item");
    const ids = (event.detail.value || []).map(String);
    if (!open || !ids.includes(open.dataset.item)) return;
    const next = rows().find((row) => !ids.includes(row.dataset.item));
    if (next) openRow(next);
    else htmx.ajax("GET", open.dataset.url, { target: "#inbox-detail", swap: "innerHTML" });
  });

  // The reply box's Edit (select the draft) and Write my own (start from blank).
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-reply]");
    if (!button || !button.form) return;
    const body = button.form.elements.body;
    if (button.dataset.reply === "clear") {
      body.value = "";
      body.focus();
      htmx.trigger(body, "input");
    } else {
      body.focus();
      body.select();
    }
  });

  // A reply sent, archived, suppressed or converted: open the next one in the list.
  document.body.addEventListener("inbox-done", (event) => {
    const done = String(event.detail.value);
    const list = rows();
    const at = list.findIndex((row) => row.dataset.item === done);
    const next = list.slice(at + 1).concat(list.slice(0, Math.max(at, 0)))
      .find((row) => row.dataset.item !== done);
    if (next) openRow(next);
  });
})();
