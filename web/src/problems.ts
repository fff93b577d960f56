// Problems of a refused policy save (`error.details.problems`), in the reader's language.
// Pure: no DOM, no shared state (unit-tested).

import { ApiError } from "./api";

export interface Problem {
  field: string;
  code: string;
  message: string;
  params?: Record<string, unknown>;
}

/** A problem in the reader's language: a known code with its parameters, else the server's text. */
export function problemText(p: Problem, tr: (key: string, params?: Record<string, string | number>) => string): string {
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(p.params ?? {})) params[k] = Array.isArray(v) ? v.join(", ") : String(v);
  const key = `policy.problems.${p.code}`;
  const text = tr(key, params);
  return text === key ? p.message : text;
}

/** The problems of a refused save (`error.details.problems`), or none for another error. */
export function problemsOf(err: unknown): Problem[] {
  if (!(err instanceof ApiError) || err.status !== 422) return [];
  const details = err.details as { problems?: Problem[] } | null;
  return Array.isArray(details?.problems) ? details.problems : [];
}
