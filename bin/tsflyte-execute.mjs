#!/usr/bin/env node
// The task entrypoint propeller runs inside a container (see src/runtime/execute-cli.ts).
import { existsSync } from "node:fs";

const dist = new URL("../dist/runtime/execute-cli.js", import.meta.url);
let main;
if (existsSync(dist)) {
  ({ main } = await import(dist.href));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/runtime/execute-cli.ts"));
}
process.exitCode = await main(process.argv.slice(2));
