/**
 * Containers on the command line:
 *
 * - `tsflyte build <file.ts...>`: builds the project's default image and the images its modules
 *   declare with `imageSpec()` (see src/local/containers/build.ts), printing one reference per
 *   image (`--json` for machines);
 * - `tsflyte run --containers ...`: the run extension {@link containerRunExtension}: every node
 *   runs in its own image (`--engine`, `--image name=ref`, `--config`, `--env`, `--code-in-image`).
 */

import { availableParallelism } from "node:os";
import type { Command } from "commander";
import type { Entity } from "../../core/index.js";
import { FlyteUsageError } from "../../errors.js";
import { buildImages } from "../../local/containers/build.js";
import { ContainerExecution, type ContainerRunOptions } from "../../local/containers/executor.js";
import { inputsToLiterals, outputsFromLiterals } from "../../local/executor.js";
import type { Schema } from "../../types/literal-map.js";
import { progressReporter } from "../progress.js";
import { collect, parseEnvPairs } from "./package.js";
import type { RunExtension } from "./run.js";

/** Registers `tsflyte build`. */
export function register(program: Command): void {
  program
    .command("build")
    .description(
      "Build the images a project needs: its default image, the images its modules declare, and the SDK's own image when a pre-built task type (SQLite3Task, ...) runs in it.",
    )
    .argument("<files...>", "modules that define the tasks (and their imageSpec()s)")
    .option("--engine <engine>", "podman or docker (default: detected; or $TSFLYTE_CONTAINER_ENGINE)")
    .option(
      "--base <image>",
      "base of the default image and of specs without one (default: $TSFLYTE_BASE_IMAGE)",
    )
    .option("--name <name>", "repository path of the default image (default: the package name)")
    .option("--registry <registry>", "registry of the default image", "localhost")
    .option("-e, --env <NAME=value>", "environment variable of the default image (repeatable)", collect, [])
    .option(
      "--source-root <dir>",
      "project root; module names are relative to it (default: the working directory)",
    )
    .option("--no-default-image", "build only the images declared with imageSpec()")
    .option("--no-specs", "build only the default image")
    .option("--sdk-image", "always build the SDK's image (pre-built task types run in it)")
    .option("--no-sdk-image", "never build the SDK's image (default: when a task of the modules uses it)")
    .option("--no-dependencies", "leave the project's npm dependencies out of the default image")
    .option("--force", "build even when an image with the same content tag exists")
    .option("--json", "print the images as JSON")
    .option("-q, --quiet", "no progress lines")
    .action(async (files: string[], flags: BuildFlags) => {
      const quiet = flags.quiet === true || flags.json === true;
      const images = await buildImages(files, {
        engine: flags.engine,
        base: flags.base,
        name: flags.name,
        registry: flags.registry,
        env: parseEnvPairs(flags.env),
        sourceRoot: flags.sourceRoot,
        defaultImage: flags.defaultImage,
        specs: flags.specs,
        sdkImage: flags.sdkImage,
        dependencies: flags.dependencies,
        force: flags.force === true,
        log: quiet ? undefined : (line) => void process.stderr.write(`${line}\n`),
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(images)}\n`);
        return;
      }
      for (const img of images)
        process.stdout.write(`${img.kind === "default" ? "default" : img.name}=${img.reference}\n`);
      const def = images.find((i) => i.kind === "default");
      if (def && !quiet)
        process.stderr.write(
          `\nRun in them: tsflyte run <file> <entity> --containers --image ${def.reference}\n`,
        );
    });
}

interface BuildFlags {
  engine?: string;
  base?: string;
  name?: string;
  registry?: string;
  env: string[];
  sourceRoot?: string;
  defaultImage?: boolean;
  specs?: boolean;
  sdkImage?: boolean;
  dependencies?: boolean;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `tsflyte run --containers`: runs every node of the entity in its resolved image (register it
 * with `extendRun(containerRunExtension)`). Takes over the run when `--containers` is given.
 */
export const containerRunExtension: RunExtension = {
  options(cmd: Command) {
    cmd
      .option("--containers", "run every node in its own image (podman or docker), as on a cluster")
      .option("--engine <engine>", "with --containers: podman or docker (default: detected)")
      .option(
        "--image <image>",
        "with --containers: an image, name=ref or a bare default ref (repeatable)",
        collect,
        [],
      )
      .option("--config <file>", "with --containers: Flyte config file whose images: map is used")
      .option(
        "--env <NAME=value>",
        "with --containers: environment variable for every task container (repeatable)",
        collect,
        [],
      )
      .option(
        "--code-in-image",
        "with --containers: run the code baked into the images instead of mounting the project",
      );
  },
  async run(opts, entity, _file, values) {
    if (opts.containers !== true) {
      if (opts.remote === true) return false;
      for (const flag of ["engine", "config"] as const) {
        if (opts[flag] !== undefined)
          throw new FlyteUsageError("CONTAINERS_FLAG_ALONE", `--${flag} only applies with --containers`, {
            fix: "add --containers, or leave the flag out",
          });
      }
      return false;
    }
    const quiet = opts.quiet === true || opts.json === true;
    const progress = progressReporter({ quiet });
    const options: ContainerRunOptions = {
      engine: opts.engine as string | undefined,
      images: (opts.image as string[] | undefined) ?? [],
      config: opts.config as string | undefined,
      env: parseEnvPairs((opts.env as string[] | undefined) ?? []),
      mountCode: opts.codeInImage !== true,
      cache: opts.cache !== false,
      // Containers cost a core each: at most two per core, whatever --concurrency says.
      concurrency: Math.min(Number(opts.concurrency) || 4, 2 * availableParallelism()),
      onEvent: progress.onEvent,
    };
    if (typeof opts.rawDataPrefix === "string") options.rawDataPrefix = opts.rawDataPrefix;
    let result: unknown;
    try {
      const exec = await ContainerExecution.create(options);
      const inputs = await inputsToLiterals(entity, values, exec.ctx);
      const outputs = await exec.execute(entity, inputs);
      result = await outputsFromLiterals(entity, outputs, exec.ctx);
    } finally {
      progress.done();
    }
    printResult(entity, result, opts.json === true);
    return true;
  },
};

function printResult(entity: Entity, result: unknown, json: boolean): void {
  const schema = entity.outputs as Schema;
  const asJson: Record<string, unknown> = {};
  if (entity.singleOutput) asJson.o0 = schema.o0!.toJson(result as never);
  else
    for (const [k, t] of Object.entries(schema))
      asJson[k] = t.toJson((result as Record<string, unknown>)[k] as never);
  const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
  if (json) process.stdout.write(`${JSON.stringify(asJson, replacer)}\n`);
  else if (entity.singleOutput) process.stdout.write(`${JSON.stringify(asJson.o0, replacer, 2)}\n`);
  else if (Object.keys(asJson).length > 0) process.stdout.write(`${JSON.stringify(asJson, replacer, 2)}\n`);
}
