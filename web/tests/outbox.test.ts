import { describe, expect, it } from "vitest";
import { MemoryStore, Outbox, SendError, newKey, retryDelayMs, type Submission } from "../src/outbox";

function setup(sendImpl: (item: Submission) => Promise<void>, online = { value: true }) {
  const store = new MemoryStore();
  let now = 1_000_000;
  const scheduled: number[] = [];
  const sent: string[] = [];
  const box = new Outbox({
    store,
    username: () => "worker",
    online: () => online.value,
    now: () => now,
    schedule: (_fn, ms) => scheduled.push(ms),
    cancel: () => undefined,
    send: async (item) => {
      sent.push(item.key);
      await sendImpl(item);
    },
  });
  return { store, box, sent, scheduled, online, advance: (ms: number) => (now += ms) };
}

describe("the phone's outbox", () => {
  it("keeps a submission made offline and sends it once when back online", async () => {
    const online = { value: false };
    const t = setup(async () => undefined, online);
    await t.box.add({ key: "k-1", kind: "inspection", label: "A", body: {} });
    await t.box.flush();
    expect(t.sent).toEqual([]);
    expect((await t.box.refresh()).pending).toBe(1);
    online.value = true;
    await t.box.flush();
    await t.box.flush();
    expect(t.sent).toEqual(["k-1"]);
    expect((await t.box.refresh()).pending).toBe(0);
  });

  it("retries with back-off after a network failure, keeping the key", async () => {
    let fail = true;
    const t = setup(async () => {
      if (fail) throw new Error("network");
    });
    await t.box.add({ key: "k-2", kind: "inspection", label: "B", body: {} });
    await t.box.flush();
    const [item] = await t.box.items();
    expect(item.attempts).toBe(1);
    expect(item.nextAt).toBeGreaterThan(1_000_000);
    await t.box.flush(); // not due yet
    expect(t.sent.length).toBe(1);
    fail = false;
    t.advance(10_000);
    await t.box.flush();
    expect(t.sent).toEqual(["k-2", "k-2"]);
    expect(await t.box.items()).toEqual([]);
  });

  it("keeps a refused submission as failed, not retried", async () => {
    const t = setup(async () => {
      throw new SendError("venue not found", false);
    });
    await t.box.add({ key: "k-3", kind: "rectify", label: "C", hazardId: 1, note: "x" });
    await t.box.flush();
    t.advance(1_000_000);
    await t.box.flush(true);
    expect(t.sent).toEqual(["k-3"]);
    const state = await t.box.refresh();
    expect(state).toMatchObject({ pending: 0, failed: 1 });
    await t.box.discard("k-3");
    expect((await t.box.refresh()).failed).toBe(0);
  });

  it("backs off exponentially up to two minutes", () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(2000);
    expect(retryDelayMs(3, () => 0.5)).toBe(8000);
    expect(retryDelayMs(30, () => 0.5)).toBe(120_000);
    expect(newKey("x")).toMatch(/^x-[0-9a-f-]{32,36}$/);
    expect(newKey()).not.toBe(newKey());
  });
});

describe("a photo checked on the phone", () => {
  it("refuses another type, an empty file and one over 10 MB", async () => {
    const { photoProblem } = await import("../src/photo");
    expect(photoProblem(null)).toBeNull();
    expect(photoProblem({ size: 2_000_000, type: "image/jpeg" })).toBeNull();
    expect(photoProblem({ size: 100, type: "image/gif" })).toBe("rounds.photoType");
    expect(photoProblem({ size: 0, type: "image/png" })).toBe("rounds.photoEmpty");
    expect(photoProblem({ size: 10 * 1024 * 1024 + 1, type: "image/webp" })).toBe("rounds.photoTooBig");
  });
});
