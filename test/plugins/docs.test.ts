/**
 * Runs every `ts` snippet of docs/prebuilt-container-tasks.md, with `"flytekit-ts"` pointing at
 * the sources (the package's public exports plus the plugins).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const doc = readFileSync(join(root, "docs/prebuilt-container-tasks.md"), "utf8");
const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({
  index: i,
  code: m[1] as string,
  line: doc.slice(0, m.index).split("\n").length + 1,
}));

const dir = mkdtempSync(join(tmpdir(), "flytekit-ts-prebuilt-doc-"));
const barrel = join(dir, "flytekit-ts.ts");
writeFileSync(
  barrel,
  ["src/index.ts", "src/plugins/index.ts"]
    .map((f) => `export * from ${JSON.stringify(join(root, f))};`)
    .join("\n"),
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("docs/prebuilt-container-tasks.md", () => {
  it("has snippets", () => {
    expect(snippets.length).toBeGreaterThanOrEqual(4);
  });

  it.each(snippets)("snippet $index (line $line) runs", async ({ index, code }) => {
    expect(code).toContain('from "flytekit-ts"');
    const file = join(dir, `snippet-${index}.ts`);
    writeFileSync(file, code.replaceAll('from "flytekit-ts"', `from ${JSON.stringify(barrel)}`));
    await import(pathToFileURL(file).href);
  });
});
