// The seat's live channel (GET /api/v1/live, Server-Sent Events): alarms, tasks, incidents
// and unit statuses, scoped by the server to what the signed-in user may read.
//
// Nothing may be missed:
// - every message has an id (the first one, "hello", too), so the browser always has a
//   Last-Event-ID and resumes where it was after a dropped connection;
// - a stream refused for good (server down for long, HTTP error) is reopened after a
//   back-off with `?after=<last id>`;
// - at every (re)connection ("hello" or "reload") and when the page wakes (visible again,
//   back online) the views are told to reload their lists ("resync"): what happened while
//   the page slept or the server was away shows without a manual reload;
// - "reload" means the position was too far behind (or unknown): reload, then follow.

import { backoffDelay, CLOSED, FEED_EVENT_TYPES, type EventSourceFactory, type EventSourceLike } from "./feed";

export const LIVE_EVENT_TYPES = [...FEED_EVENT_TYPES, "incident.new", "incident.updated", "unit.status"] as const;
const CONTROL_TYPES = ["hello", "reload", "heartbeat"] as const;

export interface LiveEvent {
  id: string;
  type: string;
  at?: string;
  [key: string]: unknown;
}

export type LiveStatus = "connecting" | "open" | "reconnecting" | "closed";
export type ResyncReason = "connect" | "reload" | "wake";

/** `"12-7"` → [12, 7]; null when it is not a position. */
export function parsePosition(id: string | null | undefined): [number, number] | null {
  const m = /^(\d+)-(\d+)$/.exec(id ?? "");
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Whether position `id` is past `last` in either table (both only grow). */
export function isNewer(id: string, last: string | null): boolean {
  const a = parsePosition(id);
  const b = parsePosition(last);
  if (!a) return false;
  if (!b) return true;
  return a[0] > b[0] || a[1] > b[1];
}

export function liveUrl(url: string, after: string | null): string {
  if (after === null) return url;
  return `${url}${url.includes("?") ? "&" : "?"}after=${encodeURIComponent(after)}`;
}

export interface LiveOptions {
  url: string;
  factory?: EventSourceFactory;
  minDelayMs?: number;
  maxDelayMs?: number;
  schedule?: (fn: () => void, ms: number) => unknown;
  cancel?: (handle: unknown) => void;
  /** Asked before reopening a refused stream (e.g. is the session still valid?). */
  beforeReconnect?: () => Promise<boolean>;
}

type Listener<T> = (value: T) => void;

export class LiveChannel {
  lastId: string | null = null;
  status: LiveStatus = "closed";
  attempts = 0;
  received = 0;
  duplicates = 0;
  resyncs = 0;
  private source: EventSourceLike | null = null;
  private timer: unknown = null;
  private stopped = true;
  private events = new Set<Listener<LiveEvent>>();
  private resyncListeners = new Set<Listener<ResyncReason>>();
  private statusListeners = new Set<Listener<LiveStatus>>();

  constructor(private options: LiveOptions) {}

  /** Receive every event (returns the unsubscribe function). */
  subscribe(fn: Listener<LiveEvent>): () => void {
    this.events.add(fn);
    return () => this.events.delete(fn);
  }

  /** Be told to reload lists (after any reconnection, a `reload`, or a page wake). */
  onResync(fn: Listener<ResyncReason>): () => void {
    this.resyncListeners.add(fn);
    return () => this.resyncListeners.delete(fn);
  }

  onStatus(fn: Listener<LiveStatus>): () => void {
    this.statusListeners.add(fn);
    fn(this.status);
    return () => this.statusListeners.delete(fn);
  }

  private setStatus(status: LiveStatus): void {
    this.status = status;
    for (const fn of this.statusListeners) fn(status);
  }

  private resync(reason: ResyncReason): void {
    this.resyncs += 1;
    for (const fn of [...this.resyncListeners]) fn(reason);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.source?.close();
    this.source = null;
    this.setStatus("closed");
  }

  private clearTimer(): void {
    if (this.timer !== null) (this.options.cancel ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
  }

  /** The page woke up (visible again, back online): reconnect at once if the stream is not
   * open, and reload the lists either way. */
  wake(): void {
    if (this.stopped) return;
    if (this.status !== "open" || !this.source || this.source.readyState === CLOSED) {
      this.clearTimer();
      this.attempts = 0;
      this.connect();
      return; // its hello resyncs
    }
    this.resync("wake");
  }

  /** Open (or reopen) the stream, resuming after the last position seen. */
  connect(): void {
    this.source?.close();
    const factory = this.options.factory ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike);
    const source = factory(liveUrl(this.options.url, this.lastId));
    this.source = source;
    this.setStatus(this.attempts > 0 ? "reconnecting" : "connecting");
    source.onopen = () => {
      if (source !== this.source) return;
      this.attempts = 0;
      this.setStatus("open");
    };
    source.onerror = () => this.handleError(source);
    const listener = (ev: MessageEvent) => {
      if (source === this.source) this.handleMessage(ev.type, ev.data as string, ev.lastEventId);
    };
    for (const type of [...LIVE_EVENT_TYPES, ...CONTROL_TYPES]) source.addEventListener(type, listener);
    source.onmessage = listener;
  }

  handleError(source: EventSourceLike): void {
    if (this.stopped || source !== this.source) return;
    if (source.readyState !== CLOSED) {
      this.setStatus("reconnecting"); // the browser retries with Last-Event-ID
      return;
    }
    source.close();
    const delay = backoffDelay(this.attempts, this.options.minDelayMs, this.options.maxDelayMs);
    this.attempts += 1;
    this.setStatus("reconnecting");
    const schedule = this.options.schedule ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.timer = schedule(() => {
      this.timer = null;
      if (this.stopped) return;
      const check = this.options.beforeReconnect;
      if (!check) {
        this.connect();
        return;
      }
      void check().then(
        (ok) => {
          if (this.stopped) return;
          if (ok) this.connect();
          else this.stop();
        },
        () => {
          if (!this.stopped) this.connect();
        },
      );
    }, delay);
  }

  /** One SSE message; returns the event delivered to subscribers, or null. */
  handleMessage(type: string, data: string, lastEventId?: string): LiveEvent | null {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return null;
    }
    const id = lastEventId || String(payload.id ?? "");
    if (!parsePosition(id)) return null;
    const kind = typeof payload.type === "string" ? payload.type : type;
    if (kind === "hello" || kind === "reload") {
      this.lastId = id; // the server's position: everything after it follows
      if (this.status !== "open") this.setStatus("open");
      this.resync(kind === "reload" ? "reload" : "connect");
      return null;
    }
    if (kind === "heartbeat") {
      if (isNewer(id, this.lastId)) this.lastId = id;
      return null;
    }
    if (!isNewer(id, this.lastId)) {
      this.duplicates += 1;
      return null;
    }
    this.lastId = id;
    this.received += 1;
    const event: LiveEvent = { ...payload, id, type: kind };
    for (const fn of [...this.events]) fn(event);
    return event;
  }
}
