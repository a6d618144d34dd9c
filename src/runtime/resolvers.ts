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

/** Finds the module file for a module path: `examples/hello-world` or `examples.hello-world`. */
export function moduleFile(module: string, root = process.cwd()): string {
  const bases = [module, module.replace(/\./g, "/")];
  for (const b of bases) {
    for (const ext of ["", ".js", ".mjs", ".ts", ".mts"]) {
      const p = resolve(root, b + ext);
      if (ext !== "" || /\.(m?[jt]s)$/.test(b)) if (existsSync(p)) return p;
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
