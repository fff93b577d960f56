// The console's shared state: the API client, translations, the signed-in user.

import { AlertCenter } from "./alerts";
import { Api, ApiError } from "./api";
import { I18n, type Dict } from "./i18n";
import { LiveChannel } from "./live";
import { messageNodes } from "./messageview";
import { serverMessage, validationText, withDetail, type ServerMessage, type ServerParams } from "./servertext";
import en from "./locales/en.json";
import zh from "./locales/zh-CN.json";

export interface Me {
  username: string;
  role: string;
  scope_code: string;
  scope_path: string;
  permissions: string[];
  user?: { display_name?: string } | null;
}

export interface ConsoleConfig {
  tileUrl?: string;
  tileAttribution?: string;
}

const STORED_LOCALE = "firegrid.locale";

function storedLocale(): string {
  try {
    return localStorage.getItem(STORED_LOCALE) ?? "zh-CN";
  } catch {
    return "zh-CN";
  }
}

export const api = new Api();
/** The seat's live channel (started after sign-in) and its unmissable alerts. */
export const live = new LiveChannel({
  url: api.url("/live"),
  // life safety: after an outage, back within 5 s of the server (not the feed's 30 s)
  minDelayMs: 1000,
  maxDelayMs: 5000,
  // A refused stream may mean the session ended: /auth/me then shows the sign-in page.
  beforeReconnect: () => api.get("/auth/me").then(() => true, (err: unknown) => !(err instanceof ApiError && err.status === 401)),
});
export const alerts = new AlertCenter();
export const i18n = new I18n({ "zh-CN": zh as Dict, en: en as Dict }, storedLocale());
export const t = (key: string, params?: Record<string, string | number>) => i18n.t(key, params);
export const label = (group: string, value: string | null | undefined) => i18n.label(group, value);

i18n.onChange(() => {
  try {
    localStorage.setItem(STORED_LOCALE, i18n.locale);
  } catch {
    /* private mode */
  }
  document.documentElement.lang = i18n.locale;
});

export const state: {
  me: Me | null;
  config: ConsoleConfig;
  categories: Record<string, { name_zh: string; name_en: string }>;
  capabilities: Record<string, boolean>;
} = {
  me: null,
  capabilities: {},
  config: ((window as unknown as { FIREGRID_CONFIG?: ConsoleConfig }).FIREGRID_CONFIG ?? {}) as ConsoleConfig,
  categories: {},
};

/** Whether the server offers an optional service (see GET /map/capabilities). */
export function offers(name: string): boolean {
  return state.capabilities[name] === true;
}

export function can(permission: string): boolean {
  return !!state.me?.permissions.includes(permission);
}

/** The venue category in the current language (from the taxonomy), else its code. */
export function categoryName(code: string | null | undefined): string {
  if (!code) return "—";
  const entry = state.categories[code];
  if (!entry) return code;
  return i18n.locale === "en" ? entry.name_en : entry.name_zh;
}

/** A toast; a server message's technical detail is shown apart, verbatim (`<code class="detail">`). */
export function toast(message: string | ServerMessage, kind: "info" | "error" | "ok" = "info"): void {
  const host = document.getElementById("toasts");
  if (!host) return;
  const el = document.createElement("div");
  el.className = `toast toast-${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.append(...messageNodes(typeof message === "string" ? { text: message, detail: "" } : message));
  host.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

/** The message of a failed call in the reader's language, its technical detail apart. */
export function errorMessage(err: unknown): ServerMessage {
  if (err && typeof err === "object" && "code" in err && "message" in err) {
    const e = err as { code: string; message: string; messageCode?: string | null; messageParams?: ServerParams; details?: unknown };
    // the server's sentence in the reader's language when it has a code, else its English;
    // a refused request names each invalid field
    const tr = (key: string, params?: Record<string, string | number>) => i18n.t(key, params);
    const listed = validationText(tr, e.details);
    const message = listed ? { text: listed, detail: "" } : serverMessage(tr, e.messageCode, e.messageParams, e.message);
    const known = i18n.t(`errors.${e.code}`);
    return known === `errors.${e.code}` ? message : { ...message, text: `${known}: ${message.text}` };
  }
  return { text: err instanceof Error ? err.message : String(err), detail: "" };
}

export function errorText(err: unknown): string {
  return withDetail(errorMessage(err));
}

export function fail(err: unknown): void {
  toast(errorMessage(err), "error");
}
