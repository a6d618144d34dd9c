// Drives `tsflyte` from the sources (the tests' view of the CLI before dist/ is rebuilt): the
// program of src/cli/main.ts, with `register` and `run --remote` added when the command index
// does not wire them yet.
import { Command, CommanderError } from "commander";
import { registerCommands } from "../../src/cli/commands/index.js";
import { register as registerCmd } from "../../src/cli/commands/register.js";
import { register as remoteRun } from "../../src/cli/commands/remote-run.js";
import { FlyteError } from "../../src/errors.js";

const program = new Command("tsflyte").exitOverride();
registerCommands(program);
if (!program.commands.some((c) => c.name() === "register")) {
  registerCmd(program);
  remoteRun(program);
}
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else if (err instanceof FlyteError) {
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
    process.exitCode = err.origin === "USER" ? 1 : 3;
  } else {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 3;
  }
}
