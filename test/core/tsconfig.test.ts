// How the compiled-module loader reads a tsconfig.json: its dialect, and which files it covers.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsoncToJson, type Tsconfig, tsconfigApplies } from "../../src/core/tsconfig.js";

describe("jsoncToJson", () => {
  it("drops comments and trailing commas, not what strings hold", () => {
    const text = `{ // options
      "compilerOptions": { "target": "ES2022", /* block */ "strict": true, },
      "include": ["src", "a,]//b",],
    }`;
    expect(JSON.parse(jsoncToJson(text))).toEqual({
      compilerOptions: { target: "ES2022", strict: true },
      include: ["src", "a,]//b"],
    });
  });
});

describe("tsconfigApplies", () => {
  const dir = "/p";
  const config = (parts: Partial<Tsconfig>): Tsconfig => ({
    dir,
    raw: "",
    compilerOptions: {},
    include: undefined,
    exclude: undefined,
    files: undefined,
    ...parts,
  });

  it.each([
    ["no include: everything under its folder", {}, "src/a.ts", true],
    ["no include: not outside its folder", {}, "../q/a.ts", false],
    ["include folders", { include: ["src", "examples"] }, "examples/x.ts", true],
    ["not in an included folder", { include: ["src"] }, "test/x.ts", false],
    ["excluded folder", { include: ["src"], exclude: ["src/gen"] }, "src/gen/x.ts", false],
    ["listed file", { files: ["main.ts"] }, "main.ts", true],
    ["only files listed", { files: ["main.ts"] }, "other.ts", false],
    ["glob include: unknown", { include: ["src/**/*"] }, "src/x.ts", undefined],
    ["inside outDir: unknown", { compilerOptions: { outDir: "dist" } }, "dist/x.ts", undefined],
  ] as const)("%s", (_, parts, file, expected) => {
    expect(tsconfigApplies(config(parts as Partial<Tsconfig>), join(dir, file))).toBe(expected);
  });
});
