// A tiny DOM builder: buttons are <button>, links are <a>, labels are <label>.

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
      } else if (key === "class") {
        el.className = String(value);
      } else if (key === "style" && typeof value === "object") {
        Object.assign(el.style, value);
      } else if (key in el && !key.includes("-") && typeof value !== "string") {
        (el as unknown as Record<string, unknown>)[key] = value;
      } else if (value === true) {
        el.setAttribute(key, "");
      } else {
        el.setAttribute(key, String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replace(el: Element, ...children: Child[]): void {
  clear(el);
  append(el, children);
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Download `text` as a file named `name`. */
export function download(name: string, text: string, type = "text/plain"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Rows as CSV (RFC 4180 quoting), with a BOM so spreadsheet programs read UTF-8. */
export function toCsv(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cell = (v: string | number | null | undefined) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return "\ufeff" + [header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}

type FieldValue = { value: string; checked: boolean };
export type FieldSnapshot = { fields: Map<string, FieldValue>; focused: string | null };

/** What the user has entered in the form fields (those with an id) inside `root`. */
export function snapshotFields(root: Element): FieldSnapshot {
  const fields = new Map<string, FieldValue>();
  for (const el of root.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("input[id], select[id], textarea[id]")) {
    if (el instanceof HTMLInputElement && el.type === "file") continue;
    fields.set(el.id, { value: el.value, checked: el instanceof HTMLInputElement && el.checked });
  }
  const active = document.activeElement;
  return { fields, focused: active && root.contains(active) && active.id ? active.id : null };
}

/**
 * Put a snapshot back into a re-rendered `root`: a live update must never silently undo
 * what an operator has typed or unticked (e.g. "forward to 119 as well").
 */
export function restoreFields(root: Element, snapshot: FieldSnapshot): void {
  for (const [id, saved] of snapshot.fields) {
    const el = root.querySelector<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(`[id="${CSS.escape(id)}"]`);
    if (!el) continue;
    if (el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio")) {
      if (el.checked === saved.checked) continue;
      el.checked = saved.checked;
    } else {
      if (el.value === saved.value) continue;
      el.value = saved.value;
    }
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }
  if (snapshot.focused) root.querySelector<HTMLElement>(`[id="${CSS.escape(snapshot.focused)}"]`)?.focus();
}
