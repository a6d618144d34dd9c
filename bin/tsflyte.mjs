#!/usr/bin/env node
// The tsflyte CLI. Runs the compiled SDK (dist/, built by `npm install`); TypeScript user modules
// are loaded by src/core/loader.ts (compiled with esbuild, or through tsx).
import { importEntry } from "./start.mjs";

await importEntry("cli/main");
