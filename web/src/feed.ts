// The live alarm feed (Server-Sent Events) with resume bookkeeping.
//
// EventSource reconnects by itself after a dropped connection and sends Last-Event-ID,
// so the server resumes after the last id seen. When the server refuses the stream (an
// HTTP error closes the EventSource for good), this client opens a new one after a
// back-off, with `?after=<last id>` so nothing in between is lost; ids already seen are
// dropped, so a replay never shows an event twice.

export const FEED_EVENT_TYPES = [
  "alarm.new",
  "alarm.updated",
  "alarm.status",
  "alarm.forwarded",
  "alarm.escalated",
  "task.new",
  "task.done",
  "workorder.new",
  "workorder.closed",
  "workorder.overdue",
] as const;

export interface FeedEvent {
  id: number;
  type: string;
  at?: string;
  [key: string]: unknown;
}

export type FeedStatus = "connecting" | "open" | "reconnecting" | "closed";

export interface EventSourceLike {
  readyState: number;
  onopen: ((ev: Event) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void;
  close(): void;
}

export type EventSourceFactory = (url: string) => EventSourceLike;

export const CLOSED = 2;

export interface FeedOptions {
  url: string;
  onEvent: (event: FeedEvent) => void;
  onStatus?: (status: FeedStatus) => void;
  factory?: EventSourceFactory;
  types?: readonly string[];
  minDelayMs?: number;
  maxDelayMs?: number;
  schedule?: (fn: () => void, ms: number) => unknown;
  /** Asked before reopening a refused stream (e.g. is the session still valid?). */
  beforeReconnect?: () => Promise<boolean>;
  cancel?: (handle: unknown) => void;
}

/** URL of the feed resuming after `after` (none: from now). */
export function feedUrl(url: string, after: number | null): string {
  if (after === null) return url;
  return `${url}${url.includes("?") ? "&" : "?"}after=${after}`;
}

/** Back-off before reconnect attempt `attempt` (0-based): doubles up to `max`. */
export function backoffDelay(attempt: number, min = 1000, max = 30000): number {
  return Math.min(max, min * 2 ** Math.max(0, attempt));
}

export class FeedClient {
  lastId: number | null = null;
  status: FeedStatus = "closed";
  attempts = 0;
  received = 0;
  duplicates = 0;
  private source: EventSourceLike | null = null;
  private timer: unknown = null;
  private stopped = true;

  constructor(private options: FeedOptions) {}

  private setStatus(status: FeedStatus): void {
    this.status = status;
    this.options.onStatus?.(status);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) (this.options.cancel ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
    this.source?.close();
    this.source = null;
    this.setStatus("closed");
  }

  /** Open (or reopen) the stream, resuming after the last id seen. */
  connect(): void {
    this.source?.close();
    const factory = this.options.factory ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike);
    const source = factory(feedUrl(this.options.url, this.lastId));
    this.source = source;
    this.setStatus(this.attempts > 0 ? "reconnecting" : "connecting");
    source.onopen = () => {
      this.attempts = 0;
      this.setStatus("open");
    };
    source.onerror = () => this.handleError(source);
    const listener = (ev: MessageEvent) => this.handleMessage(ev.type, ev.data, ev.lastEventId);
    for (const type of this.options.types ?? FEED_EVENT_TYPES) source.addEventListener(type, listener);
    source.onmessage = listener;
  }

  /** An error: the browser retries by itself unless the source is closed. */
  handleError(source: EventSourceLike): void {
    if (this.stopped || source !== this.source) return;
    if (source.readyState !== CLOSED) {
      this.setStatus("reconnecting");
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

  /** One SSE message; returns the event delivered, or null (duplicate, malformed). */
  handleMessage(type: string, data: string, lastEventId?: string): FeedEvent | null {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return null;
    }
    // The SSE id line is the feed's id; the JSON may carry the item's own "id" (a task's).
    const id = lastEventId ? Number(lastEventId) : Number(payload.id);
    if (!Number.isFinite(id)) return null;
    if (this.lastId !== null && id <= this.lastId) {
      this.duplicates += 1;
      return null;
    }
    this.lastId = id;
    this.received += 1;
    const event: FeedEvent = { ...payload, id, type: typeof payload.type === "string" ? payload.type : type };
    if (payload.id !== undefined && Number(payload.id) !== id) event.item_id = payload.id;
    this.options.onEvent(event);
    return event;
  }
}
