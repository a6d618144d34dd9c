#!/usr/bin/env node
// The task entrypoint propeller runs inside a container (see src/runtime/execute-cli.ts).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/runtime/execute-cli.ts");
process.exitCode = await main(process.argv.slice(2));
