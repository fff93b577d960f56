// A refused action (409: the state does not allow it now) in the reader's language: a text
// per action, never the server's English. Pure (unit-tested).

import { ApiError } from "./api";

/** The i18n key telling why `action` was refused, or null when `err` is not a refusal. */
export function refusalKey(err: unknown, action: string): string | null {
  if (!(err instanceof ApiError) || err.status !== 409) return null;
  return `refused.${action}`;
}
