import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The alert centre reads the notification permission once, not per alert: the read is a
// synchronous call into the browser process on the path that draws a fire's row.
let reads = 0;
let created: string[] = [];

class FakeNotification {
  static get permission(): NotificationPermission {
    reads += 1;
    return "granted";
  }
  static async requestPermission(): Promise<NotificationPermission> {
    return "granted";
  }
  onclick: (() => void) | null = null;
  constructor(title: string) {
    created.push(title);
  }
}

beforeEach(() => {
  reads = 0;
  created = [];
  vi.useFakeTimers();
  vi.stubGlobal("Notification", FakeNotification);
  vi.stubGlobal("localStorage", { getItem: () => "1", setItem: () => undefined }); // muted
  vi.stubGlobal("document", { title: "firegrid", body: { dataset: {} } });
  vi.stubGlobal("window", { focus: () => undefined });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("AlertCenter", () => {
  it("reads the permission once and notifies every new fire in a task of its own", async () => {
    const { AlertCenter } = await import("../src/alerts");
    const center = new AlertCenter();
    const before = reads;
    for (let i = 0; i < 5; i++) center.raise({ key: `fire-${i}`, title: `火警 ${i}`, body: "" });
    expect(reads).toBe(before);
    expect(created).toEqual([]); // not inside the handler that raised them
    vi.runAllTimers();
    expect(created).toEqual(["火警 0", "火警 1", "火警 2", "火警 3", "火警 4"]);
    expect(center.count).toBe(5);
    expect(document.title).toBe("(5) firegrid");
    center.raise({ key: "fire-0", title: "again", body: "" }); // once per key
    vi.runAllTimers();
    expect(created).toHaveLength(5);
  });
});
