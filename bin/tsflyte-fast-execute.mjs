#!/usr/bin/env node
// The entrypoint of fast-registered tasks: fetches the code bundle, then runs the task command
// inside it (see src/runtime/fast-execute-cli.ts). Loads the compiled SDK (dist/) when present.
import { existsSync } from "node:fs";

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
