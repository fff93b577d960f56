import { describe, expect, it } from "vitest";
import { formatDateTime, formatDuration, formatTime, TIME_ZONE } from "../src/time";

describe("times in Asia/Shanghai", () => {
  it("shows UTC instants in China Standard Time (UTC+8)", () => {
    expect(TIME_ZONE).toBe("Asia/Shanghai");
    expect(formatDateTime("2026-11-25T02:00:00+00:00")).toBe("2026-11-25 10:00:00");
    expect(formatDateTime("2026-11-25T02:00:00Z", "en")).toBe("2026-11-25 10:00:00");
  });

  it("crosses midnight into the next day", () => {
    expect(formatDateTime("2026-12-31T16:30:05Z")).toBe("2027-01-01 00:30:05");
  });

  it("formats the time of day with 24 hours", () => {
    expect(formatTime("2026-11-25T13:04:05Z")).toBe("21:04:05");
    expect(formatTime(Date.UTC(2026, 10, 25, 16, 0, 0))).toBe("00:00:00");
  });

  it("shows a dash for missing or invalid times", () => {
    expect(formatDateTime(null)).toBe("—");
    expect(formatDateTime("not a date")).toBe("—");
    expect(formatTime(undefined)).toBe("—");
  });

  it("formats durations", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(305.4)).toBe("5:05");
    expect(formatDuration(3725)).toBe("1:02:05");
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(Infinity)).toBe("—");
  });
});
