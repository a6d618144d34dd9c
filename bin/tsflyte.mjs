#!/usr/bin/env node
// The tsflyte CLI. User code and the SDK are TypeScript, loaded through tsx's ESM loader.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
