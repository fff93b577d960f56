import { describe, expect, it } from "vitest";
import { CLOSED, type EventSourceLike } from "../src/feed";
import { isNewer, LiveChannel, liveUrl, parsePosition, type LiveEvent, type ResyncReason } from "../src/live";

class FakeSource implements EventSourceLike {
  readyState = 0;
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  listeners = new Map<string, (ev: MessageEvent) => void>();
  constructor(readonly url: string) {}
  addEventListener(type: string, fn: (ev: MessageEvent) => void): void {
    this.listeners.set(type, fn);
  }
  close(): void {
    this.readyState = CLOSED;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  emit(type: string, id: string, data: Record<string, unknown> = {}): void {
    this.listeners.get(type)?.({ type, data: JSON.stringify({ id, type, ...data }), lastEventId: id } as MessageEvent);
  }
  fail(closed: boolean): void {
    this.readyState = closed ? CLOSED : 0;
    this.onerror?.(new Event("error"));
  }
}

function setup() {
  const sources: FakeSource[] = [];
  const events: LiveEvent[] = [];
  const resyncs: ResyncReason[] = [];
  const timers: (() => void)[] = [];
  const channel = new LiveChannel({
    url: "/api/v1/live",
    factory: (url) => {
      const s = new FakeSource(url);
      sources.push(s);
      return s;
    },
    schedule: (fn) => timers.push(fn),
    cancel: () => undefined,
  });
  channel.subscribe((e) => events.push(e));
  channel.onResync((r) => resyncs.push(r));
  return { channel, sources, events, resyncs, timers };
}

describe("live channel", () => {
  it("parses and orders positions", () => {
    expect(parsePosition("12-7")).toEqual([12, 7]);
    expect(parsePosition("12")).toBeNull();
    expect(isNewer("12-8", "12-7")).toBe(true);
    expect(isNewer("13-7", "12-7")).toBe(true);
    expect(isNewer("12-7", "12-7")).toBe(false);
    expect(isNewer("1-1", null)).toBe(true);
    expect(liveUrl("/api/v1/live", "3-4")).toBe("/api/v1/live?after=3-4");
  });

  it("takes the hello's position, resyncs at every (re)connection and drops duplicates", () => {
    const { channel, sources, events, resyncs, timers } = setup();
    channel.start();
    sources[0].open();
    sources[0].emit("hello", "5-2", { position: "5-2" });
    expect(channel.lastId).toBe("5-2");
    expect(resyncs).toEqual(["connect"]);
    sources[0].emit("alarm.new", "6-2", { alarm_id: 1 });
    sources[0].emit("alarm.new", "6-2", { alarm_id: 1 });
    sources[0].emit("incident.new", "6-3", { incident_id: 9 });
    expect(events.map((e) => e.id)).toEqual(["6-2", "6-3"]);
    expect(channel.duplicates).toBe(1);
    // the server went away for good: reopened after a back-off, from the last position
    sources[0].fail(true);
    expect(timers).toHaveLength(1);
    timers[0]();
    expect(sources[1].url).toBe("/api/v1/live?after=6-3");
    sources[1].open();
    sources[1].emit("hello", "6-3");
    sources[1].emit("alarm.new", "7-3", { alarm_id: 2 });
    expect(resyncs).toEqual(["connect", "connect"]);
    expect(events.map((e) => e.id)).toEqual(["6-2", "6-3", "7-3"]);
    // too far behind: reload
    sources[1].emit("reload", "90-40", { reason: "behind" });
    expect(resyncs.at(-1)).toBe("reload");
    expect(channel.lastId).toBe("90-40");
  });

  it("a wake reconnects a broken stream at once and reloads an open one's lists", () => {
    const { channel, sources, resyncs } = setup();
    channel.start();
    sources[0].open();
    sources[0].emit("hello", "1-1");
    channel.wake();
    expect(resyncs).toEqual(["connect", "wake"]);
    sources[0].fail(false); // the browser is retrying
    channel.wake();
    expect(sources).toHaveLength(2);
    expect(sources[1].url).toBe("/api/v1/live?after=1-1");
  });
});
