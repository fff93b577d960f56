import { describe, expect, it } from "vitest";
import { ApiError } from "../src/api";
import { I18n, type Dict } from "../src/i18n";
import en from "../src/locales/en.json";
import zh from "../src/locales/zh-CN.json";
import { problemsOf, problemText, type Problem } from "../src/problems";

const i18n = new I18n({ "zh-CN": zh as Dict, en: en as Dict });
const t = (key: string, params?: Record<string, string | number>) => i18n.t(key, params);

const timerOrder: Problem = {
  field: "policy.task_due_s",
  code: "timer_order",
  message: "900 s is not before the shortest auto-forward",
  params: { task_due_s: 900, auto_forward_field: "policy.verify_timeout_s.hospital", auto_forward_s: 120 },
};

describe("policy problems", () => {
  it("translates a known code with its parameters, Chinese by default", () => {
    expect(problemText(timerOrder, t)).toContain("900 秒不早于最短的自动转警时限(120 秒)");
    i18n.setLocale("en");
    expect(problemText(timerOrder, t)).toContain("900 s is not before the shortest auto-forward (120 s)");
    i18n.setLocale("zh-CN");
  });

  it("lists incident types and falls back to the server's text for an unknown code", () => {
    const unknown: Problem = { field: "policy.incident_kind.chemical_plant", code: "unknown_incident_type", message: "x", params: { incident_type: "fire", known: ["building_fire", "hazmat_fire"] } };
    expect(problemText(unknown, t)).toBe("未知的警情类型 fire；调度已有预案的类型：building_fire, hazmat_fire");
    expect(problemText({ field: "policy.x", code: "no_such_code", message: "Input should be greater than 0" }, t)).toBe("Input should be greater than 0");
    // a shared problem code; pydantic's own words for what no code says stay apart, verbatim
    expect(problemText({ field: "policy.x", code: "greater_than", message: "x", params: { gt: 0 } }, t)).toBe("必须大于 0");
    expect(problemText({ field: "policy.x", code: "invalid", message: "x", params: { detail: "Value error, bad" } }, t)).toBe("无效 — Value error, bad");
  });

  it("reads the problems of a refused save only", () => {
    const refused = new ApiError(422, "validation_failed", "invalid policy", { problems: [timerOrder] });
    expect(problemsOf(refused)).toEqual([timerOrder]);
    expect(problemsOf(new ApiError(409, "conflict", "changed meanwhile"))).toEqual([]);
    expect(problemsOf(new Error("x"))).toEqual([]);
  });
});
