// Alerts that must not be missed: a new fire, a forwarded fire for the dispatcher, a new
// on-site task for the grid worker. While any is unacknowledged the sound repeats (unless
// muted), the tab title shows how many, and a desktop notification is shown when allowed.

import { beep } from "./beep";

const MUTED = "firegrid.muted";
const REPEAT_MS = 3000;
const TITLE_PREFIX = /^\(\d+\) /;

export interface AlertItem {
  key: string;
  title: string;
  body: string;
}

type Listener = () => void;

function storedMuted(): boolean {
  try {
    return localStorage.getItem(MUTED) === "1";
  } catch {
    return false;
  }
}

type Permission = NotificationPermission | "unsupported";

/** The notification permission, read once: ``Notification.permission`` is a synchronous
 * call into the browser process (measured at 68 ms on a loaded machine, inside the live
 * message handler that draws the fire's row). Changes arrive through the Permissions API. */
function readPermission(): Permission {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

function watchPermission(onChange: (permission: Permission) => void): void {
  const permissions = typeof navigator === "undefined" ? undefined : navigator.permissions;
  if (!permissions?.query) return;
  permissions
    .query({ name: "notifications" as PermissionName })
    .then((status) => {
      status.onchange = () => onChange(status.state === "prompt" ? "default" : status.state);
    })
    .catch(() => {
      /* not queryable here: the value read at start and after asking stays */
    });
}

export class AlertCenter {
  muted = storedMuted();
  private permission: Permission = readPermission();
  private pending = new Map<string, AlertItem>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private listeners = new Set<Listener>();

  constructor() {
    watchPermission((permission) => {
      this.permission = permission;
      this.update();
    });
  }

  get count(): number {
    return this.pending.size;
  }

  has(key: string): boolean {
    return this.pending.has(key);
  }

  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Raise an alert (once per key): sound now and until acknowledged, title, notification. */
  raise(item: AlertItem): void {
    if (this.pending.has(item.key)) return;
    this.pending.set(item.key, item);
    if (!this.muted) beep();
    this.notify(item);
    this.update();
  }

  ack(key: string): void {
    if (this.pending.delete(key)) this.update();
  }

  ackAll(): void {
    if (!this.pending.size) return;
    this.pending.clear();
    this.update();
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    try {
      localStorage.setItem(MUTED, muted ? "1" : "0");
    } catch {
      /* private mode */
    }
    this.update();
  }

  /** Ask for desktop notifications (call from a click: browsers require a gesture). */
  async askPermission(): Promise<void> {
    if (this.permission !== "default") return;
    try {
      this.permission = await Notification.requestPermission();
    } catch {
      this.permission = readPermission(); /* refused or unsupported */
    }
    this.update();
  }

  get canAsk(): boolean {
    return this.permission === "default";
  }

  private notify(item: AlertItem): void {
    if (this.permission !== "granted") return;
    // its own task: creating a notification calls into the browser process too, and the
    // fire's row is being drawn by the handler that raised the alert
    setTimeout(() => {
      try {
        const n = new Notification(item.title, { body: item.body, tag: item.key, requireInteraction: true });
        n.onclick = () => window.focus();
      } catch {
        /* some browsers only notify from a service worker */
      }
    }, 0);
  }

  private update(): void {
    const base = document.title.replace(TITLE_PREFIX, "");
    document.title = this.pending.size ? `(${this.pending.size}) ${base}` : base;
    document.body.dataset.alerts = String(this.pending.size);
    const ring = this.pending.size > 0 && !this.muted;
    if (ring && this.timer === null) {
      this.timer = setInterval(() => {
        if (this.pending.size && !this.muted) beep();
      }, REPEAT_MS);
    } else if (!ring && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    for (const fn of this.listeners) fn();
  }
}
