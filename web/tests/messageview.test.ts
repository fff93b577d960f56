// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { I18n } from "../src/i18n";
import en from "../src/locales/en.json";
import zh from "../src/locales/zh-CN.json";
import { messageNodes } from "../src/messageview";
import { serverMessage } from "../src/servertext";

const i18n = new I18n({ "zh-CN": zh, en }, "zh-CN");
const tr = (key: string, params?: Record<string, string | number>) => i18n.t(key, params);

function rendered(code: string, params: Record<string, string | number>): HTMLElement {
  const box = document.createElement("div");
  box.append(...messageNodes(serverMessage(tr, code, params, "the English")));
  return box;
}

describe("a server message on the page", () => {
  it("shows the translated sentence, then the technical detail verbatim in its own <code>", () => {
    const detail = "Value error, <b>not</b> a colour & more";
    const box = rendered("document.invalid", { kind: "colour_rules", field: "colours.red.0", problem: "invalid", detail, more: 0 });
    const code = box.querySelector("code.detail");
    expect(code?.textContent).toBe(detail); // as text, never as markup
    expect(box.querySelector("b")).toBeNull();
    const sentence = box.firstChild?.textContent ?? "";
    expect(sentence).toBe(`${zh.entityKind.colour_rules}无效：「colours.red.0」${zh.problem.invalid}`);
    expect(sentence).not.toContain("Value error");
  });

  it("shows no <code> when there is no detail", () => {
    const box = rendered("geo.bad_boundary", { problem: "self_intersection" });
    expect(box.querySelector("code")).toBeNull();
    expect(box.textContent).toBe(`边界不是有效的多边形（${zh.problem.self_intersection}）`);
  });
});
