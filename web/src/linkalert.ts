// A peer link's alert (the 110 link) as the monitoring centre sees it on the live channel:
// `link.alert` when a peer leaves messages unacknowledged past the timeout, then
// `link.alert_cleared` when it acknowledges again. One alert per link and peer.

export const LINK_ALERT = "link.alert";
export const LINK_ALERT_CLEARED = "link.alert_cleared";

export interface LinkAlertEvent {
  type: string;
  link?: unknown;
  peer?: unknown;
  peer_name?: unknown;
  overdue?: unknown;
  ack_timeout_s?: unknown;
}

/** The alert centre's key of the alert an event raises or clears (null: not a link alert). */
export function linkAlertKey(ev: LinkAlertEvent): string | null {
  if (ev.type !== LINK_ALERT && ev.type !== LINK_ALERT_CLEARED) return null;
  if (typeof ev.link !== "string" || typeof ev.peer !== "string") return null;
  return `link:${ev.link}:${ev.peer}`;
}

/** The translation parameters of a link alert's text. */
export function linkAlertParams(ev: LinkAlertEvent): Record<string, string | number> {
  const peer = typeof ev.peer_name === "string" && ev.peer_name ? ev.peer_name : String(ev.peer ?? "");
  return {
    peer,
    n: typeof ev.overdue === "number" ? ev.overdue : 0,
    s: typeof ev.ack_timeout_s === "number" ? ev.ack_timeout_s : 0,
  };
}
