// The grid worker's outbox: submissions made on the phone (an inspection with its photo, a
// hazard's rectification) are kept on the phone (IndexedDB) with a key made on the phone,
// and sent when the network is there — on the `online` event, at once when online, and
// again with back-off after a failure. The server treats a repeat of a key as the first
// submission (Idempotency-Key), so a submission whose answer was lost is never duplicated.

export type SubmissionKind = "inspection" | "rectify";

export interface Submission {
  key: string; // Idempotency-Key, made here, one per submission
  kind: SubmissionKind;
  username: string; // only the one who made it sends it
  label: string; // what the list shows (the venue, the hazard)
  createdAt: string;
  body?: unknown; // inspection: the JSON body
  hazardId?: number; // rectify
  note?: string; // rectify
  photo?: Blob | null;
  photoName?: string;
  inspectionId?: number; // inspection: set once the inspection is stored, before its photo
  attempts: number;
  nextAt: number; // epoch ms: not before
  lastError?: string;
  failed?: boolean; // refused by the server (4xx): kept for the worker to see, not retried
}

export interface SubmissionStore {
  all(): Promise<Submission[]>;
  put(item: Submission): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Thrown by a sender: `retry` false when the server refused the submission itself. */
export class SendError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

export type Sender = (item: Submission, update: (change: Partial<Submission>) => Promise<void>) => Promise<void>;

export interface QueueState {
  pending: number;
  failed: number;
  sending: boolean;
}

export const MIN_DELAY_MS = 2000;
export const MAX_DELAY_MS = 120_000;

/** Back-off after `attempts` failures: 2 s, 4 s, 8 s … up to 2 min, with ±20 % jitter. */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** A key no other submission of this phone will have (crypto random where available). */
export function newKey(prefix = "fg"): string {
  const cryptoObj = (globalThis as { crypto?: Crypto }).crypto;
  if (cryptoObj && typeof cryptoObj.randomUUID === "function") return `${prefix}-${cryptoObj.randomUUID()}`;
  const bytes = new Uint8Array(16);
  if (cryptoObj) cryptoObj.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export class MemoryStore implements SubmissionStore {
  private items = new Map<string, Submission>();
  async all(): Promise<Submission[]> {
    return [...this.items.values()].map((x) => ({ ...x }));
  }
  async put(item: Submission): Promise<void> {
    this.items.set(item.key, { ...item });
  }
  async delete(key: string): Promise<void> {
    this.items.delete(key);
  }
}

/** Submissions in IndexedDB (blobs included), so they survive a reload or a closed tab. */
export class IdbStore implements SubmissionStore {
  private db: Promise<IDBDatabase>;

  constructor(name = "firegrid-outbox") {
    this.db = new Promise((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore("submissions", { keyPath: "key" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  private async run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.db;
    return new Promise((resolve, reject) => {
      const tx = db.transaction("submissions", mode);
      const request = work(tx.objectStore("submissions"));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  async all(): Promise<Submission[]> {
    return (await this.run("readonly", (s) => s.getAll())) as Submission[];
  }
  async put(item: Submission): Promise<void> {
    await this.run("readwrite", (s) => s.put(item));
  }
  async delete(key: string): Promise<void> {
    await this.run("readwrite", (s) => s.delete(key));
  }
}

export interface OutboxOptions {
  store: SubmissionStore;
  send: Sender;
  username: () => string;
  online?: () => boolean;
  now?: () => number;
  schedule?: (fn: () => void, ms: number) => unknown;
  cancel?: (handle: unknown) => void;
}

/** The queue: add, flush in creation order, retry with back-off, report its state. */
export class Outbox {
  private listeners = new Set<(state: QueueState) => void>();
  private flushing: Promise<void> | null = null;
  private timer: unknown = null;
  private state: QueueState = { pending: 0, failed: 0, sending: false };

  constructor(private options: OutboxOptions) {}

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  private get online(): boolean {
    return (this.options.online ?? (() => typeof navigator === "undefined" || navigator.onLine !== false))();
  }

  /** Keep a submission and try to send it at once (when online). */
  async add(item: Omit<Submission, "attempts" | "nextAt" | "username" | "createdAt"> & Partial<Submission>): Promise<Submission> {
    const full: Submission = { attempts: 0, nextAt: 0, username: this.options.username(), createdAt: new Date(this.now).toISOString(), ...item };
    await this.options.store.put(full);
    await this.refresh();
    void this.flush();
    return full;
  }

  async items(): Promise<Submission[]> {
    const mine = (await this.options.store.all()).filter((x) => x.username === this.options.username());
    return mine.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async discard(key: string): Promise<void> {
    await this.options.store.delete(key);
    await this.refresh();
  }

  onChange(fn: (state: QueueState) => void): () => void {
    this.listeners.add(fn);
    fn(this.state);
    return () => this.listeners.delete(fn);
  }

  async refresh(): Promise<QueueState> {
    const items = await this.items();
    this.state = {
      pending: items.filter((x) => !x.failed).length,
      failed: items.filter((x) => x.failed).length,
      sending: this.flushing !== null,
    };
    this.listeners.forEach((fn) => fn(this.state));
    return this.state;
  }

  /** Send what is due; one flush at a time (a second call waits for the running one). */
  flush(force = false): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.run(force).finally(() => {
      this.flushing = null;
      void this.refresh();
    });
    return this.flushing;
  }

  private async run(force: boolean): Promise<void> {
    if (!this.online) return;
    await this.refresh();
    for (const item of await this.items()) {
      if (item.failed) continue;
      if (!force && item.nextAt > this.now) continue;
      if (!this.online) break;
      const update = async (change: Partial<Submission>) => {
        Object.assign(item, change);
        await this.options.store.put(item);
      };
      try {
        await this.options.send(item, update);
        await this.options.store.delete(item.key);
      } catch (err) {
        const retry = !(err instanceof SendError) || err.retry;
        const attempts = item.attempts + 1;
        await update({
          attempts,
          lastError: err instanceof Error ? err.message : String(err),
          failed: !retry,
          nextAt: retry ? this.now + retryDelayMs(attempts) : item.nextAt,
        });
        if (retry) break; // the network or the server is down: keep the order, wait
      }
    }
    this.plan();
  }

  /** Wake up when the earliest retry is due. */
  private plan(): void {
    const cancel = this.options.cancel ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));
    const schedule = this.options.schedule ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    if (this.timer !== null) cancel(this.timer);
    this.timer = null;
    void this.items().then((items) => {
      const due = items.filter((x) => !x.failed).map((x) => x.nextAt);
      if (!due.length) return;
      const wait = Math.max(250, Math.min(...due) - this.now);
      this.timer = schedule(() => {
        this.timer = null;
        void this.flush();
      }, wait);
    });
  }
}
