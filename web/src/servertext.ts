// Texts the server shows to people arrive as a stable code plus parameters next to the
// English sentence (see src/firegrid/core/texts.py). The console says them in the reader's
// language: `server.<code>` of the locale files, its `{param}`s filled in; a status or a kind
// (`entityKind.<kind>`) among the parameters is itself translated. An unknown code (a newer server) shows the English text.
// A `problem` (or `error`) parameter is a code of its own (`problem.<code>`, its parameters beside it in the same
// flat parameters); a `field`/`fields` parameter names a field of a request or a file's column: shown as-is,
// marked (`server.field`); a `detail` parameter is a third-party message no code says: never put inside the
// sentence, it comes back apart (`ServerMessage.detail`) to be shown verbatim as technical detail.
// Pure: no DOM, no shared state (unit-tested).

export type Translate = (key: string, params?: Record<string, string | number>) => string;
export type ServerParams = Record<string, string | number | boolean | null | undefined>;

/** Parameters translated through a label group whatever the code (an outcome, a reason). */
const PARAM_GROUP: Record<string, string> = { outcome: "taskResult", reason: "falseReason", method: "server.method", review_state: "reviewState", role: "roles" };
/** Optional parameters the sentence does not hold: appended when not empty nor 0 (`server.suffix.<name>`). */
const SUFFIX_PARAMS = ["reason", "note", "more"];
/** Parameters holding a problem code, translated through `problem.<code>` with the other parameters. */
const PROBLEM_PARAMS = new Set(["problem", "error"]);
/** Parameters naming fields (of a request body, a document or a file's columns; `fields`: several, comma-separated). */
const FIELD_PARAMS = new Set(["field", "fields"]);
/** The parameter of a third-party message: shown verbatim, apart from the sentence. */
export const DETAIL_PARAM = "detail";

/** A server sentence in the reader's language and the technical detail to show verbatim beside it ("" when none). */
export interface ServerMessage {
  text: string;
  detail: string;
}

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

/** The sentence of `code` with `params`, or `fallback` (the server's English) when unknown; a `detail` rides along. */
export function serverText(tr: Translate, code: string | null | undefined, params: ServerParams | null | undefined, fallback: string): string {
  return withDetail(serverMessage(tr, code, params, fallback));
}

/** A message as one line of text (a table cell, a status line): the detail after the sentence, set apart. */
export function withDetail(message: ServerMessage): string {
  return message.detail ? `${message.text} — ${message.detail}` : message.text;
}

/** The sentence of `code` with `params` and, apart, its `detail`; `fallback` (the server's English, which already
 * holds any detail) for no code or an unknown one. */
export function serverMessage(tr: Translate, code: string | null | undefined, params: ServerParams | null | undefined, fallback: string): ServerMessage {
  if (!code) return { text: fallback, detail: "" };
  const key = `server.${code}`;
  const family = code.split(".")[0] ?? "";
  const filled: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (PROBLEM_PARAMS.has(name) || name === DETAIL_PARAM) continue;
    if (value === null || value === undefined) filled[name] = "—";
    else if (typeof value === "boolean") filled[name] = String(value);
    else if (typeof value === "string" && FIELD_PARAMS.has(name)) filled[name] = markFields(tr, name === "fields" ? value.split(", ") : [value]);
    else if (typeof value === "string" && (PARAM_GROUP[name] || KIND_PARAMS.has(name) || (STATUS_PARAMS.has(name) && STATUS_GROUP[family]))) {
      const group = PARAM_GROUP[name] ?? (KIND_PARAMS.has(name) ? (KIND_GROUP[family] ?? "entityKind") : STATUS_GROUP[family]);
      filled[name] = label(tr, `${group}.${value}`, value);
    } else filled[name] = value;
  }
  for (const name of PROBLEM_PARAMS) {
    const value = params?.[name];
    if (typeof value === "string") filled[name] = label(tr, `problem.${value}`, value, { ...filled });
    else if (value !== undefined) filled[name] = value === null ? "—" : String(value);
  }
  const text = tr(key, filled);
  if (text === key) return { text: fallback, detail: "" };
  const given = (name: string) => params?.[name] !== undefined && params[name] !== null && params[name] !== "" && params[name] !== 0;
  const suffixes = SUFFIX_PARAMS.filter((name) => given(name) && !tr(key).includes(`{${name}}`));
  const detail = params?.[DETAIL_PARAM];
  return {
    text: tidy(text + suffixes.map((name) => tr(`server.suffix.${name}`, { [name]: filled[name] })).join("")),
    detail: typeof detail === "string" || typeof detail === "number" ? String(detail) : "",
  };
}

/** The label `key` of a group, else the raw `value` (a code this console does not know). */
function label(tr: Translate, key: string, value: string, params?: Record<string, string | number>): string {
  const text = tr(key, params);
  return text === key ? value : text;
}

/** Field names as-is, each marked as a field (`server.field`); none for an empty name. */
function markFields(tr: Translate, names: string[]): string {
  return names
    .filter((n) => n !== "")
    .map((n) => tr("server.field", { field: n }))
    .join(tr("server.fieldSeparator"));
}

/** Spaces left by an empty parameter (`{field} {problem}` without a field), the colon after an empty leading
 * field (`{field}: {problem}` of a row problem of the whole row), and no spaces around full-width marks. */
function tidy(text: string): string {
  return text
    .replace(/^ *[：:] */, "")
    .replace(/ {2,}/g, " ")
    .replace(/ *(「[^」]*」) */g, "$1")
    .replace(/([：（]) +/g, "$1")
    .replace(/ +）/g, "）")
    .trim();
}

/** A record carrying `<field>`, `<field>_code` and `<field>_params` (timeline cause, geocoder reason). */
export function fieldText(tr: Translate, record: object, field: string): string {
  // `object`, not Record<string, unknown>: the generated interfaces have no index signature
  const row = record as Record<string, unknown>;
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
  return withDetail(rowErrorMessage(tr, row));
}

/** One bad row of an import, its technical detail apart (for a page that shows it in a `<code>`). */
export function rowErrorMessage(tr: Translate, row: { reason?: string; code?: unknown; params?: unknown }): ServerMessage {
  return serverMessage(tr, typeof row.code === "string" ? row.code : null, (row.params ?? null) as ServerParams | null, row.reason ?? "");
}
