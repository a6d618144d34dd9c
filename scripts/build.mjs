#!/usr/bin/env node
// Builds dist/ with esbuild: the SDK bundled from its entry points (ESM, code splitting, npm
// packages external except @bufbuild/protobuf, source maps), so a process loads about twenty files instead of ~180, and
// every entry point shares one copy of each module (the chunks in dist/core/chunks/). The
// published package and the container runtime load dist/, so no TypeScript tooling is needed at
// run time. Takes about a second; `npm install` runs it (prepare) and `npm test` re-runs it.
//
// Entry points, each written at its source path (.ts -> .js):
// - src/index.ts and src/remote/index.ts: the package's "." and "./remote" exports;
// - the bins' modules: src/cli/main.ts, src/runtime/execute-cli.ts, src/runtime/fast-execute-cli.ts;
// - src/plugins/<name>/index.ts: executor locations name them (`flytekit-ts/plugins/sqlite:...`);
// - src/local/containers/index.ts: imported by path (tests, tools).
// Each entry point splits the shared code into more chunks, and a task's container loads the
// chunks of src/index.ts and the entrypoint: add entry points only for paths something imports.
//
// Modules that use `import.meta.url` to find files relative to themselves see the URL they would
// have unbundled (dist/<path>.js), whichever output file their code ends up in.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const out = join(root, "dist");

/** The entry points besides the plugins (see above). */
const ENTRIES = [
  "index.ts",
  "remote/index.ts",
  "cli/main.ts",
  "runtime/execute-cli.ts",
  "runtime/fast-execute-cli.ts",
  "local/containers/index.ts",
];

/** `src/plugins/<name>/index.ts` for each plugin folder. */
function pluginEntries() {
  const dir = join(src, "plugins");
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "index.ts")))
    .map((e) => join(dir, e.name, "index.ts"));
}

const posixRel = (from, to) => relative(from, to).split(sep).join("/");

// Stands for the URL of dist/ in the bundled code until each output file's depth is known.
const DIST_MARK = '"__flytekit_ts_dist_root__/"';

/**
 * Rewrites `import.meta.url` in a source file to the URL the file would have unbundled:
 * `new URL("<path>.js", new URL(DIST_MARK, import.meta.url)).href`; DIST_MARK is replaced per
 * output file below. Text inside quotes (e.g. `"import.meta.url"` as a key) is left alone.
 */
const moduleLocation = {
  name: "module-location",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      if (!text.includes("import.meta")) return undefined;
      const own = JSON.stringify(posixRel(src, args.path).replace(/\.ts$/, ".js"));
      const contents = text.replace(/(?<![\w$."'`])import\.meta(\.\w+)?(?![\w$"'`])/g, (m, prop) => {
        if (prop === ".url") return `new URL(${own}, new URL(${DIST_MARK}, import.meta.url)).href`;
        if (prop === undefined) return m; // prose, e.g. in a message
        // import.meta.dirname/filename/resolve would name the chunk, not the module: not handled.
        throw new Error(`${args.path}: ${m} is not supported in the SDK's sources (use import.meta.url)`);
      });
      return { contents, loader: "ts" };
    });
  },
};

/**
 * Bundles @bufbuild/protobuf (every task loads it: ~25% of a trivial task's cold start was
 * resolving and compiling its files), leaves every other npm package external. protobuf-es
 * messages are plain objects read through their schemas, so a message made by this copy and one
 * made by a user's own @bufbuild/protobuf are interchangeable.
 */
const bundleProtobuf = {
  name: "bundle-protobuf",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@bufbuild/protobuf") ? undefined : { path: args.path, external: true },
    );
  },
};

const t0 = performance.now();
const entryPoints = [...ENTRIES.map((e) => join(src, e)), ...pluginEntries()];
const result = await build({
  entryPoints,
  outdir: out,
  outbase: src,
  bundle: true,
  splitting: true,
  // Under dist/core/: the SDK tells its own stack frames from the user's by path
  // (`callerFile` in src/core/entity.ts skips dist/core/ and dist/plugins/).
  chunkNames: "core/chunks/[name]-[hash]",
  plugins: [bundleProtobuf, moduleLocation],
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  keepNames: true,
  write: false,
  metafile: true,
  logLevel: "warning",
});

const outputs = new Map();
for (const file of result.outputFiles) {
  const rel = posixRel(out, file.path);
  let text = file.text;
  if (rel.endsWith(".js") && text.includes(DIST_MARK)) {
    const depth = rel.split("/").length - 1;
    // Same length as the mark, so source map columns stay right.
    const up = JSON.stringify(depth === 0 ? "./" : "../".repeat(depth));
    text = text.replaceAll(DIST_MARK, up.padEnd(DIST_MARK.length, " "));
  }
  outputs.set(rel, text);
}

// dist/ is updated in place, each file written under a temporary name and renamed over: chunks
// first (their names carry a hash of their content), then the entry points that import them.
// A process that started on the previous build may still import chunks of that build (lazily,
// minutes later), so chunks the new build no longer has are kept for an hour after they were
// first found superseded (recorded in SUPERSEDED), then removed. Any other file that is not
// part of the build (e.g. from an older layout) is removed at once.
const CHUNKS = "core/chunks/";
const SUPERSEDED = ".superseded-chunks.json";
const GRACE_MS = 60 * 60 * 1000;
const isChunk = (rel) => rel.startsWith(CHUNKS);
for (const rel of [...outputs.keys()].sort((a, b) => Number(isChunk(b)) - Number(isChunk(a)))) {
  const dest = join(out, rel);
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.tmp`;
  writeFileSync(tmp, outputs.get(rel));
  renameSync(tmp, dest);
}

function* filesUnder(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(p);
    else yield p;
  }
}
let superseded = {};
try {
  superseded = JSON.parse(readFileSync(join(out, SUPERSEDED), "utf8"));
} catch {
  // first build, or none superseded
}
const now = Date.now();
const kept = {};
for (const p of [...filesUnder(out)]) {
  const rel = posixRel(out, p);
  if (outputs.has(rel) || rel === SUPERSEDED) continue;
  // A temporary file of a build running at the same time (left alone unless stale).
  if (rel.endsWith(".tmp") && now - statSync(p).mtimeMs < 60_000) continue;
  if (isChunk(rel) && !rel.endsWith(".tmp")) {
    const since = superseded[rel] ?? now;
    if (now - since < GRACE_MS) {
      kept[rel] = since;
      continue;
    }
  }
  rmSync(p, { force: true });
}
if (Object.keys(kept).length > 0) writeFileSync(join(out, SUPERSEDED), `${JSON.stringify(kept, null, 2)}\n`);
else rmSync(join(out, SUPERSEDED), { force: true });
/** Removes the empty folders under `dir`; whether `dir` ended up empty. */
function pruneEmpty(dir) {
  let empty = true;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !pruneEmpty(join(dir, entry.name))) empty = false;
  }
  if (empty && dir !== out) rmSync(dir, { recursive: true, force: true });
  return empty;
}
pruneEmpty(out);
const files = [...outputs.keys()].filter((rel) => rel.endsWith(".js")).length;

const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.includes("node_modules")).length;
console.log(
  `bundled ${inputs} modules from ${entryPoints.length} entry points into ${files} files in ${posixRel(root, out)}/ in ${(performance.now() - t0).toFixed(0)} ms`,
);
