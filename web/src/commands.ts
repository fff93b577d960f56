// Downstream commands to transmitters (check post, poll): the result rows and their summary.
// Pure (no DOM, no API), so the tests can import it.

export interface DeviceCommand {
  id: number;
  device_code: string | null;
  venue_code: string | null;
  venue_name: string | null;
  status: string;
  sent_at: string | null;
  answered_at: string | null;
  result: { operator_number?: number; answered_in_s?: number; reply_window_s?: number } | null;
}

const OPEN = new Set(["queued", "sent"]);

/** Counts per status of a round's commands, and whether all are finished. */
export function summarise(items: DeviceCommand[]): { counts: Record<string, number>; done: boolean } {
  const counts: Record<string, number> = {};
  for (const c of items) counts[c.status] = (counts[c.status] ?? 0) + 1;
  return { counts, done: items.length > 0 && items.every((c) => !OPEN.has(c.status)) };
}
