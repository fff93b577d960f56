// Problems of a refused policy save (`error.details.problems`), in the reader's language.
// Pure: no DOM, no shared state (unit-tested).

import { ApiError } from "./api";

export interface Problem {
  field: string;
  code: string;
  message: string;
  params?: Record<string, unknown>;
}

/** A problem in the reader's language: the policy's own text of the code, else the shared `problem.<code>`
 * (a value's problem: `greater_than_equal`, `not_list` …), else the server's text. */
export function problemText(p: Problem, tr: (key: string, params?: Record<string, string | number>) => string): string {
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(p.params ?? {})) params[k] = Array.isArray(v) ? v.join(", ") : String(v);
  const key = `policy.problems.${p.code}`;
  const text = tr(key, params);
  if (text !== key) return text;
  const shared = tr(`problem.${p.code}`, params);
  if (shared === `problem.${p.code}`) return p.message;
  // a third-party message no code says: verbatim, after the translated words (an `invalid`
  // problem of an older server carries it as its message)
  const detail = params.detail ?? (p.code === "invalid" ? p.message : "");
  return detail ? `${shared} — ${detail}` : shared;
}

/** The problems of a refused save (`error.details.problems`), or none for another error. */
export function problemsOf(err: unknown): Problem[] {
  if (!(err instanceof ApiError) || err.status !== 422) return [];
  const details = err.details as { problems?: Problem[] } | null;
  return Array.isArray(details?.problems) ? details.problems : [];
}
