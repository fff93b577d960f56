// Navigation by role: which views a signed-in user sees, and where they land.

export type ViewId =
  | "monitor"
  | "policy"
  | "dispatch"
  | "planning"
  | "risk"
  | "analytics"
  | "performance"
  | "installations"
  | "data"
  | "venue"
  | "preplans"
  | "tasks"
  | "rounds"
  | "crew"
  | "link110"
  | "admin";

export const VIEW_ROLES: Record<ViewId, readonly string[]> = {
  monitor: ["monitor_operator", "monitor_supervisor", "commander", "admin"],
  policy: ["monitor_supervisor", "admin"],
  dispatch: ["dispatcher", "commander", "admin"],
  planning: ["analyst", "commander", "admin", "planner"],
  risk: ["analyst", "commander", "admin"],
  analytics: ["analyst", "commander", "dispatcher", "admin"],
  data: ["admin", "analyst", "commander", "dispatcher", "monitor_operator", "monitor_supervisor"],
  // the venue manager's own venues: devices, open alarms, hazards, work orders, plans
  venue: ["venue_manager"],
  // pre-incident plans: officers write and publish, the centre sees overdue reviews, a venue
  // manager proposes changes to its own venue's plan
  preplans: ["commander", "admin", "monitor_operator", "monitor_supervisor", "dispatcher", "venue_manager"],
  tasks: ["grid_worker", "admin"],
  // the grid worker's phone: today's visits, inspections, hazards' rectification orders
  rounds: ["grid_worker"],
  // town and village leaders (analyst, commander scoped to their town): grid-worker figures
  performance: ["analyst", "commander", "admin"],
  installations: ["analyst", "commander", "admin"],
  crew: ["dispatcher", "commander", "admin"],
  link110: ["police_liaison", "dispatcher", "commander", "monitor_supervisor", "admin"],
  // users, API keys, audit search, work orders, quarantined devices (and a link to the policy)
  admin: ["admin"],
};

/** Roles the console refuses by name (machine accounts: they use the API, not a page). */
export const MACHINE_ROLES: readonly string[] = ["integration"];

export const VIEW_ORDER: ViewId[] = [
  "monitor",
  "policy",
  "dispatch",
  "planning",
  "risk",
  "analytics",
  "performance",
  "installations",
  "data",
  "venue",
  "preplans",
  "tasks",
  "rounds",
  "crew",
  "link110",
  "admin",
];

export function viewsForRole(role: string): ViewId[] {
  return VIEW_ORDER.filter((v) => VIEW_ROLES[v].includes(role));
}

export function landingView(role: string): ViewId | null {
  return viewsForRole(role)[0] ?? null;
}

/** `#/dispatch/incident/3` → {view: "dispatch", rest: ["incident", "3"]}. */
export function parseHash(hash: string): { view: string; rest: string[] } {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] ?? "", rest: parts.slice(1) };
}

export function canSee(role: string, view: string): boolean {
  return (VIEW_ORDER as string[]).includes(view) && VIEW_ROLES[view as ViewId].includes(role);
}
