#!/usr/bin/env node
// The entrypoint of fast-registered tasks: fetches the code bundle, then runs the task command
// inside it (see src/runtime/fast-execute-cli.ts). Loads the compiled SDK (dist/) when present.
import { importEntry } from "./start.mjs";

const { main } = await importEntry("runtime/fast-execute-cli");
process.exitCode = await main(process.argv.slice(2));
