import { describe, expect, it } from "vitest";
import { bulkCandidates, compareAlarms, DEFAULT_FILTER, KeyedAlarmList, matches, type ListAlarm, type ListState, type RowParent, type RowRenderer } from "../src/alarmlist";

interface FakeRow {
  id: number;
  text: string;
}

/** A container that records its children in order (what the DOM would show). */
class FakeParent implements RowParent<FakeRow> {
  children: FakeRow[] = [];
  insertBefore(row: FakeRow, before: FakeRow | null): void {
    const at = this.children.indexOf(row);
    if (at >= 0) this.children.splice(at, 1);
    const to = before === null ? this.children.length : this.children.indexOf(before);
    if (to < 0) throw new Error(`reference row ${before?.id} is not a child`);
    this.children.splice(to, 0, row);
  }
  removeRow(row: FakeRow): void {
    const at = this.children.indexOf(row);
    if (at < 0) throw new Error(`row ${row.id} is not a child`);
    this.children.splice(at, 1);
  }
  ids(): number[] {
    return this.children.map((r) => r.id);
  }
}

const renderer: RowRenderer<FakeRow> = {
  create: (a) => ({ id: a.alarm_id, text: `${a.kind}:${a.status}:${a.venue_name}` }),
  update: (row, a) => {
    row.text = `${a.kind}:${a.status}:${a.venue_name}`;
  },
  signature: (a) => `${a.kind}:${a.status}:${a.venue_name}`,
};

function alarm(id: number, kind: ListAlarm["kind"] = "fault", status = "new", extra: Partial<ListAlarm> = {}): ListAlarm {
  return { alarm_id: id, kind, status, venue_name: `V${id}`, opened_at: "2026-01-01T00:00:00Z", jurisdiction_path: "dg.t1.v1", ...extra };
}

function makeList(pageSize = 50): { list: KeyedAlarmList<FakeRow>; parent: FakeParent; draw: () => void; states: ListState[] } {
  const parent = new FakeParent();
  const queue: (() => void)[] = [];
  const states: ListState[] = [];
  const list = new KeyedAlarmList<FakeRow>(parent, renderer, pageSize, (d) => queue.push(d), (s) => states.push(s));
  const draw = () => queue.splice(0).forEach((d) => d());
  return { list, parent, draw, states };
}

describe("priority order", () => {
  it("puts fire before supervisory before fault, undecided first, raised priority first, newest first", () => {
    const items = [alarm(1, "fault"), alarm(2, "fire", "confirmed"), alarm(3, "fire"), alarm(4, "supervisory"), alarm(5, "fire", "new", { priority: 1 }), alarm(6, "fault")];
    expect(items.sort(compareAlarms).map((a) => a.alarm_id)).toEqual([5, 3, 2, 4, 6, 1]);
  });
});

describe("filters", () => {
  it("selects by text, area, type, status and time", () => {
    const a = alarm(7, "fault", "acknowledged", { venue_name: "东城酒店", jurisdiction_path: "dg.t2.v3", opened_at: "2026-01-02T00:00:00Z" });
    expect(matches(a, DEFAULT_FILTER)).toBe(true);
    expect(matches(a, { ...DEFAULT_FILTER, text: "酒店" })).toBe(true);
    expect(matches(a, { ...DEFAULT_FILTER, text: "#7" })).toBe(true);
    expect(matches(a, { ...DEFAULT_FILTER, text: "学校" })).toBe(false);
    expect(matches(a, { ...DEFAULT_FILTER, area: "dg.t2" })).toBe(true);
    expect(matches(a, { ...DEFAULT_FILTER, area: "dg.t1" })).toBe(false);
    expect(matches(a, { ...DEFAULT_FILTER, kind: "fire" })).toBe(false);
    expect(matches(a, { ...DEFAULT_FILTER, status: "new" })).toBe(false);
    expect(matches({ ...a, status: "closed" }, DEFAULT_FILTER)).toBe(false);
    expect(matches({ ...a, status: "closed" }, { ...DEFAULT_FILTER, status: "all" })).toBe(true);
    expect(matches(a, { ...DEFAULT_FILTER, sinceMs: Date.parse("2026-01-03T00:00:00Z") })).toBe(false);
  });
});

describe("keyed alarm list", () => {
  it("coalesces a storm into one draw and keeps each row's element", () => {
    const { list, parent, draw } = makeList();
    for (let i = 1; i <= 100; i++) list.upsert(alarm(i));
    expect(parent.children).toHaveLength(0); // nothing drawn before the frame
    draw();
    expect(list.counts.draws).toBe(1);
    expect(parent.ids()).toEqual(Array.from({ length: 50 }, (_, i) => 100 - i));
    const row90 = list.rowOf(90);
    list.upsert(alarm(90, "fault", "new", { venue_name: "renamed" }));
    list.upsert(alarm(89)); // unchanged content: no update
    draw();
    expect(list.rowOf(90)).toBe(row90); // same element, updated in place
    expect(row90?.text).toBe("fault:new:renamed");
    expect(list.counts).toMatchObject({ created: 50, updated: 1 });
  });

  it("places a new alarm by priority without recreating the others", () => {
    const { list, parent, draw } = makeList();
    [1, 2, 3].forEach((i) => list.upsert(alarm(i)));
    draw();
    list.upsert(alarm(4, "fire"));
    list.upsert(alarm(5));
    draw();
    expect(parent.ids()).toEqual([4, 5, 3, 2, 1]);
    expect(list.counts.created).toBe(5);
    expect(list.counts.moved).toBe(0);
  });

  it("reorders with moves when priorities change, and matches a full sort", () => {
    const { list, parent, draw } = makeList();
    for (let i = 1; i <= 20; i++) list.upsert(alarm(i, i % 3 === 0 ? "supervisory" : "fault"));
    draw();
    for (const i of [2, 7, 11]) list.upsert(alarm(i, "fire"));
    list.upsert(alarm(9, "supervisory", "confirmed"));
    draw();
    expect(parent.ids()).toEqual(list.ordered().map((a) => a.alarm_id));
    expect(list.counts.created).toBe(20);
  });

  it("holds still while held: rows keep their places, new ones wait, then take theirs", () => {
    const { list, parent, draw, states } = makeList();
    for (let i = 1; i <= 10; i++) list.upsert(alarm(i));
    draw();
    const before = parent.ids();
    const third = parent.children[2];
    list.hold(true);
    for (let i = 11; i <= 40; i++) list.upsert(alarm(i)); // a storm while the pointer is on the list
    list.upsert(alarm(5, "fault", "closed")); // filtered out, but stays in place while held
    list.upsert(alarm(41, "fire"));
    draw();
    expect(parent.ids()).toEqual(before);
    expect(parent.children[2]).toBe(third);
    expect(states.at(-1)?.pending).toBe(31);
    list.hold(false);
    draw();
    expect(parent.ids()[0]).toBe(41);
    expect(parent.ids()).not.toContain(5);
    expect(parent.ids()).toEqual(list.ordered().slice(0, 50).map((a) => a.alarm_id));
    expect(states.at(-1)?.pending).toBe(0);
  });

  it("pages over the ordered alarms", () => {
    const { list, parent, draw, states } = makeList(10);
    for (let i = 1; i <= 25; i++) list.upsert(alarm(i));
    draw();
    list.setPage(2);
    expect(parent.ids()).toEqual([5, 4, 3, 2, 1]);
    expect(states.at(-1)).toMatchObject({ page: 2, pages: 3, total: 25 });
    list.setFilter({ ...DEFAULT_FILTER, text: "V1" }); // V1, V10..V19
    expect(list.page).toBe(0);
    expect(parent.ids()).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
    draw();
  });

  it("offers only new faults for bulk acknowledgement", () => {
    expect(bulkCandidates([alarm(1), alarm(2, "fire"), alarm(3, "fault", "acknowledged"), alarm(4)])).toEqual([1, 4]);
  });
});
