#!/usr/bin/env node
// Compiles src/**/*.ts to dist/**/*.js (same layout, ESM, source maps) with esbuild. The
// published package and the container runtime load dist/, so no TypeScript tooling is needed
// at run time. Takes well under a second; `npm install` runs it (prepare) and `npm test` re-runs it.
import { readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const out = join(root, "dist");

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts") && !p.endsWith(".test.ts")) yield p;
  }
}

const t0 = performance.now();
rmSync(out, { recursive: true, force: true });
const entryPoints = [...walk(src)];
await build({
  entryPoints,
  outdir: out,
  outbase: src,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  keepNames: true,
  logLevel: "warning",
});
console.log(
  `built ${entryPoints.length} files into ${relative(root, out)}/ in ${(performance.now() - t0).toFixed(0)} ms`,
);
