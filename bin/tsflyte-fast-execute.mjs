#!/usr/bin/env node
// The entrypoint of fast-registered tasks: fetches the code bundle, then runs the task command
// inside it (see src/runtime/fast-execute-cli.ts). Loads the compiled SDK (dist/) when present.
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

const dist = new URL("../dist/runtime/fast-execute-cli.js", import.meta.url);
let main;
if (existsSync(dist)) {
  ({ main } = await import(dist.href));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/runtime/fast-execute-cli.ts"));
}
process.exitCode = await main(process.argv.slice(2));
