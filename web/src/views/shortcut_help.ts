// The "?" overlay listing the dispatcher's keyboard shortcuts (from the shortcut map).

import { label, t } from "../ctx";
import { h } from "../dom";
import { SHORTCUTS, STATUS_KEYS } from "../shortcuts";

export function shortcutHelp(): { el: HTMLElement; open: () => void; close: () => void; toggle: () => void; isOpen: () => boolean } {
  let back: HTMLElement | null = null;
  const closeBtn = h("button", { type: "button", class: "btn", "data-testid": "shortcut-close" }, t("shortcuts.closeButton"));
  const rows = SHORTCUTS.filter((s) => s.action !== "unitStatus").map((s) =>
    h("tr", null, h("th", { scope: "row" }, s.keys.map((k) => h("kbd", null, k === "Escape" ? "Esc" : k.toUpperCase()))), h("td", null, t(s.label))),
  );
  const statusRows = STATUS_KEYS.map((status, i) => h("tr", null, h("th", { scope: "row" }, h("kbd", null, String(i + 1))), h("td", null, t("shortcuts.unitStatusTo", { status: label("unitStatus", status) }))));
  const el = h(
    "div",
    { class: "shortcut-help", hidden: true, "data-testid": "shortcut-help" },
    h(
      "div",
      { class: "shortcut-card", role: "dialog", "aria-modal": "true", "aria-labelledby": "shortcut-title", tabindex: "-1" },
      h("h2", { id: "shortcut-title" }, t("shortcuts.title")),
      h("p", { class: "muted" }, t("shortcuts.hint")),
      h("table", { class: "grid-table" }, h("tbody", null, rows, statusRows)),
      h("p", { class: "muted" }, t("shortcuts.unitHint")),
      closeBtn,
    ),
  );
  const open = () => {
    back = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    el.hidden = false;
    closeBtn.focus();
  };
  const close = () => {
    if (el.hidden) return;
    el.hidden = true;
    back?.focus();
  };
  closeBtn.addEventListener("click", close);
  el.addEventListener("click", (ev) => {
    if (ev.target === el) close();
  });
  return { el, open, close, toggle: () => (el.hidden ? open() : close()), isOpen: () => !el.hidden };
}
