// The grid worker's outbox wired to the API: one per page, IndexedDB-backed, flushed when
// the phone comes back online. See outbox.ts for the queue itself.

import { ApiError } from "./api";
import { api, errorText, state } from "./ctx";
import { IdbStore, MemoryStore, Outbox, SendError, type Submission } from "./outbox";

export { photoProblem } from "./photo";

/** A refusal the same request would get again (bad data, gone, conflict) is not retried. */
function permanent(err: unknown): boolean {
  return err instanceof ApiError && err.status >= 400 && err.status < 500 && ![401, 403, 408, 413, 429].includes(err.status);
}

async function send(item: Submission, update: (change: Partial<Submission>) => Promise<void>): Promise<void> {
  try {
    if (item.kind === "inspection") {
      let id = item.inspectionId;
      if (id === undefined) {
        const out = await api.request<{ id: number }>("POST", "/inspections", { body: item.body, headers: { "Idempotency-Key": item.key } });
        id = out.id;
        await update({ inspectionId: id });
      }
      if (item.photo) {
        const form = new FormData();
        form.append("photo", item.photo, item.photoName || "photo.jpg");
        await api.request("POST", `/inspections/${id}/photo`, { form, headers: { "Idempotency-Key": `${item.key}.photo` } });
      }
      return;
    }
    const form = new FormData();
    form.append("note", item.note ?? "");
    if (item.photo) form.append("photo", item.photo, item.photoName || "photo.jpg");
    await api.request("POST", `/hazards/${item.hazardId}/rectify`, { form, headers: { "Idempotency-Key": item.key } });
  } catch (err) {
    if (permanent(err)) throw new SendError(errorText(err), false);
    throw err;
  }
}

let outbox: Outbox | null = null;

export function phoneOutbox(): Outbox {
  if (outbox) return outbox;
  const store = typeof indexedDB === "undefined" ? new MemoryStore() : new IdbStore();
  const box = new Outbox({ store, send, username: () => state.me?.username ?? "" });
  window.addEventListener("online", () => void box.flush(true));
  outbox = box;
  return box;
}
