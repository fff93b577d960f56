import { describe, expect, it } from "vitest";
import { LIVE_EVENT_TYPES } from "../src/live";
import { linkAlertKey, linkAlertParams } from "../src/linkalert";

describe("link alerts on the live channel", () => {
  it("are listened to", () => {
    expect(LIVE_EVENT_TYPES).toContain("link.alert");
    expect(LIVE_EVENT_TYPES).toContain("link.alert_cleared");
  });

  it("raise and clear the same alert key per link and peer", () => {
    const raised = { type: "link.alert", link: "link110", peer: "dg110", overdue: 3, ack_timeout_s: 30 };
    const cleared = { type: "link.alert_cleared", link: "link110", peer: "dg110" };
    expect(linkAlertKey(raised)).toBe("link:link110:dg110");
    expect(linkAlertKey(cleared)).toBe(linkAlertKey(raised));
    expect(linkAlertKey({ type: "link.alert", link: "link110", peer: "other" })).not.toBe(linkAlertKey(raised));
    expect(linkAlertKey({ type: "alarm.new", link: "link110", peer: "dg110" })).toBeNull();
    expect(linkAlertKey({ type: "link.alert" })).toBeNull();
  });

  it("names the peer, the overdue count and the timeout", () => {
    expect(linkAlertParams({ type: "link.alert", peer: "dg110", peer_name: "东莞110", overdue: 3, ack_timeout_s: 30 })).toEqual({
      peer: "东莞110",
      n: 3,
      s: 30,
    });
    expect(linkAlertParams({ type: "link.alert", peer: "dg110" })).toEqual({ peer: "dg110", n: 0, s: 0 });
  });
});
