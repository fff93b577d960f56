import { describe, expect, it } from "vitest";
import { I18n } from "../src/i18n";
import en from "../src/locales/en.json";
import zh from "../src/locales/zh-CN.json";
import { fieldText, rowErrorText, serverText, validationText } from "../src/servertext";

function translator(locale: string) {
  const i18n = new I18n({ "zh-CN": zh, en }, locale);
  return (key: string, params?: Record<string, string | number>) => i18n.t(key, params);
}

describe("server texts", () => {
  it("formats a code's parameters in Chinese and English", () => {
    expect(serverText(translator("zh-CN"), "incident.closed", { incident_id: 12 }, "incident 12 is closed")).toBe("警情 #12 已结案");
    expect(serverText(translator("en"), "incident.closed", { incident_id: 12 }, "incident 12 is closed")).toBe("Incident #12 is closed");
  });

  it("translates the statuses among the parameters", () => {
    const text = serverText(translator("zh-CN"), "unit.transition_refused", { unit: "E1", from: "on_scene", to: "available_in_station" }, "x");
    expect(text).toContain("E1");
    expect(text).toContain(`「${zh.unitStatus.on_scene}」`);
    expect(text).toContain(`「${zh.unitStatus.available_in_station}」`);
    expect(text).not.toContain("on_scene");
  });

  it("translates the kind of thing a refusal names", () => {
    const params = { kind: "venue", id: 7 };
    expect(serverText(translator("zh-CN"), "entity.not_found", params, "venue 7 not found")).toBe(`找不到${zh.entityKind.venue} 7`);
    expect(serverText(translator("en"), "entity.not_found", { kind: "incident", id: 3 }, "x")).toBe("incident 3 not found");
    const parent = { kind: "village", expected_kind: "town", parent_kind: "grid" };
    expect(serverText(translator("zh-CN"), "place.wrong_parent", parent, "x")).toBe(`${zh.entityKind.village}的上级必须是${zh.entityKind.town}，不能是${zh.entityKind.grid}`);
    expect(serverText(translator("zh-CN"), "entity.not_found", { kind: "gizmo", id: 1 }, "x")).toBe("找不到gizmo 1");
    expect(serverText(translator("zh-CN"), "timeline.aid_kind", { kind: "joint_defence" }, "x")).toBe(zh.aidKind.joint_defence);
    expect(serverText(translator("zh-CN"), "access.role", { role: "dispatcher", permission: "users:write" }, "x")).toContain(`「${zh.roles.dispatcher}」`);
  });

  it("falls back to the server's English for no code or an unknown code", () => {
    expect(serverText(translator("zh-CN"), null, {}, "the English")).toBe("the English");
    expect(serverText(translator("zh-CN"), "newer.code", { a: 1 }, "the English")).toBe("the English");
  });

  it("reads a timeline cause, a geocoder reason and an import row error", () => {
    const tr = translator("zh-CN");
    expect(fieldText(tr, { cause: "first unit left", cause_code: "timeline.first_unit_left", cause_params: {} }, "cause")).toBe("首车出动");
    expect(fieldText(tr, { cause: "typed by a person", cause_code: null }, "cause")).toBe("typed by a person");
    expect(fieldText(tr, { reason: "no candidates", reason_code: "geocode.no_candidates" }, "reason")).toBe("没有候选地址");
    expect(rowErrorText(tr, { reason: "missing field", code: "validation.missing", params: { field: "name" } })).toBe("缺少字段 name");
    expect(rowErrorText(tr, { reason: "only English" })).toBe("only English");
  });

  it("shows a missing parameter as a dash, not as {name}", () => {
    expect(serverText(translator("en"), "call.already_linked", { call_id: 3, incident_id: null }, "x")).toBe("Call #3 already belongs to incident #—");
  });

  it("appends an optional reason and note, translating the outcome and the method", () => {
    const tr = translator("zh-CN");
    const params = { method: "call", actor: "monitor", outcome: "false_alarm", reason: "cooking", note: "厨房油烟" };
    expect(serverText(tr, "alarm_cause.decided", params, "x")).toBe("电话核实（monitor）判定：误报（烹饪油烟）：厨房油烟");
    expect(serverText(tr, "alarm_cause.decided", { ...params, reason: "", note: "" }, "x")).toBe("电话核实（monitor）判定：误报");
    expect(serverText(translator("en"), "alarm_cause.closed", { note: "" }, "x")).toBe("Closed");
  });

  it("names each invalid field of a refused request", () => {
    const details = [
      { loc: ["body", "cause"], msg: "String should have at most 300 characters", type: "string_too_long", code: "validation.string_too_long", params: { field: "cause", max_length: 300 } },
      { loc: ["body", "level"], msg: "Field required", type: "missing", code: "validation.missing", params: { field: "level" } },
    ];
    expect(validationText(translator("zh-CN"), details)).toBe("cause 最多 300 个字符；缺少字段 level");
    expect(validationText(translator("zh-CN"), null)).toBe("");
  });
});
