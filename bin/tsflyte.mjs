#!/usr/bin/env node
// The tsflyte CLI. Runs the compiled SDK (dist/, built by `npm ci`); TypeScript user modules are
// loaded through tsx, registered on demand.
import { existsSync } from "node:fs";

const dist = new URL("../dist/cli/main.js", import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
