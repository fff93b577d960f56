// The admin forms' rules, checked before anything is sent: a clear problem per field, in
// codes the page translates (`admin.problems.<code>`). Pure (unit-tested).

export type Problems = Record<string, string>;

export interface Checked<T> {
  body: T | null;
  problems: Problems;
}

/** The server's rule (accounts/service.py): lower case, 3–64, letters, digits, _ . - */
const USERNAME = /^[a-z0-9][a-z0-9_.-]{2,63}$/;
/** The password policy's minimum length (accounts/passwords.py). */
export const PASSWORD_MIN = 10;

/** "12, 13 14" → [12, 13, 14]; null when a part is not a positive whole number. */
export function parseIdList(text: string): number[] | null {
  const parts = text.split(/[\s,，、;；]+/).filter(Boolean);
  const ids: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,10}$/.test(part)) return null;
    const n = Number(part);
    if (n < 1 || n > 2_147_483_647) return null;
    if (!ids.includes(n)) ids.push(n);
  }
  return ids;
}

/** Route prefixes, one per line or separated by commas ("devices", "/api/v1/changes"). */
export function parseRoutes(text: string): string[] {
  return [...new Set(text.split(/[\s,，]+/).map((r) => r.trim()).filter(Boolean))];
}

export interface UserForm {
  username: string;
  display_name: string;
  role: string;
  scope_code: string;
  password: string;
  venue_ids: string;
}

export interface UserBody {
  username: string;
  display_name: string;
  role: string;
  scope_code: string;
  password: string | null;
  venue_ids: number[];
}

export function checkUser(form: UserForm, roles: readonly string[]): Checked<UserBody> {
  const problems: Problems = {};
  const username = form.username.trim().toLowerCase();
  if (!username) problems.username = "required";
  else if (!USERNAME.test(username)) problems.username = "username";
  if (!roles.includes(form.role)) problems.role = "role";
  const scope = form.scope_code.trim();
  if (!scope) problems.scope_code = "required";
  else if (scope.length > 32) problems.scope_code = "tooLong";
  if (form.password && form.password.length < PASSWORD_MIN) problems.password = "passwordShort";
  else if (form.password && !(/[A-Za-z]/.test(form.password) && /\d/.test(form.password))) problems.password = "passwordMix";
  if (form.display_name.length > 120) problems.display_name = "tooLong";
  const venues = parseIdList(form.venue_ids);
  if (venues === null) problems.venue_ids = "ids";
  else if (form.role === "venue_manager" && !venues.length) problems.venue_ids = "venueRequired";
  else if (form.role !== "venue_manager" && venues.length) problems.venue_ids = "venuesOnlyManager";
  if (Object.keys(problems).length) return { body: null, problems };
  return {
    body: {
      username,
      display_name: form.display_name.trim(),
      role: form.role,
      scope_code: scope,
      password: form.password ? form.password : null,
      venue_ids: venues ?? [],
    },
    problems,
  };
}

export interface KeyForm {
  name: string;
  role: string;
  scope_code: string;
  routes: string;
  expires_in_days: string;
}

export interface KeyBody {
  name: string;
  role: string;
  scope_code: string;
  routes: string[];
  expires_in_days: number | null;
}

export function checkApiKey(form: KeyForm, roles: readonly string[]): Checked<KeyBody> {
  const problems: Problems = {};
  const name = form.name.trim();
  if (!name) problems.name = "required";
  else if (name.length > 120) problems.name = "tooLong";
  if (!roles.includes(form.role) || form.role === "admin") problems.role = "keyRole";
  const scope = form.scope_code.trim();
  if (!scope) problems.scope_code = "required";
  const routes = parseRoutes(form.routes);
  if (!routes.length) problems.routes = "routesRequired";
  else if (routes.length > 50) problems.routes = "tooMany";
  else if (routes.some((r) => !/^\/?[A-Za-z0-9._~{}-]+(\/[A-Za-z0-9._~{}-]+)*\/?$/.test(r) || r.split("/").some((p) => p === "." || p === ".."))) problems.routes = "route";
  let days: number | null = null;
  if (form.expires_in_days.trim()) {
    days = Number(form.expires_in_days);
    if (!Number.isInteger(days) || days < 1 || days > 3650) problems.expires_in_days = "days";
  }
  if (Object.keys(problems).length) return { body: null, problems };
  return { body: { name, role: form.role, scope_code: scope, routes, expires_in_days: days }, problems };
}

/** A `datetime-local` value (the browser's local time) as ISO 8601 with offset; "" → null. */
export function localToIso(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export interface AuditFilters {
  actor: string;
  action: string;
  kind: string;
  resource_type: string;
  resource_id: string;
  since: string;
  until: string;
}

/** The audit search's query (empty fields left out), or problems (a range that ends first). */
export function auditQuery(f: AuditFilters): Checked<Record<string, string>> {
  const problems: Problems = {};
  const since = localToIso(f.since);
  const until = localToIso(f.until);
  if (f.since && !since) problems.since = "time";
  if (f.until && !until) problems.until = "time";
  if (since && until && since >= until) problems.until = "range";
  if (f.resource_id.trim() && !f.resource_type.trim()) problems.resource_type = "objectType";
  if (Object.keys(problems).length) return { body: null, problems };
  const q: Record<string, string> = {};
  for (const key of ["actor", "action", "kind", "resource_type", "resource_id"] as const) {
    const v = f[key].trim();
    if (v) q[key] = v;
  }
  if (since) q.since = since;
  if (until) q.until = until;
  return { body: q, problems };
}

export interface AdoptForm {
  venue_id: string;
  code: string;
  kind: string;
  install_location: string;
}

export const ADOPT_KINDS = ["transmitter", "smoke_alarm", "sprinkler_pressure", "electrical_monitor"] as const;

export function checkAdopt(form: AdoptForm): Checked<{ venue_id: number; code: string; kind: string; install_location: string }> {
  const problems: Problems = {};
  const ids = parseIdList(form.venue_id);
  if (!form.venue_id.trim()) problems.venue_id = "required";
  else if (ids === null || ids.length !== 1) problems.venue_id = "ids";
  const code = form.code.trim();
  if (!code) problems.code = "required";
  else if (code.length > 40) problems.code = "tooLong";
  if (!(ADOPT_KINDS as readonly string[]).includes(form.kind)) problems.kind = "required";
  if (form.install_location.length > 200) problems.install_location = "tooLong";
  if (Object.keys(problems).length || !ids) return { body: null, problems };
  return { body: { venue_id: ids[0], code, kind: form.kind, install_location: form.install_location.trim() }, problems };
}
