// Texts the server shows to people arrive as a stable code plus parameters next to the
// English sentence (see src/firegrid/core/texts.py). The console says them in the reader's
// language: `server.<code>` of the locale files, its `{param}`s filled in; a status or a kind
// (`entityKind.<kind>`) among the parameters is itself translated. An unknown code (a newer server) shows the English text.
// Pure: no DOM, no shared state (unit-tested).

export type Translate = (key: string, params?: Record<string, string | number>) => string;
export type ServerParams = Record<string, string | number | boolean | null | undefined>;

/** Parameters translated through a label group whatever the code (an outcome, a reason). */
const PARAM_GROUP: Record<string, string> = { outcome: "taskResult", reason: "falseReason", method: "server.method", review_state: "reviewState", role: "roles" };
/** Optional parameters the sentence does not hold: appended when not empty (`server.suffix.<name>`). */
const SUFFIX_PARAMS = ["reason", "note"];

/** Parameters that name a kind of thing (`venue`, `incident`, a level such as `town`): translated
 * through `entityKind`, or the group of a code family whose kinds are its own. */
const KIND_PARAMS = new Set(["kind", "parent_kind", "expected_kind"]);
const KIND_GROUP: Record<string, string> = { timeline: "aidKind" };

/** Parameters that name a status, and the label group of each code family's statuses. */
const STATUS_PARAMS = new Set(["from", "to", "status", "expected"]);
const STATUS_GROUP: Record<string, string> = {
  alarm: "alarmStatus",
  unit: "unitStatus",
  incident: "incidentStatus",
  task: "taskStatus",
  timeline: "unitStatus",
  aid: "assignmentStatus",
  preplan: "planStatus",
};

/** The sentence of `code` with `params`, or `fallback` (the server's English) when unknown. */
export function serverText(tr: Translate, code: string | null | undefined, params: ServerParams | null | undefined, fallback: string): string {
  if (!code) return fallback;
  const key = `server.${code}`;
  const family = code.split(".")[0] ?? "";
  const filled: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === null || value === undefined) filled[name] = "—";
    else if (typeof value === "boolean") filled[name] = String(value);
    else if (typeof value === "string" && (PARAM_GROUP[name] || KIND_PARAMS.has(name) || (STATUS_PARAMS.has(name) && STATUS_GROUP[family]))) {
      const group = PARAM_GROUP[name] ?? (KIND_PARAMS.has(name) ? (KIND_GROUP[family] ?? "entityKind") : STATUS_GROUP[family]);
      const labelKey = `${group}.${value}`;
      const label = tr(labelKey);
      filled[name] = label === labelKey ? value : label;
    } else filled[name] = value;
  }
  const text = tr(key, filled);
  if (text === key) return fallback;
  const suffixes = SUFFIX_PARAMS.filter((name) => params?.[name] !== undefined && params[name] !== null && params[name] !== "" && !tr(`${key}`).includes(`{${name}}`));
  return text + suffixes.map((name) => tr(`server.suffix.${name}`, { [name]: filled[name] })).join("");
}

/** A record carrying `<field>`, `<field>_code` and `<field>_params` (timeline cause, geocoder reason). */
export function fieldText(tr: Translate, row: Record<string, unknown>, field: string): string {
  const fallback = typeof row[field] === "string" ? (row[field] as string) : "";
  const code = row[`${field}_code`];
  const params = row[`${field}_params`];
  return serverText(tr, typeof code === "string" ? code : null, (params ?? null) as ServerParams | null, fallback);
}

/** The problems of a refused request (`details` of a 422: `[{code, params, msg}]`), or "". */
export function validationText(tr: Translate, details: unknown): string {
  if (!Array.isArray(details)) return "";
  return details
    .filter((p): p is { code: string; params?: ServerParams; msg?: string } => !!p && typeof p === "object" && typeof (p as { code?: unknown }).code === "string")
    .map((p) => serverText(tr, p.code, p.params, p.msg ?? p.code))
    .join("；");
}

/** One bad row of an import (`details.errors[]`): its `code`/`params`, or its English reason. */
export function rowErrorText(tr: Translate, row: { reason?: string; code?: unknown; params?: unknown }): string {
  return serverText(tr, typeof row.code === "string" ? row.code : null, (row.params ?? null) as ServerParams | null, row.reason ?? "");
}
