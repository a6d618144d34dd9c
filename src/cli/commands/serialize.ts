/**
 * `tsflyte serialize <file.ts...> --output <dir>`: like `tsflyte package`, but writes the
 * `<idx>_<name>_<kind>.pb` files into a folder (`pyflyte serialize`), e.g. to inspect them or to
 * register with `flytectl register files <dir>/*`.
 */
import type { Command } from "commander";
import { serializeModules } from "../../serialize/modules.js";
import { writePackageFolder } from "../../serialize/package.js";
import { addSerializationOptions, type SerializationFlags, serializationOptions } from "./package.js";

/** Registers `tsflyte serialize`. */
export function register(program: Command): void {
  addSerializationOptions(
    program
      .command("serialize")
      .description("Serialize the tasks, workflows and launch plans of modules into a folder of .pb files.")
      .argument("<files...>", ".ts or .js modules that export tasks, workflows and launch plans"),
  )
    .option(
      "-o, --output <dir>",
      "the folder to write (package entries already in it are replaced)",
      "_pb_output",
    )
    .action(async (files: string[], flags: SerializationFlags & { output: string }) => {
      const opts = serializationOptions(flags);
      const { entities } = await serializeModules(files, opts);
      const names = await writePackageFolder(entities, flags.output);
      opts.log?.(`wrote ${names.length} files to ${flags.output}`);
      for (const n of names) process.stdout.write(`${flags.output}/${n}\n`);
    });
}
