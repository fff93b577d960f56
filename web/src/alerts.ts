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

export class AlertCenter {
  muted = storedMuted();
  private pending = new Map<string, AlertItem>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private listeners = new Set<Listener>();

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
    if (typeof Notification === "undefined" || Notification.permission !== "default") return;
    try {
      await Notification.requestPermission();
    } catch {
      /* refused or unsupported */
    }
    this.update();
  }

  get canAsk(): boolean {
    return typeof Notification !== "undefined" && Notification.permission === "default";
  }

  private notify(item: AlertItem): void {
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    try {
      const n = new Notification(item.title, { body: item.body, tag: item.key, requireInteraction: true });
      n.onclick = () => window.focus();
    } catch {
      /* some browsers only notify from a service worker */
    }
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
