/**
 * `tsflyte-execute`: the entrypoint propeller runs in a task's container.
 *
 *   tsflyte-execute --inputs <uri> --output-prefix <uri> --raw-output-data-prefix <uri>
 *     [--checkpoint-path <uri>] [--prev-checkpoint <uri>] --resolver <name> -- <resolver args>
 *
 * Exit code 0 after writing outputs.pb or error.pb (1 after error.pb with FLYTE_FAIL_ON_ERROR=true);
 * 2 for bad arguments; 143 when terminated by SIGTERM (after writing error.pb).
 */
import { FlyteExecutionError } from "../errors.js";
import { joinUri } from "../storage/storage.js";
import { type ExecuteArgs, executeTask, writeErrorDocument } from "./execute.js";

const USAGE =
  "usage: tsflyte-execute --inputs <uri> --output-prefix <uri> --raw-output-data-prefix <uri> [--checkpoint-path <uri>] [--prev-checkpoint <uri>] --resolver <name> -- <resolver args>";

/** Parses the entrypoint's arguments. */
export function parseExecuteArgs(argv: readonly string[]): ExecuteArgs {
  const sep = argv.indexOf("--");
  const flags = sep === -1 ? argv : argv.slice(0, sep);
  const resolverArgs = sep === -1 ? [] : argv.slice(sep + 1);
  const values = new Map<string, string>();
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (!f.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(f)}`);
    const eq = f.indexOf("=");
    if (eq !== -1) values.set(f.slice(2, eq), f.slice(eq + 1));
    else {
      const v = flags[i + 1];
      if (v === undefined) throw new Error(`${f} needs a value`);
      values.set(f.slice(2), v);
      i++;
    }
  }
  const need = (k: string) => {
    const v = values.get(k);
    if (v === undefined) throw new Error(`--${k} is required`);
    return v;
  };
  const known = new Set([
    "inputs",
    "output-prefix",
    "raw-output-data-prefix",
    "checkpoint-path",
    "prev-checkpoint",
    "resolver",
    "test",
    "dynamic-addl-distro",
    "dynamic-dest-dir",
  ]);
  for (const k of values.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}`);
  return {
    inputs: need("inputs"),
    outputPrefix: need("output-prefix"),
    rawOutputDataPrefix: values.get("raw-output-data-prefix") ?? "",
    checkpointPath: values.get("checkpoint-path"),
    prevCheckpoint: values.get("prev-checkpoint"),
    resolver: values.get("resolver") ?? "default",
    resolverArgs,
  };
}

/** Runs the entrypoint; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: ExecuteArgs;
  try {
    args = parseExecuteArgs(argv);
  } catch (err) {
    process.stderr.write(`tsflyte-execute: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const onSignal = (signal: NodeJS.Signals) => {
    const err = new FlyteExecutionError("TERMINATED", `the task was terminated by ${signal}`, {
      origin: "SYSTEM",
      recoverable: true,
    });
    void writeErrorDocument(joinUri(args.outputPrefix, "error.pb"), err, "SYSTEM").finally(() =>
      process.exit(143),
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const result = await executeTask(args);
  if (!result.ok) {
    const e = result.error as Error;
    process.stderr.write(`tsflyte-execute: task failed: ${e?.message ?? String(result.error)}\n`);
    return process.env.FLYTE_FAIL_ON_ERROR?.toLowerCase() === "true" ? 1 : 0;
  }
  return 0;
}
