import { describe, expect, it } from "vitest";
import { backoffDelay } from "../src/feed";

describe("feed reconnect back-off (the live channel's)", () => {
  it("doubles and is capped", () => {
    expect(backoffDelay(0)).toBe(1000);
    expect(backoffDelay(3)).toBe(8000);
    expect(backoffDelay(20)).toBe(30000);
  });
});
