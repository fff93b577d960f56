import { describe, expect, it } from "vitest";
import { summarise, type DeviceCommand } from "../src/commands";

function command(id: number, status: string): DeviceCommand {
  return { id, device_code: `D${id}`, venue_code: null, venue_name: null, status, sent_at: null, answered_at: null, result: null };
}

describe("check post results", () => {
  it("counts statuses and is done only when none is queued or sent", () => {
    expect(summarise([command(1, "answered"), command(2, "sent")])).toEqual({ counts: { answered: 1, sent: 1 }, done: false });
    expect(summarise([command(1, "answered"), command(2, "timed_out")]).done).toBe(true);
    expect(summarise([]).done).toBe(false);
  });
});
