#!/usr/bin/env node
// The task entrypoint propeller runs inside a container (see src/runtime/execute-cli.ts).
import { importEntry } from "./start.mjs";

const { main } = await importEntry("runtime/execute-cli");
process.exitCode = await main(process.argv.slice(2));
