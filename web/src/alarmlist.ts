// The monitoring centre's alarm list that holds still in a storm.
//
// * Keyed rows: one element per alarm id, created once, updated in place only when what it
//   shows changed, moved only when the order changed. No whole-list re-render.
// * Coalesced: a storm of events marks the list dirty; it is drawn once per frame.
// * Holds still under the pointer: while the pointer (or keyboard focus) is in the list the
//   rows on screen keep their places: changed rows update in place, new alarms wait behind a
//   "N new" notice and are placed when the pointer leaves (or the operator asks). What the
//   operator is about to click is what gets clicked.
// * Priority order: fire before supervisory before fault; undecided before decided; a raised
//   priority (night-occupied venues) first; newest first.
// * Filters (text, area, type, status, time) and paging run over the loaded alarms.

export type Kind = "fire" | "supervisory" | "fault";

export interface ListAlarm {
  alarm_id: number;
  kind: Kind;
  status: string;
  priority?: number;
  venue_name: string | null;
  jurisdiction_path?: string | null;
  opened_at: string | null;
  last_event_at?: string | null;
}

export interface ListFilter {
  text: string;
  area: string; // jurisdiction path prefix; "" = all
  kind: Kind | "";
  status: string; // "open", "all" or one status
  sinceMs: number | null; // opened at or after (epoch ms)
}

export const DEFAULT_FILTER: ListFilter = { text: "", area: "", kind: "", status: "open", sinceMs: null };

const KIND_RANK: Record<Kind, number> = { fire: 0, supervisory: 1, fault: 2 };
const STATUS_RANK: Record<string, number> = { new: 0, acknowledged: 1, verifying: 1, confirmed: 2 };
const CLOSED = new Set(["closed"]);

function openedMs(a: ListAlarm): number {
  const text = a.opened_at ?? a.last_event_at;
  return text ? Date.parse(text) : 0;
}

/** Negative when `a` goes above `b`. */
export function compareAlarms(a: ListAlarm, b: ListAlarm): number {
  return (
    KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    (STATUS_RANK[a.status] ?? 3) - (STATUS_RANK[b.status] ?? 3) ||
    (b.priority ?? 0) - (a.priority ?? 0) ||
    b.alarm_id - a.alarm_id
  );
}

export function matches(a: ListAlarm, f: ListFilter): boolean {
  if (f.kind && a.kind !== f.kind) return false;
  if (f.status === "open" && CLOSED.has(a.status)) return false;
  if (f.status !== "open" && f.status !== "all" && a.status !== f.status) return false;
  if (f.area && !(a.jurisdiction_path ?? "").startsWith(f.area)) return false;
  if (f.sinceMs !== null && openedMs(a) < f.sinceMs) return false;
  if (f.text) {
    const needle = f.text.trim().toLowerCase();
    const hay = `${a.venue_name ?? ""} #${a.alarm_id}`.toLowerCase();
    if (needle && !hay.includes(needle)) return false;
  }
  return true;
}

/** What the list needs of its container: the DOM's `insertBefore`/`removeChild` subset. */
export interface RowParent<E> {
  insertBefore(row: E, before: E | null): void;
  removeRow(row: E): void;
}

/** How rows are made and refreshed; `signature` decides whether a row needs an update. */
export interface RowRenderer<E> {
  create(a: ListAlarm): E;
  update(row: E, a: ListAlarm): void;
  signature(a: ListAlarm): string;
}

export type Scheduler = (draw: () => void) => void;

export interface ListState {
  page: number;
  pages: number;
  total: number;
  pending: number; // alarms waiting while the list holds still
}

export class KeyedAlarmList<E, A extends ListAlarm = ListAlarm> {
  readonly alarms = new Map<number, A>();
  private rows = new Map<number, { row: E; sig: string }>();
  private shown: number[] = []; // ids on screen, in order
  private filter: ListFilter = { ...DEFAULT_FILTER };
  private held = false;
  private dirty = false;
  private scheduled = false;
  page = 0;
  private pending = 0;
  /** Rows created, updated, moved and removed since construction (for tests and the bench). */
  readonly counts = { created: 0, updated: 0, moved: 0, removed: 0, draws: 0 };

  constructor(
    private parent: RowParent<E>,
    private renderer: RowRenderer<E>,
    readonly pageSize = 50,
    private schedule: Scheduler = defaultScheduler,
    private onState: (s: ListState) => void = () => {},
  ) {}

  upsert(a: A): void {
    const known = this.alarms.get(a.alarm_id);
    this.alarms.set(a.alarm_id, known ? { ...known, ...a } : a);
    this.invalidate();
  }

  setFilter(f: ListFilter): void {
    this.filter = { ...f };
    this.page = 0;
    this.invalidate(true);
  }

  getFilter(): ListFilter {
    return { ...this.filter };
  }

  setPage(page: number): void {
    this.page = Math.max(0, page);
    this.invalidate(true);
  }

  /** Freeze (true) or release (false) the order of the rows on screen. */
  hold(on: boolean): void {
    if (this.held === on) return;
    this.held = on;
    if (!on) this.invalidate();
  }

  isHeld(): boolean {
    return this.held;
  }

  /** Draw now, placing waiting alarms even while held (the operator asked for them). */
  release(): void {
    this.drawNow(true);
  }

  /** The alarms the filter selects, in priority order (all pages). */
  ordered(): A[] {
    return [...this.alarms.values()].filter((a) => matches(a, this.filter)).sort(compareAlarms);
  }

  visibleIds(): number[] {
    return [...this.shown];
  }

  rowOf(id: number): E | undefined {
    return this.rows.get(id)?.row;
  }

  private invalidate(force = false): void {
    this.dirty = true;
    if (force) {
      this.drawNow(true);
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      if (this.dirty) this.drawNow(false);
    });
  }

  /** Reconcile the rows on screen with the wanted ids (`force`: even while held). */
  drawNow(force: boolean): void {
    this.dirty = false;
    this.counts.draws++;
    const all = this.ordered();
    const pages = Math.max(1, Math.ceil(all.length / this.pageSize));
    if (this.page >= pages) this.page = pages - 1;
    let wanted: number[];
    if (this.held && !force) {
      // keep every row in its place (even one the filter now drops); new ones wait
      const onPage = new Set(all.slice(this.page * this.pageSize, (this.page + 1) * this.pageSize).map((a) => a.alarm_id));
      const shown = new Set(this.shown);
      wanted = this.shown.filter((id) => this.alarms.has(id));
      this.pending = [...onPage].filter((id) => !shown.has(id)).length;
    } else {
      wanted = all.slice(this.page * this.pageSize, (this.page + 1) * this.pageSize).map((a) => a.alarm_id);
      this.pending = 0;
    }
    this.reconcile(wanted);
    this.onState({ page: this.page, pages, total: all.length, pending: this.pending });
  }

  private reconcile(wanted: number[]): void {
    const keep = new Set(wanted);
    for (const id of this.shown) {
      if (keep.has(id)) continue;
      const entry = this.rows.get(id);
      if (entry) {
        this.parent.removeRow(entry.row);
        this.rows.delete(id);
        this.counts.removed++;
      }
    }
    const current = this.shown.filter((id) => keep.has(id));
    // walk the wanted order from the end: each row goes before the one after it
    let next: E | null = null;
    let cursor = current.length - 1;
    for (let i = wanted.length - 1; i >= 0; i--) {
      const id = wanted[i];
      const a = this.alarms.get(id) as A;
      const sig = this.renderer.signature(a);
      let entry = this.rows.get(id);
      if (!entry) {
        entry = { row: this.renderer.create(a), sig };
        this.rows.set(id, entry);
        this.parent.insertBefore(entry.row, next);
        this.counts.created++;
      } else {
        if (entry.sig !== sig) {
          this.renderer.update(entry.row, a);
          entry.sig = sig;
          this.counts.updated++;
        }
        if (current[cursor] === id) {
          cursor--;
        } else {
          this.parent.insertBefore(entry.row, next);
          this.counts.moved++;
          const at = current.indexOf(id); // always at or before the cursor: later ones are placed
          if (at >= 0) {
            current.splice(at, 1);
            cursor--;
          }
        }
      }
      next = entry.row;
    }
    this.shown = wanted;
  }
}

function defaultScheduler(draw: () => void): void {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => draw());
  else setTimeout(draw, 16);
}

/** Run `fn` at most once per `ms` (the last call wins; trailing). */
export function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0 && timer === null) {
      last = Date.now();
      fn();
      return;
    }
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, Math.max(0, wait));
  };
}

/** Fault alarms still `new` among `ids` (what bulk acknowledgement may take). */
export function bulkCandidates(alarms: Iterable<ListAlarm>): number[] {
  return [...alarms].filter((a) => a.kind === "fault" && a.status === "new").map((a) => a.alarm_id);
}
