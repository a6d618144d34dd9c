// Shared start-up of the bins: keeps V8's compiled code between processes where Node can (22.1+;
// a no-op on Node 20, which has no module.enableCompileCache; FLYTEKIT_TS_COMPILE_CACHE names the
// folder), then imports an entry of the compiled SDK (dist/) or, in a checkout without dist/, its
// TypeScript source through tsx.
import { existsSync } from "node:fs";
import module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

if (typeof module.enableCompileCache === "function") {
  module.enableCompileCache(
    process.env.FLYTEKIT_TS_COMPILE_CACHE || join(tmpdir(), "flytekit-ts-compile-cache"),
  );
}

/** Imports `<entry>.js` from dist/ or `<entry>.ts` from src/ (entry: e.g. "runtime/execute-cli"). */
export async function importEntry(entry) {
  const dist = new URL(`../dist/${entry}.js`, import.meta.url);
  if (existsSync(dist)) return import(dist.href);
  const { register } = await import("tsx/esm/api");
  register();
  return import(new URL(`../src/${entry}.ts`, import.meta.url).href);
}
