// What the grid worker's pages read, kept on the phone for offline use: today's due list,
// the checklists and the hazard categories (each refreshed when the network answers).

import { api } from "../ctx";

export interface DueEntry {
  venue_id: number;
  venue_code: string;
  venue_name: string;
  category: string;
  grid_code: string;
  grade: string;
  colour: string;
  checklist: string;
  last_inspected_at: string | null;
  due_on: string;
  status: string;
  overdue_days: number;
  escalation: string;
  grid_worker_ids: number[];
  lon: number | null;
  lat: number | null;
  address: string;
}

export interface Checklist {
  code: string;
  name_zh: string;
  name_en: string;
  items: { code: string; zh: string; en: string }[];
}

export interface HazardCategory {
  code: string;
  name_zh: string;
  name_en: string;
  deadline_days: Record<string, number>;
}

export interface Cached<T> {
  value: T;
  at: string; // when the server gave it
  fresh: boolean; // false: the network failed, this is the phone's copy
}

const PREFIX = "firegrid.rounds.";

function readStored<T>(name: string): { value: T; at: string } | null {
  try {
    const text = localStorage.getItem(PREFIX + name);
    return text ? (JSON.parse(text) as { value: T; at: string }) : null;
  } catch {
    return null;
  }
}

/** The server's answer, stored; or the stored copy when the phone is offline. */
export async function cached<T>(name: string, load: () => Promise<T>): Promise<Cached<T>> {
  try {
    const value = await load();
    const at = new Date().toISOString();
    try {
      localStorage.setItem(PREFIX + name, JSON.stringify({ value, at }));
    } catch {
      /* full or private mode: still answer */
    }
    return { value, at, fresh: true };
  } catch (err) {
    const stored = readStored<T>(name);
    if (stored) return { ...stored, fresh: false };
    throw err;
  }
}

export function dueList(): Promise<Cached<DueEntry[]>> {
  return cached("due", async () => (await api.get<{ items: DueEntry[] }>("/inspections/due", { limit: 500 })).items);
}

export function checklists(): Promise<Cached<Record<string, Checklist>>> {
  return cached("checklists", async () => {
    const out: Record<string, Checklist> = {};
    for (const c of (await api.get<{ items: Checklist[] }>("/inspections/checklists")).items) out[c.code] = c;
    return out;
  });
}

export function hazardCategories(): Promise<Cached<HazardCategory[]>> {
  return cached("categories", () => api.get<HazardCategory[]>("/hazards/categories"));
}

/** Visits submitted on this phone today (sent or still queued): kept off the due list. */
export function markVisited(venueId: number): void {
  const today = new Date().toDateString();
  const stored = readStored<number[]>(`visited.${today}`);
  const ids = new Set(stored?.value ?? []);
  ids.add(venueId);
  try {
    localStorage.setItem(`${PREFIX}visited.${today}`, JSON.stringify({ value: [...ids], at: new Date().toISOString() }));
  } catch {
    /* private mode */
  }
}

export function visitedToday(): Set<number> {
  return new Set(readStored<number[]>(`visited.${new Date().toDateString()}`)?.value ?? []);
}
