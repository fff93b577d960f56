// The alarm feed's event types and the Server-Sent Events plumbing shared by the live
// channel (`live.ts`, which resumes with Last-Event-ID and reloads after a reconnect): the
// EventSource shape, its CLOSED state and the reconnect back-off.

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
  "link.alert",
  "link.alert_cleared",
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

/** Back-off before reconnect attempt `attempt` (0-based): doubles up to `max`. */
export function backoffDelay(attempt: number, min = 1000, max = 30000): number {
  return Math.min(max, min * 2 ** Math.max(0, attempt));
}
