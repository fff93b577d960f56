// Pieces of the admin pages: fields that show their problem, a secret shown once, a
// two-step button for what cannot be undone, the towns for a scope code.

import { ApiError } from "../api";
import { api, errorText, i18n, t, toast } from "../ctx";
import { h, replace } from "../dom";
import type { Problems } from "../adminforms";
import type { JurisdictionOut } from "../generated/api";
import { refusalKey } from "../refusal";

/** A labelled control with a slot for its problem (`<id>-problem`, announced). */
export function problemField(labelText: string, control: HTMLElement, hint = ""): HTMLElement {
  const id = control.id;
  const problem = h("p", { class: "field-problem", id: `${id}-problem`, "aria-live": "polite" });
  const hintEl = hint ? h("p", { class: "muted field-hint", id: `${id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintEl ? `${id}-hint` : "", `${id}-problem`].filter(Boolean).join(" "));
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control, hintEl, problem);
}

/** Show `problems` (field → code) on the controls `<prefix>-<field>` of `root`. */
export function applyProblems(root: HTMLElement, prefix: string, problems: Problems): void {
  for (const el of root.querySelectorAll<HTMLElement>("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of root.querySelectorAll<HTMLElement>(".field-problem")) el.textContent = "";
  let first: HTMLElement | null = null;
  for (const [name, code] of Object.entries(problems)) {
    const control = root.querySelector<HTMLElement>(`#${prefix}-${name}`);
    const slot = root.querySelector<HTMLElement>(`#${prefix}-${name}-problem`);
    if (control) control.setAttribute("aria-invalid", "true");
    if (slot) slot.textContent = t(`admin.problems.${code}`);
    first ??= control;
  }
  first?.focus();
}

/** The form field a 422 names: `details.field` (the server's contract), else a detail key that is a field of the form. */
function refusedField(root: HTMLElement, prefix: string, details: Record<string, unknown>): string | undefined {
  const has = (name: string) => root.querySelector(`#${prefix}-${name}`) !== null;
  if (typeof details.field === "string" && has(details.field)) return details.field;
  return Object.keys(details).find(has);
}

/** The server's refusal of a form, in the reader's language: on the field it names, else a toast. */
export function showServerProblem(root: HTMLElement, prefix: string, err: unknown): void {
  if (err instanceof ApiError && err.status === 422) {
    const details = err.details && typeof err.details === "object" && !Array.isArray(err.details) ? (err.details as Record<string, unknown>) : {};
    const named = refusedField(root, prefix, details);
    if (named) {
      const control = root.querySelector<HTMLElement>(`#${prefix}-${named}`);
      const slot = root.querySelector<HTMLElement>(`#${prefix}-${named}-problem`);
      control?.setAttribute("aria-invalid", "true");
      if (slot) slot.textContent = errorText(err);
      control?.focus();
      return;
    }
  }
  refuse(err, "save");
}

/** A failed action: a refusal (409) in the reader's language, else the error's text. */
export function refuse(err: unknown, action: string): void {
  const key = refusalKey(err, action);
  toast(key ? t(key) : errorText(err), "error");
}

/** A secret shown once (generated password, API key), with a copy button. */
export function secretBox(title: string, secret: string, testid: string): HTMLElement {
  const code = h("code", { class: "secret", "data-testid": testid }, secret);
  const copy = h("button", { type: "button", class: "btn btn-small" }, t("admin.copy"));
  copy.addEventListener("click", () => {
    void navigator.clipboard?.writeText(secret).then(
      () => toast(t("admin.copied"), "ok"),
      () => toast(t("admin.copyFailed"), "error"),
    );
  });
  return h("div", { class: "secret-box", role: "status" }, h("strong", null, title), h("p", { class: "warn" }, t("admin.shownOnce")), h("div", { class: "row" }, code, copy));
}

/**
 * A button for what cannot be undone: the first press arms it (its text asks again), the
 * second within 5 s does it. No modal dialog: a keyboard user stays where they are.
 */
export function twoStepButton(text: string, confirmText: string, attrs: Record<string, unknown>, act: () => Promise<void>): HTMLButtonElement {
  const button: HTMLButtonElement = h("button", { type: "button", class: "btn btn-small", ...attrs }, text);
  let timer: ReturnType<typeof setTimeout> | undefined;
  // the accessible name always contains the visible text (WCAG 2.5.3 label in name)
  const name = button.getAttribute("aria-label");
  const disarm = () => {
    button.dataset.armed = "false";
    button.textContent = text;
    if (name) button.setAttribute("aria-label", name);
    button.classList.remove("btn-danger");
  };
  button.addEventListener("click", () => {
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = confirmText;
      if (name) button.setAttribute("aria-label", `${confirmText} ${name}`);
      button.classList.add("btn-danger");
      timer = setTimeout(disarm, 5000);
      return;
    }
    clearTimeout(timer);
    disarm();
    button.disabled = true;
    void act().finally(() => {
      button.disabled = false;
    });
  });
  return button;
}

/** A datalist of the caller's scope and the towns (codes) for scope-code inputs. */
export function scopeList(id: string, ownScope: string): HTMLDataListElement {
  const list = h("datalist", { id });
  void api
    .get<{ items: JurisdictionOut[] }>("/jurisdictions", { level: "town", limit: 1000 })
    .then((page) => {
      const towns = page.items.map((j) => h("option", { value: j.code }, i18n.locale === "en" ? j.name_en : j.name_zh));
      replace(list, ownScope ? h("option", { value: ownScope }, t("admin.ownScope")) : null, towns);
    })
    .catch(() => replace(list, ownScope ? h("option", { value: ownScope }) : null));
  return list;
}

/** A "more" button that hides itself when there is nothing more. */
export function moreButton(testid: string, load: () => Promise<void>): HTMLButtonElement {
  const button: HTMLButtonElement = h("button", { type: "button", class: "btn", "data-testid": testid, hidden: true }, t("admin.more"));
  button.addEventListener("click", () => {
    button.disabled = true;
    void load().finally(() => {
      button.disabled = false;
    });
  });
  return button;
}
