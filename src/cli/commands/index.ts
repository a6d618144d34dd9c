/** Every `tsflyte` command; each file registers one command on the program. */
import type { Command } from "commander";
import { register as run } from "./run.js";

/** Registers all commands. Add a command by adding its file and a line here. */
export function registerCommands(program: Command): void {
  run(program);
}
