import { describe, expect, it } from "vitest";
import { I18n, interpolate, lookup, type Dict } from "../src/i18n";
import en from "../src/locales/en.json";
import zh from "../src/locales/zh-CN.json";

const dicts = { "zh-CN": zh as Dict, en: en as Dict };

function keys(dict: Dict, prefix = ""): string[] {
  return Object.entries(dict).flatMap(([k, v]) => (typeof v === "string" ? [prefix + k] : keys(v, `${prefix}${k}.`)));
}

describe("i18n lookup", () => {
  it("defaults to Simplified Chinese", () => {
    const i18n = new I18n(dicts);
    expect(i18n.locale).toBe("zh-CN");
    expect(i18n.t("nav.monitor")).toBe("监控中心");
  });

  it("switches to English and notifies listeners", () => {
    const i18n = new I18n(dicts);
    let calls = 0;
    i18n.onChange(() => calls++);
    i18n.setLocale("en");
    expect(i18n.t("nav.monitor")).toBe("Monitoring");
    i18n.setLocale("fr");
    expect(i18n.locale).toBe("en");
    expect(calls).toBe(1);
  });

  it("falls back to zh-CN, then to the key", () => {
    const i18n = new I18n({ "zh-CN": { a: { b: "中文" }, only: "仅中文" }, en: { a: { b: "English" } } }, "en");
    expect(i18n.t("a.b")).toBe("English");
    expect(i18n.t("only")).toBe("仅中文");
    expect(i18n.t("missing.key")).toBe("missing.key");
    expect(lookup({ a: "x" }, "a.b")).toBeUndefined();
  });

  it("interpolates parameters and leaves unknown ones", () => {
    expect(interpolate("{n} 辆车 {x}", { n: 3 })).toBe("3 辆车 {x}");
    const i18n = new I18n(dicts, "en");
    expect(i18n.t("dispatch.dispatched", { n: 2 })).toBe("2 unit(s) dispatched");
  });

  it("labels enumerations, or shows the raw value when unknown", () => {
    const i18n = new I18n(dicts);
    expect(i18n.label("alarmStatus", "verifying")).toBe("核查中");
    expect(i18n.label("alarmStatus", "weird")).toBe("weird");
    expect(i18n.label("alarmStatus", null)).toBe("—");
  });

  it("has the same keys in both locales", () => {
    expect(keys(en as Dict).sort()).toEqual(keys(zh as Dict).sort());
  });

  it("has every key the source uses, in both locales", () => {
    const sources = import.meta.glob("../src/**/*.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
    expect(Object.keys(sources).length).toBeGreaterThan(10);
    const used = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const m of text.matchAll(/\bt\("([a-zA-Z][\w.-]*)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((k) => lookup(zh as Dict, k) === undefined || lookup(en as Dict, k) === undefined);
    expect(missing).toEqual([]);
  });
});
