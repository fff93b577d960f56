import { describe, expect, it } from "vitest";
import template from "../shell/sw.js?raw";
import { shellBuildOf } from "../shell/plugin";
import { ENTRY, LISTED, PAGE, STYLE, VIEW, asset, bundleOf, chunk, fakeBundle } from "./shellfake";

function listedIn(worker: string): string[] {
  const match = /^const PRECACHE_URLS = (\[[^\]]*\]);$/m.exec(worker);
  if (!match) throw new Error("no PRECACHE_URLS in the worker");
  return new Function(`return ${match[1]};`)() as string[];
}

function buildIdIn(worker: string): string {
  const match = /^const BUILD_ID = "([0-9a-f]+)";$/m.exec(worker);
  if (!match) throw new Error("no BUILD_ID in the worker");
  return match[1];
}

describe("the offline shell's worker, written by the build", () => {
  it("lists exactly the page and the bundle's assets, not maps, manifests or itself", async () => {
    const shell = await shellBuildOf(template, fakeBundle());
    expect(shell.precacheUrls).toEqual(LISTED);
    expect(listedIn(shell.worker)).toEqual(LISTED);
    expect(buildIdIn(shell.worker)).toBe(shell.buildId);
    expect(shell.worker).not.toContain("__BUILD_ID__");
    expect(shell.worker).not.toContain("__PRECACHE_URLS__");
  });

  it("counts the listed files' bytes (UTF-8), not the ones it leaves out", async () => {
    const shell = await shellBuildOf(
      template,
      bundleOf(
        asset("index.html", "x".repeat(9) + "é"),
        chunk("assets/a-1.js", "y".repeat(20)),
        asset("assets/b-2.css", new Uint8Array(30)),
        asset("assets/a-1.js.map", "z".repeat(1000)),
      ),
    );
    expect(shell.precacheBytes).toBe(11 + 20 + 30);
  });

  it("gives the same build the same id, whatever the bundle's order", async () => {
    const a = await shellBuildOf(template, bundleOf(PAGE, ENTRY, VIEW, STYLE));
    const b = await shellBuildOf(template, bundleOf(STYLE, VIEW, ENTRY, PAGE));
    expect(b.buildId).toBe(a.buildId);
    expect(b.worker).toBe(a.worker);
    expect(a.buildId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("changes the id when an asset's hash changes, and lists the new name only", async () => {
    const before = await shellBuildOf(template, bundleOf(PAGE, ENTRY, VIEW, STYLE));
    const newView = chunk("assets/rounds-Zz99Yy88.js", "export const rounds = 2;");
    const after = await shellBuildOf(template, bundleOf(PAGE, ENTRY, newView, STYLE));
    expect(after.buildId).not.toBe(before.buildId);
    expect(buildIdIn(after.worker)).toBe(after.buildId);
    expect(listedIn(after.worker)).toContain("/assets/rounds-Zz99Yy88.js");
    expect(listedIn(after.worker)).not.toContain("/assets/rounds-Ef56Gh78.js");
  });

  it("changes the id when only the page or only the worker's own logic changes", async () => {
    const base = await shellBuildOf(template, bundleOf(PAGE, ENTRY, VIEW, STYLE));
    const page = await shellBuildOf(template, bundleOf(asset("index.html", "<!doctype html><p>new"), ENTRY, VIEW, STYLE));
    const logic = await shellBuildOf(`${template}\n// a fix\n`, bundleOf(PAGE, ENTRY, VIEW, STYLE));
    expect(page.buildId).not.toBe(base.buildId);
    expect(logic.buildId).not.toBe(base.buildId);
  });

  it("serves the files under the configured base", async () => {
    const shell = await shellBuildOf(template, bundleOf(PAGE, ENTRY), "/console/");
    expect(shell.precacheUrls).toEqual(["/console/", "/console/assets/index-Ab12Cd34.js"]);
  });

  it("refuses a bundle without the page, and a template without its placeholders", async () => {
    await expect(shellBuildOf(template, bundleOf(ENTRY, VIEW))).rejects.toThrow(/no index\.html/);
    await expect(shellBuildOf("const BUILD_ID = __BUILD_ID__;", bundleOf(PAGE))).rejects.toThrow(
      /__PRECACHE_URLS__ must appear exactly once \(found 0\)/,
    );
  });
});
