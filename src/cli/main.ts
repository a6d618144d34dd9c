/** `tsflyte`: the command-line interface of flytekit-ts. */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { FlyteError } from "../errors.js";
import { registerCommands } from "./commands/index.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const program = new Command("tsflyte")
  .description("Author, run and ship Flyte workflows written in TypeScript.")
  .version(pkg.version)
  .showHelpAfterError("(add --help for usage)")
  .exitOverride();
registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}

/** Prints an error for people (code, message, fix) and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof FlyteError) {
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
    if (process.env.TSFLYTE_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.origin === "USER" ? 1 : 3;
  }
  process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 3;
}
