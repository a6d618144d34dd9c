#!/usr/bin/env node
// The tsflyte CLI. Runs the compiled SDK (dist/, built by `npm install`); TypeScript user modules
// are loaded by src/core/loader.ts (compiled with esbuild, or through tsx).
import { existsSync } from "node:fs";
import module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Node 22.1+ keeps V8's compiled code of the SDK's modules on disk between processes (a no-op on
// Node 20, which has no module.enableCompileCache): FLYTEKIT_TS_COMPILE_CACHE names the folder.
if (typeof module.enableCompileCache === "function") {
  module.enableCompileCache(
    process.env.FLYTEKIT_TS_COMPILE_CACHE || join(tmpdir(), "flytekit-ts-compile-cache"),
  );
}

const dist = new URL("../dist/cli/main.js", import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
