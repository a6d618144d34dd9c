/**
 * Task resolvers: how the entrypoint finds the task to run from the arguments after `--`.
 *
 * - `default`: `task-module <module> task-name <export>`: imports the user's module and takes the
 *   export (function tasks, dynamic tasks).
 * - other resolvers (pre-built container tasks) register themselves with `registerResolver`.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { findEntity, loadModule } from "../core/loader.js";
import { BaseTask } from "../core/task.js";
import { FlyteExecutionError } from "../errors.js";

/** Loads the task named by resolver arguments. */
export type TaskResolver = (args: readonly string[]) => Promise<BaseTask>;

const resolvers = new Map<string, TaskResolver>();

/** Registers a resolver under a name used after `--resolver`. */
export function registerResolver(name: string, resolver: TaskResolver): void {
  resolvers.set(name, resolver);
}

/** The resolver for a name. */
export function getResolver(name: string): TaskResolver {
  const r = resolvers.get(name);
  if (!r) {
    throw new FlyteExecutionError("RESOLVER_UNKNOWN", `unknown task resolver "${name}"`, {
      origin: "SYSTEM",
      fix: `the image's flytekit-ts knows: ${[...resolvers.keys()].join(", ")}; rebuild the image with a matching flytekit-ts version`,
    });
  }
  return r;
}

/** Reads `key value` pairs from resolver arguments. */
export function argPairs(args: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < args.length; i += 2) m.set(args[i]!, args[i + 1]!);
  return m;
}

/** The compiled file's extension for each source extension (esbuild in `tsflyte build` and fast registration). */
const COMPILED_EXT: Readonly<Record<string, string>> = {
  ".ts": ".js",
  ".tsx": ".js",
  ".mts": ".mjs",
  ".cts": ".cjs",
};
/** Extensions tried for a module named without one: compiled JavaScript first, then sources. */
const MODULE_EXTS = [".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".tsx"];
const SOURCE_EXT_RE = /\.(m|c)?[jt]sx?$/;

/**
 * Finds the module file for a module path: `examples/hello-world` or `examples.hello-world`
 * (relative to `root`), or a file name with its extension. Compiled JavaScript wins over
 * TypeScript: `tsflyte build` and fast-registration bundles ship `a.ts` compiled to `a.js` in
 * the same place (`.mts` to `.mjs`, `.cts` to `.cjs`), so when both are there (even for
 * `task-module a.ts`) the entrypoint imports the `.js` and never needs a TypeScript loader.
 * Throws `FlyteExecutionError` `TASK_MODULE_NOT_FOUND` when there is neither.
 */
export function moduleFile(module: string, root = process.cwd()): string {
  for (const b of new Set([module, module.replace(/\./g, "/")])) {
    const ext = SOURCE_EXT_RE.exec(b)?.[0];
    if (ext !== undefined) {
      const compiled = COMPILED_EXT[ext];
      const candidates = [...(compiled ? [b.slice(0, -ext.length) + compiled] : []), b];
      for (const c of candidates) {
        const p = resolve(root, c);
        if (existsSync(p)) return p;
      }
    }
    for (const e of MODULE_EXTS) {
      const p = resolve(root, b + e);
      if (existsSync(p)) return p;
    }
  }
  throw new FlyteExecutionError("TASK_MODULE_NOT_FOUND", `cannot find module "${module}" under ${root}`, {
    origin: "SYSTEM",
    fix: "check that the image (or the fast-registration bundle) contains the code, and the working directory is its root",
  });
}

/** The default resolver: `task-module <module> task-name <export>`. */
export const defaultResolver: TaskResolver = async (args) => {
  const pairs = argPairs(args);
  const module = pairs.get("task-module");
  const name = pairs.get("task-name");
  if (!module || !name) {
    throw new FlyteExecutionError(
      "RESOLVER_ARGS",
      `expected "task-module <module> task-name <name>", got ${JSON.stringify(args)}`,
      { origin: "SYSTEM" },
    );
  }
  const root = process.env.FLYTE_SOURCE_ROOT ?? process.cwd();
  const mod = await loadModule(moduleFile(module, root), root);
  const entity = findEntity(mod, name);
  if (!(entity instanceof BaseTask)) {
    throw new FlyteExecutionError(
      "RESOLVER_NOT_A_TASK",
      `"${name}" in ${module} is a ${entity.kind}, not a task`,
      { origin: "SYSTEM" },
    );
  }
  return entity;
};

registerResolver("default", defaultResolver);
