// The console's server types come from the OpenAPI document (src/generated/api.d.ts): a
// hand-written interface or type alias named like a generated one is a copy that drifts.
import { describe, expect, it } from "vitest";

const sources = import.meta.glob("../src/**/*.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const GENERATED = "../src/generated/api.d.ts";

/** Names declared by `interface X` or `type X =` (exported or not) at the start of a line. */
function declaredTypes(text: string): string[] {
  return [...text.matchAll(/^(?:export\s+)?(?:interface|type)\s+([A-Za-z_]\w*)\b/gm)].map((m) => m[1]);
}

describe("server types", () => {
  it("reads the generated types", () => {
    expect(sources[GENERATED]).toBeDefined();
    expect(declaredTypes(sources[GENERATED]).length).toBeGreaterThan(100);
  });

  it("finds a declaration's name", () => {
    expect(declaredTypes("interface A {\n}\nexport type B = string;\nexport type { C };\n  interface D {}")).toEqual(["A", "B"]);
  });

  it("are not declared again by hand under a generated name", () => {
    const generated = new Set(declaredTypes(sources[GENERATED]));
    const copies = Object.entries(sources)
      .filter(([path]) => !path.startsWith("../src/generated/"))
      .flatMap(([path, text]) => declaredTypes(text).filter((name) => generated.has(name)).map((name) => `${path}: ${name}`));
    expect(copies).toEqual([]);
  });
});
