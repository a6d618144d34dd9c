/** Every `tsflyte` command; each file registers one command on the program. */
import type { Command } from "commander";
import { register as build, containerRunExtension } from "./build.js";
import { register as inspect } from "./inspect.js";
import { register as packageCmd } from "./package.js";
import { register as registerCmd } from "./register.js";
import { register as remoteRun } from "./remote-run.js";
import { extendRun, register as run } from "./run.js";
import { register as serialize } from "./serialize.js";

/** Registers all commands. Add a command by adding its file and a line here. */
export function registerCommands(program: Command): void {
  run(program);
  extendRun(containerRunExtension);
  registerCmd(program);
  remoteRun(program);
  serialize(program);
  packageCmd(program);
  inspect(program);
  build(program);
}
