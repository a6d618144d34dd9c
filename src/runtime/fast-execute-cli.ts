/**
 * `tsflyte-fast-execute`: the entrypoint of fast-registered tasks (see ./fast-execute.ts).
 *
 *   tsflyte-fast-execute --additional-distribution <bundle uri> --dest-dir <dir> -- <command...>
 *
 * Exit code: the command's; 1 when the bundle could not be fetched, checked or unpacked (after
 * writing error.pb under the command's --output-prefix); 2 for bad arguments.
 */
import { type FastExecuteArgs, fastExecute } from "./fast-execute.js";

const USAGE =
  "usage: tsflyte-fast-execute --additional-distribution <bundle uri> --dest-dir <dir> -- <command...>";

/** Parses the entrypoint's arguments; throws an `Error` with a one-line message on bad ones. */
export function parseFastExecuteArgs(argv: readonly string[]): FastExecuteArgs {
  const sep = argv.indexOf("--");
  if (sep === -1) throw new Error("missing `--` before the command to run");
  const flags = argv.slice(0, sep);
  const command = argv.slice(sep + 1);
  const values = new Map<string, string>();
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (!f.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(f)}`);
    const eq = f.indexOf("=");
    const key = eq === -1 ? f.slice(2) : f.slice(2, eq);
    if (key !== "additional-distribution" && key !== "dest-dir") throw new Error(`unknown option --${key}`);
    if (eq !== -1) values.set(key, f.slice(eq + 1));
    else {
      const v = flags[i + 1];
      if (v === undefined) throw new Error(`${f} needs a value`);
      values.set(key, v);
      i++;
    }
  }
  const additionalDistribution = values.get("additional-distribution");
  if (additionalDistribution === undefined) throw new Error("--additional-distribution is required");
  const destDir = values.get("dest-dir");
  if (destDir === undefined) throw new Error("--dest-dir is required");
  if (command.length === 0) throw new Error("no command after `--`");
  return { additionalDistribution, destDir, command };
}

/** Runs the entrypoint; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: FastExecuteArgs;
  try {
    args = parseFastExecuteArgs(argv);
  } catch (err) {
    process.stderr.write(`tsflyte-fast-execute: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  return fastExecute(args);
}
