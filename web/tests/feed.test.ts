import { describe, expect, it } from "vitest";
import { backoffDelay, CLOSED, FeedClient, feedUrl, type EventSourceLike, type FeedEvent, type FeedStatus } from "../src/feed";

class FakeSource implements EventSourceLike {
  readyState = 0;
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  listeners = new Map<string, (ev: MessageEvent) => void>();
  closed = false;
  constructor(readonly url: string) {}
  addEventListener(type: string, fn: (ev: MessageEvent) => void): void {
    this.listeners.set(type, fn);
  }
  close(): void {
    this.closed = true;
    this.readyState = CLOSED;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  emit(type: string, id: number, data: Record<string, unknown> = {}): void {
    this.listeners.get(type)?.({ type, data: JSON.stringify({ id, type, ...data }), lastEventId: String(id) } as MessageEvent);
  }
  fail(closed: boolean): void {
    this.readyState = closed ? CLOSED : 0;
    this.onerror?.(new Event("error"));
  }
}

function setup(beforeReconnect?: () => Promise<boolean>) {
  const sources: FakeSource[] = [];
  const events: FeedEvent[] = [];
  const statuses: FeedStatus[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const client = new FeedClient({
    url: "/api/v1/alarms/feed",
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
    factory: (url) => {
      const s = new FakeSource(url);
      sources.push(s);
      return s;
    },
    schedule: (fn, ms) => timers.push({ fn, ms }),
    cancel: () => undefined,
    beforeReconnect,
  });
  return { client, sources, events, statuses, timers };
}

describe("feed resume bookkeeping", () => {
  it("starts from now, then resumes after the last id seen", () => {
    expect(feedUrl("/f", null)).toBe("/f");
    expect(feedUrl("/f", 42)).toBe("/f?after=42");
    expect(feedUrl("/f?x=1", 42)).toBe("/f?x=1&after=42");
  });

  it("delivers events in order, tracks the last id and drops replays", () => {
    const { client, sources, events } = setup();
    client.start();
    sources[0].open();
    sources[0].emit("alarm.new", 5, { alarm_id: 1, kind: "fire" });
    sources[0].emit("alarm.status", 6, { alarm_id: 1 });
    sources[0].emit("alarm.new", 6, { alarm_id: 1 });
    sources[0].emit("alarm.new", 4, { alarm_id: 1 });
    expect(events.map((e) => e.id)).toEqual([5, 6]);
    expect(events[0].type).toBe("alarm.new");
    expect(client.lastId).toBe(6);
    expect(client.duplicates).toBe(2);
  });

  it("lets the browser retry a dropped connection (Last-Event-ID)", () => {
    const { client, sources, statuses, timers } = setup();
    client.start();
    sources[0].open();
    sources[0].fail(false);
    expect(statuses.at(-1)).toBe("reconnecting");
    expect(timers).toHaveLength(0);
    expect(sources).toHaveLength(1);
  });

  it("reopens a refused stream after a growing back-off, with ?after=", () => {
    const { client, sources, timers, statuses } = setup();
    client.start();
    sources[0].open();
    sources[0].emit("alarm.new", 9, { alarm_id: 2 });
    sources[0].fail(true);
    expect(timers).toHaveLength(1);
    expect(timers[0].ms).toBe(1000);
    timers[0].fn();
    expect(sources).toHaveLength(2);
    expect(sources[1].url).toBe("/api/v1/alarms/feed?after=9");
    sources[1].fail(true);
    expect(timers[1].ms).toBe(2000);
    timers[1].fn();
    sources[2].open();
    expect(statuses.at(-1)).toBe("open");
    expect(client.attempts).toBe(0);
  });

  it("ignores errors of an old source and stops cleanly", () => {
    const { client, sources, timers } = setup();
    client.start();
    const first = sources[0];
    client.connect();
    first.fail(true);
    expect(timers).toHaveLength(0);
    client.stop();
    expect(sources[1].closed).toBe(true);
    expect(client.status).toBe("closed");
  });

  it("takes the feed id from the SSE id line, not from the item's own id", () => {
    const { client, events } = setup();
    client.start();
    client.handleMessage("alarm.new", JSON.stringify({ id: 40, alarm_id: 3 }), "40");
    const task = client.handleMessage("task.done", JSON.stringify({ id: 1, alarm_id: 3, status: "done" }), "41");
    expect(task?.id).toBe(41);
    expect(task?.item_id).toBe(1);
    expect(events.map((e) => e.type)).toEqual(["alarm.new", "task.done"]);
    expect(client.lastId).toBe(41);
  });

  it("asks before reopening, and stops when the session has ended", async () => {
    let allowed = false;
    const { client, sources, timers } = setup(async () => allowed);
    client.start();
    sources[0].fail(true);
    timers[0].fn();
    await Promise.resolve();
    await Promise.resolve();
    expect(sources).toHaveLength(1);
    expect(client.status).toBe("closed");
    allowed = true;
    client.start();
    sources[1].fail(true);
    timers[1].fn();
    await Promise.resolve();
    await Promise.resolve();
    expect(sources).toHaveLength(3);
  });

  it("ignores malformed messages", () => {
    const { client, events } = setup();
    client.start();
    expect(client.handleMessage("alarm.new", "not json")).toBeNull();
    expect(client.handleMessage("alarm.new", JSON.stringify({ nope: 1 }))).toBeNull();
    expect(events).toHaveLength(0);
  });

  it("caps the back-off", () => {
    expect(backoffDelay(0)).toBe(1000);
    expect(backoffDelay(3)).toBe(8000);
    expect(backoffDelay(20)).toBe(30000);
  });
});
