// The dispatcher's keyboard shortcuts: which key does what, and when a key is the user's
// typing (never a shortcut). Pure: no DOM access beyond the event's own fields (unit-tested).

export type ShortcutAction =
  | "newCall"
  | "dispatchRecommended"
  | "nextIncident"
  | "previousIncident"
  | "unitStatus"
  | "help"
  | "close";

/** The unit statuses the keys 1–6 set, in the order of the keys. */
export const STATUS_KEYS = ["available_in_station", "available_on_radio", "en_route", "on_scene", "returning", "out_of_service"] as const;

export interface Shortcut {
  keys: string[];
  action: ShortcutAction;
  /** The i18n key of its description (`shortcuts.<action>`). */
  label: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ["n"], action: "newCall", label: "shortcuts.newCall" },
  { keys: ["d"], action: "dispatchRecommended", label: "shortcuts.dispatchRecommended" },
  { keys: ["j"], action: "nextIncident", label: "shortcuts.nextIncident" },
  { keys: ["k"], action: "previousIncident", label: "shortcuts.previousIncident" },
  { keys: ["1", "2", "3", "4", "5", "6"], action: "unitStatus", label: "shortcuts.unitStatus" },
  { keys: ["?"], action: "help", label: "shortcuts.help" },
  { keys: ["Escape"], action: "close", label: "shortcuts.close" },
];

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  altKey?: boolean;
  metaKey?: boolean;
  isComposing?: boolean;
  target?: unknown;
}

interface TargetLike {
  tagName?: string;
  isContentEditable?: boolean;
  type?: string;
}

const TEXT_INPUT_TYPES = new Set(["", "text", "search", "tel", "url", "email", "password", "number", "date", "datetime-local", "time", "month", "week"]);

/** Whether the key goes to something the user is typing in (input, textarea, select, editable). */
export function isTypingTarget(target: unknown): boolean {
  if (!target || typeof target !== "object") return false;
  const el = target as TargetLike;
  if (el.isContentEditable) return true;
  const tag = (el.tagName ?? "").toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") return TEXT_INPUT_TYPES.has((el.type ?? "").toLowerCase());
  return false;
}

export interface Resolved {
  action: ShortcutAction;
  /** For unitStatus: the status the key sets. */
  status?: (typeof STATUS_KEYS)[number];
}

/** The shortcut a key press means, or null (typing, modifiers, IME, or an unmapped key). */
export function resolveShortcut(ev: KeyLike): Resolved | null {
  if (ev.ctrlKey || ev.altKey || ev.metaKey || ev.isComposing) return null;
  // Escape closes the help even from a field; nothing else fires while typing
  if (ev.key === "Escape") return { action: "close" };
  if (isTypingTarget(ev.target)) return null;
  const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
  for (const s of SHORTCUTS) {
    if (!s.keys.includes(key)) continue;
    if (s.action === "unitStatus") return { action: "unitStatus", status: STATUS_KEYS[Number(key) - 1] };
    return { action: s.action };
  }
  return null;
}

/** The id after (step 1) or before (step -1) `current` in `ids`, wrapping; the first when none. */
export function stepIncident(ids: number[], current: number | null, step: 1 | -1): number | null {
  if (!ids.length) return null;
  const at = current === null ? -1 : ids.indexOf(current);
  if (at < 0) return step === 1 ? ids[0] : ids[ids.length - 1];
  return ids[(at + step + ids.length) % ids.length];
}
