import { describe, expect, it } from "vitest";
import { I18n } from "../src/i18n";
import en from "../src/locales/en.json";
import zh from "../src/locales/zh-CN.json";
import { fieldText, rowErrorText, serverMessage, serverText, validationText } from "../src/servertext";

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
    expect(rowErrorText(tr, { reason: "missing field", code: "validation.missing", params: { field: "name" } })).toBe("缺少字段「name」");
    expect(rowErrorText(tr, { reason: "only English" })).toBe("only English");
  });

  it("reads each problem of a bulk or GeoJSON import row in Chinese, its column marked", () => {
    const tr = translator("zh-CN");
    const row = (reason: string, params: Record<string, string | number>) => rowErrorText(tr, { reason, code: "import.row_problem", params });
    expect(row("longer than 40 characters", { field: "code", problem: "string_too_long", max_length: 40 })).toBe("「code」：最多 40 个字符");
    expect(row("'x' is not a whole number", { field: "residents", problem: "int_parsing", value: "x" })).toBe("「residents」：必须是整数");
    expect(row("no UTC offset", { field: "inspected_at", problem: "timezone_naive", value: "2026-11-03T09:30:00" })).toBe("「inspected_at」：必须带时区");
    expect(row("'x' is not one of: passed, hazards_found", { field: "result", problem: "enum", expected: "passed, hazards_found", value: "x" })).toBe(
      "「result」：必须是以下之一：passed, hazards_found",
    );
    expect(row("unknown venue code", { field: "venue_code", problem: "unknown_code", kind: "venue", value: "V9" })).toBe("「venue_code」：找不到编号为「V9」的场所");
    expect(row("code 'A1' appears more than once in the file (line 2)", { field: "code", problem: "duplicate_code", value: "A1", first_line: 2 })).toBe(
      "「code」：编号「A1」在文件中重复出现（首次出现在第 2 行）",
    );
    expect(row("unknown column", { field: "phone", problem: "unknown_column", kind: "population", expected: "code, residents" })).toBe(
      `「phone」：不是${zh.entityKind.population}文件的列；可用的列：code, residents`,
    );
    expect(row("500000 is outside -180…180", { field: "lon", problem: "not_degrees", value: 500000 })).toBe(
      "「lon」：500000 不是以度为单位的经纬度：坐标系不对（文件是否为投影坐标？）",
    );
    expect(row("a ring must end where it starts (closed)", { field: "geometry.coordinates", problem: "ring_not_closed" })).toBe("「geometry.coordinates」：多边形的环必须首尾相接（闭合）");
    // a problem of the whole row (no column): no dangling colon
    expect(row("the feature is not a GeoJSON object", { field: "", problem: "not_feature" })).toBe("该要素不是 GeoJSON 对象");
    expect(rowErrorText(translator("en"), { reason: "x", code: "import.row_problem", params: { field: "", problem: "not_feature" } })).toBe("the feature is not a GeoJSON object");
    expect(rowErrorText(translator("en"), { reason: "x", code: "import.row_problem", params: { field: "code", problem: "code_stored", value: "A1" } })).toBe(
      "“code”: the code A1 is already stored: import with the upsert mode",
    );
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
    expect(validationText(translator("zh-CN"), details)).toBe("「cause」最多 300 个字符；缺少字段「level」");
    expect(validationText(translator("zh-CN"), null)).toBe("");
  });

  it("says a problem code inside the sentence, with its own parameters and the field marked", () => {
    const params = { kind: "alarm_policy", field: "policy.task_due_s", problem: "greater_than_equal", ge: 0, more: 0 };
    expect(serverText(translator("zh-CN"), "document.invalid", params, "x")).toBe(`${zh.entityKind.alarm_policy}无效：「policy.task_due_s」不能小于 0`);
    expect(serverText(translator("en"), "document.invalid", params, "x")).toBe("The alarm policy is not valid: “policy.task_due_s” must be at least 0");
    // more problems than the one said: counted after the sentence
    expect(serverText(translator("zh-CN"), "document.invalid", { ...params, more: 2 }, "x")).toMatch(/不能小于 0（另有 2 处问题）$/);
    // no field: no empty marks, no stray space
    const whole = { kind: "alarm_policy", field: "", problem: "not_mapping" };
    expect(serverText(translator("zh-CN"), "document.invalid", whole, "x")).toBe(`${zh.entityKind.alarm_policy}无效：${zh.problem.not_mapping}`);
    // several fields, each marked
    const fields = { file: "calls.jsonl", line: 4, problem: "fields_missing", fields: "lon, lat" };
    expect(serverText(translator("zh-CN"), "file.line_invalid", fields, "x")).toBe("calls.jsonl 第 4 行有误：缺少「lon」、「lat」");
  });

  it("keeps a third-party detail out of the sentence, verbatim and apart", () => {
    const detail = "new-line character seen in unquoted field - do you need to open the file with newline=''?";
    const params = { file: "CSV", line: 3, problem: "csv_malformed", detail };
    const message = serverMessage(translator("zh-CN"), "file.line_invalid", params, "the English");
    expect(message.text).toBe(`CSV 第 3 行有误：${zh.problem.csv_malformed}`);
    expect(message.text).not.toMatch(/[A-Za-z]{4,}/); // no English word inside the Chinese sentence
    expect(message.detail).toBe(detail);
    expect(serverText(translator("zh-CN"), "file.line_invalid", params, "x")).toBe(`${message.text} — ${detail}`);
    // an unknown code: the server's English, which already says it
    expect(serverMessage(translator("zh-CN"), "newer.code", params, "the English")).toEqual({ text: "the English", detail: "" });
  });

  it("translates the travel-time engine's error token, an unknown one as detail", () => {
    expect(serverText(translator("zh-CN"), "geo.refused", { error: "no_route" }, "x")).toBe(`路网行程时间计算无法完成（${zh.problem.no_route}）`);
    expect(serverText(translator("en"), "geo.refused", { error: "point_off_network" }, "x")).toBe(`The travel-time engine cannot answer (${en.problem.point_off_network})`);
    const unknown = serverMessage(translator("zh-CN"), "geo.refused", { error: "geo_error", detail: "brand_new_token" }, "x");
    expect(unknown).toEqual({ text: `路网行程时间计算无法完成（${zh.problem.geo_error}）`, detail: "brand_new_token" });
    // an older server's English problem is shown as it came
    expect(serverText(translator("zh-CN"), "geo.bad_boundary", { problem: "self-intersection?" }, "x")).toBe("边界不是有效的多边形（self-intersection?）");
  });
});
