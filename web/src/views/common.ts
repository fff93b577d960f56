// Pieces shared by the views: tables, badges, definition lists, selects.

import { label, t } from "../ctx";
import { h } from "../dom";

export type Cell = string | number | Node | null | undefined;

export function table(
  columns: string[],
  rows: Cell[][],
  opts: { caption?: string; empty?: string; testid?: string; rowAttrs?: (index: number) => Record<string, unknown> } = {},
): HTMLElement {
  if (!rows.length) return h("p", { class: "muted empty", "data-testid": opts.testid }, opts.empty ?? t("common.none"));
  return h(
    "div",
    // a region that may scroll sideways on a phone: reachable by keyboard, named by its caption
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": opts.caption ?? t("common.table") },
    h(
      "table",
      { class: "grid-table", "data-testid": opts.testid },
      opts.caption ? h("caption", null, opts.caption) : null,
      h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        null,
        rows.map((r, i) => h("tr", opts.rowAttrs ? opts.rowAttrs(i) : null, r.map((c) => h("td", null, c === null || c === undefined || c === "" ? "—" : c)))),
      ),
    ),
  );
}

export function badge(group: string, value: string | null | undefined, extra = ""): HTMLElement {
  return h("span", { class: `badge badge-${group}-${value ?? "none"} ${extra}`.trim() }, label(group, value));
}

export function dl(pairs: [string, Cell][]): HTMLElement {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h("dt", null, k), h("dd", null, v === null || v === "" ? "—" : v)]),
  );
}

export function select(id: string, options: [string, string][], value = "", attrs: Record<string, unknown> = {}): HTMLSelectElement {
  return h(
    "select",
    { id, name: id, ...attrs },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
  );
}

export function field(labelText: string, control: HTMLElement): HTMLElement {
  const id = control.id;
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control);
}

export function section(title: string, ...body: (Node | string | null)[]): HTMLElement {
  return h("section", { class: "card" }, h("h3", null, title), ...body);
}

/** A duration in seconds as "13 分 02 秒" / "13 min 02 s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const total = Math.max(0, Math.round(seconds));
  return t("common.minSec", { m: Math.floor(total / 60), s: String(total % 60).padStart(2, "0") });
}

export function km(metres: number | null | undefined): string {
  if (metres === null || metres === undefined) return "—";
  return metres >= 1000 ? `${(metres / 1000).toFixed(1)} km` : `${Math.round(metres)} m`;
}

export async function busy<T>(button: HTMLButtonElement | null, work: () => Promise<T>): Promise<T | undefined> {
  if (button) button.disabled = true;
  try {
    return await work();
  } finally {
    if (button) button.disabled = false;
  }
}
