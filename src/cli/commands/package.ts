/**
 * `tsflyte package <file.ts...>`: serializes every task, workflow and launch plan the modules
 * export (and what they reach) into a `.tgz` that `flytectl register files` takes, as
 * `pyflyte package` does. Deterministic: the same code and flags give the same bytes.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { FlyteUsageError } from "../../errors.js";
import { buildCodeBundle } from "../../serialize/bundle.js";
import { type ModuleSerializationOptions, serializeModules } from "../../serialize/modules.js";
import { type ExtraFile, writePackageArchive } from "../../serialize/package.js";

/** Collects a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `NAME=value` pairs -> an object. */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf("=");
    if (i <= 0)
      throw new FlyteUsageError("ENV_INVALID", `--env ${JSON.stringify(p)} is not NAME=value`, {
        fix: "write --env NAME=value",
      });
    env[p.slice(0, i)] = p.slice(i + 1);
  }
  return env;
}

/** Options shared by `serialize` and `package`. */
export function addSerializationOptions(cmd: Command): Command {
  return cmd
    .option(
      "-i, --image <image>",
      "an image: name=ref names one, a bare ref is the default (repeatable)",
      collect,
      [],
    )
    .option("-p, --project <project>", "project (default: filled in at registration)")
    .option("-d, --domain <domain>", "domain (default: filled in at registration)")
    .option("-v, --version <version>", "version (default: filled in at registration)")
    .option("--source-root <dir>", "root that module names are relative to (default: the working directory)")
    .option(
      "--config <file>",
      "Flyte config file whose images: map is used (default: $FLYTECTL_CONFIG or ~/.flyte/config.yaml)",
    )
    .option(
      "-e, --env <NAME=value>",
      "environment variable for every task container (repeatable)",
      collect,
      [],
    )
    .option("-q, --quiet", "no progress lines");
}

/** The options `addSerializationOptions` parses. */
export interface SerializationFlags {
  image: string[];
  project?: string;
  domain?: string;
  version?: string;
  sourceRoot?: string;
  config?: string;
  env: string[];
  quiet?: boolean;
}

/** Turns parsed flags into module serialization options, with progress on stderr unless quiet. */
export function serializationOptions(flags: SerializationFlags): ModuleSerializationOptions {
  return {
    images: flags.image,
    project: flags.project,
    domain: flags.domain,
    version: flags.version,
    sourceRoot: flags.sourceRoot,
    config: flags.config,
    env: parseEnvPairs(flags.env),
    log: flags.quiet ? undefined : (line: string) => void process.stderr.write(`${line}\n`),
  };
}

/** Registers `tsflyte package`. */
export function register(program: Command): void {
  addSerializationOptions(
    program
      .command("package")
      .description(
        "Serialize the tasks, workflows and launch plans of modules into a package for `flytectl register files`.",
      )
      .argument("<files...>", ".ts or .js modules that export tasks, workflows and launch plans"),
  )
    .option("-o, --output <file>", "the package to write", "flyte-package.tgz")
    .option("-f, --force", "overwrite the output if it exists")
    .option("--fast", "ship the code as a fast-registration bundle (fast<sha256>.tar.gz) inside the package")
    .option(
      "--fast-dest-dir <dir>",
      "where the bundle is unpacked in the container (default: flytectl fills in '.')",
    )
    .action(
      async (
        files: string[],
        flags: SerializationFlags & { output: string; force?: boolean; fast?: boolean; fastDestDir?: string },
      ) => {
        if (existsSync(flags.output) && !flags.force) {
          throw new FlyteUsageError("OUTPUT_EXISTS", `${flags.output} already exists`, {
            fix: "pass --force to overwrite it, or choose another --output",
          });
        }
        const opts = serializationOptions(flags);
        const extra: ExtraFile[] = [];
        if (flags.fast) {
          const bundleOptions: Parameters<typeof buildCodeBundle>[0] = {
            sourceRoot: flags.sourceRoot ?? process.cwd(),
          };
          if (opts.log) bundleOptions.log = opts.log;
          const bundle = await buildCodeBundle(bundleOptions);
          extra.push({ name: bundle.name, bytes: await readFile(bundle.path) });
          opts.fast = { enabled: true, ...(flags.fastDestDir ? { destinationDir: flags.fastDestDir } : {}) };
        }
        const { entities } = await serializeModules(files, opts);
        const names = await writePackageArchive(entities, flags.output, extra);
        opts.log?.(`wrote ${flags.output} (${names.length} entries)`);
        process.stdout.write(`${flags.output}\n`);
      },
    );
}
