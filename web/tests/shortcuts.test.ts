import { describe, expect, it } from "vitest";
import { isTypingTarget, resolveShortcut, SHORTCUTS, STATUS_KEYS, stepIncident } from "../src/shortcuts";

const body = { tagName: "BODY" };

describe("dispatcher shortcuts", () => {
  it("maps the keys to their actions", () => {
    expect(resolveShortcut({ key: "n", target: body })).toEqual({ action: "newCall" });
    expect(resolveShortcut({ key: "N", target: body })).toEqual({ action: "newCall" });
    expect(resolveShortcut({ key: "d", target: body })).toEqual({ action: "dispatchRecommended" });
    expect(resolveShortcut({ key: "j", target: body })).toEqual({ action: "nextIncident" });
    expect(resolveShortcut({ key: "k", target: body })).toEqual({ action: "previousIncident" });
    expect(resolveShortcut({ key: "?", target: body })).toEqual({ action: "help" });
    expect(resolveShortcut({ key: "x", target: body })).toBeNull();
  });

  it("sets the six unit statuses with 1–6", () => {
    expect(STATUS_KEYS).toHaveLength(6);
    for (let i = 1; i <= 6; i++) expect(resolveShortcut({ key: String(i), target: body })).toEqual({ action: "unitStatus", status: STATUS_KEYS[i - 1] });
    expect(resolveShortcut({ key: "4", target: body })?.status).toBe("on_scene");
    expect(resolveShortcut({ key: "7", target: body })).toBeNull();
  });

  it("never fires while typing, with modifiers or composing", () => {
    for (const target of [{ tagName: "INPUT", type: "text" }, { tagName: "INPUT", type: "tel" }, { tagName: "INPUT", type: "number" }, { tagName: "TEXTAREA" }, { tagName: "SELECT" }, { tagName: "DIV", isContentEditable: true }]) {
      expect(isTypingTarget(target)).toBe(true);
      expect(resolveShortcut({ key: "n", target })).toBeNull();
      expect(resolveShortcut({ key: "1", target })).toBeNull();
    }
    // a checkbox or a button is not typing
    expect(isTypingTarget({ tagName: "INPUT", type: "checkbox" })).toBe(false);
    expect(isTypingTarget({ tagName: "BUTTON" })).toBe(false);
    expect(resolveShortcut({ key: "n", ctrlKey: true, target: body })).toBeNull();
    expect(resolveShortcut({ key: "d", metaKey: true, target: body })).toBeNull();
    expect(resolveShortcut({ key: "1", altKey: true, target: body })).toBeNull();
    expect(resolveShortcut({ key: "n", isComposing: true, target: body })).toBeNull();
    // Escape still closes the help from a field
    expect(resolveShortcut({ key: "Escape", target: { tagName: "INPUT", type: "text" } })).toEqual({ action: "close" });
  });

  it("documents every action once", () => {
    const actions = SHORTCUTS.map((s) => s.action);
    expect(new Set(actions).size).toBe(actions.length);
    const keys = SHORTCUTS.flatMap((s) => s.keys);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("steps through the incidents, wrapping", () => {
    expect(stepIncident([], null, 1)).toBeNull();
    expect(stepIncident([5, 3, 9], null, 1)).toBe(5);
    expect(stepIncident([5, 3, 9], null, -1)).toBe(9);
    expect(stepIncident([5, 3, 9], 5, 1)).toBe(3);
    expect(stepIncident([5, 3, 9], 9, 1)).toBe(5);
    expect(stepIncident([5, 3, 9], 5, -1)).toBe(9);
    expect(stepIncident([5, 3, 9], 42, 1)).toBe(5);
  });
});
