/**
 * `tsflyte run <file> <entity> [--input value ...]`: runs a task, workflow or launch plan
 * locally. Inputs are parsed by the entity's declared types; `--help` after the entity lists them.
 */
import { Command, Option } from "commander";
import { type Entity, findEntity, LaunchPlanDef, loadModule, WorkflowDef } from "../../core/index.js";
import { FlyteUsageError } from "../../errors.js";
import { type LocalRunOptions, runLocally, type TaskRunner } from "../../local/index.js";
import type { Schema } from "../../types/literal-map.js";
import { progressReporter } from "../progress.js";

/** Hooks other modules add to `run` (container mode, remote runs). */
export interface RunExtension {
  /** Adds options to every entity command. */
  options(cmd: Command): void;
  /** Returns a task runner when its options are set, or undefined. */
  taskRunner?(opts: Record<string, unknown>, entity: Entity): Promise<TaskRunner | undefined>;
  /** Takes over the whole run (e.g. `--remote`); returns true when it did. */
  run?(
    opts: Record<string, unknown>,
    entity: Entity,
    file: string,
    values: Record<string, unknown>,
  ): Promise<boolean>;
}

const extensions: RunExtension[] = [];

/** Registers an extension of `tsflyte run`. */
export function extendRun(ext: RunExtension): void {
  extensions.push(ext);
}

function defaultsOf(entity: Entity): Record<string, unknown> {
  if (entity instanceof WorkflowDef) return { ...entity.defaults };
  if (entity instanceof LaunchPlanDef) return { ...entity.defaultInputs, ...entity.fixedInputs };
  return {};
}

/** Builds the per-entity command with one option per input. */
function entityCommand(file: string, name: string, entity: Entity): Command {
  const defaults = defaultsOf(entity);
  const cmd = runOptions(
    new Command(`tsflyte run ${file} ${name}`)
      .description(`Run ${entity.kind} ${entity.name} locally.`)
      .exitOverride()
      .configureOutput({ writeErr: (s) => process.stderr.write(s) }),
  );
  for (const [k, type] of Object.entries(entity.inputs)) {
    const isBool = type.name === "bool";
    const flags = isBool ? `--${k} [${type.name}]` : `--${k} <${type.name}>`;
    const desc = `${type.name}${type.optional ? " (optional)" : ""}`;
    const opt = new Option(flags, desc);
    if (k in defaults) opt.default(JSON.stringify(type.toJson(defaults[k] as never)));
    if (!type.optional && !(k in defaults)) opt.description += " (required)";
    cmd.addOption(opt);
  }
  cmd.addHelpText(
    "after",
    `\nOutputs: ${
      Object.entries(entity.outputs)
        .map(([k, t]) => `${k}: ${t.name}`)
        .join(", ") || "(none)"
    }`,
  );
  return cmd;
}

/** Adds the options of `run` itself (not the entity's inputs): the base ones and the extensions'. */
function runOptions(cmd: Command): Command {
  cmd
    .option("--json", "print outputs as JSON (for machines)")
    .option("--no-cache", "ignore the local cache")
    .option("--concurrency <n>", "at most this many tasks at once", "16")
    .option("--raw-data-prefix <path>", "where files and dataframes are written")
    .option("-q, --quiet", "no progress output");
  for (const ext of extensions) ext.options(cmd);
  return cmd;
}

/**
 * Moves `run`'s own options written before the file (`run --containers wf.ts wf`) after the
 * entity, where the entity's command parses them: returns `[file, entity, ...options, ...rest]`.
 */
export function hoistRunOptions(args: readonly string[]): string[] {
  const probe = runOptions(new Command());
  const leading: string[] = [];
  let i = 0;
  while (i < args.length && args[i]!.startsWith("-") && args[i] !== "--help" && args[i] !== "-h") {
    const arg = args[i]!;
    const flag = arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg;
    const option = probe.options.find((o) => o.long === flag || o.short === flag);
    leading.push(arg);
    i++;
    if (option?.required && !arg.includes("=") && i < args.length) leading.push(args[i++]!);
  }
  if (leading.length === 0) return [...args];
  const [file, entity, ...rest] = args.slice(i);
  if (file === undefined) return [...leading];
  if (entity === undefined || entity.startsWith("-")) return [file, ...(entity ? [entity] : []), ...rest];
  return [file, entity, ...leading, ...rest];
}

/** Parses the entity's inputs from the parsed options. */
function inputValues(
  entity: Entity,
  opts: Record<string, unknown>,
  defaults: Record<string, unknown>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const [k, type] of Object.entries(entity.inputs)) {
    const raw = opts[k];
    if (raw === undefined) {
      if (!type.optional && !(k in defaults)) missing.push(`--${k} <${type.name}>`);
      continue;
    }
    if (k in defaults && raw === JSON.stringify(type.toJson(defaults[k] as never))) continue;
    const text = raw === true ? "true" : String(raw);
    try {
      values[k] = type.parseText(text);
    } catch (err) {
      throw new FlyteUsageError("INPUT_INVALID", `--${k}: ${(err as Error).message}`, {
        entity: entity.name,
        cause: err,
      });
    }
  }
  if (missing.length > 0) {
    throw new FlyteUsageError(
      "INPUT_MISSING",
      `missing required input${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
      {
        entity: entity.name,
        fix: `pass ${missing.join(" ")}`,
      },
    );
  }
  return values;
}

/** Registers `tsflyte run`. */
export function register(program: Command): void {
  program
    .command("run")
    .description(
      "Run a task, workflow or launch plan locally (tsflyte run <file> <entity> --help for its inputs).",
    )
    .argument("<file>", "a .ts or .js module that exports the entity")
    .argument("[entity]", "export name or Flyte name of the entity")
    .argument("[inputs...]", "--name value pairs for the entity's inputs")
    .allowUnknownOption()
    .helpOption(false)
    .action(
      async (_file: string, _name: string | undefined, _rest: string[], _o: unknown, command: Command) => {
        const argv = hoistRunOptions(command.args);
        const file = argv[0] ?? _file;
        const name = argv[1];
        if (file === "--help" || file === "-h") {
          process.stdout.write(command.helpInformation());
          return;
        }
        const mod = await loadModule(file);
        if (!name || name === "--help" || name === "-h") {
          process.stdout.write(`Entities in ${file}:\n`);
          for (const [exp, e] of mod.entities)
            process.stdout.write(`  ${exp.padEnd(24)} ${e.kind.padEnd(10)} ${e.name}\n`);
          if (!name)
            process.stdout.write(`\nRun one with: tsflyte run ${file} <entity> [--input value ...]\n`);
          return;
        }
        const entity = findEntity(mod, name);
        const cmd = entityCommand(file, name, entity);
        const rest = argv.slice(2);
        cmd.parse(rest, { from: "user" });
        const opts = cmd.opts() as Record<string, unknown>;
        const values = inputValues(entity, opts, defaultsOf(entity));
        for (const ext of extensions) if (ext.run && (await ext.run(opts, entity, file, values))) return;
        let taskRunner: TaskRunner | undefined;
        for (const ext of extensions) taskRunner ??= await ext.taskRunner?.(opts, entity);
        const progress = progressReporter({ quiet: opts.quiet === true || opts.json === true });
        const options: LocalRunOptions = {
          cache: opts.cache !== false,
          concurrency: Number(opts.concurrency),
          onEvent: progress.onEvent,
        };
        if (typeof opts.rawDataPrefix === "string") options.rawDataPrefix = opts.rawDataPrefix;
        if (taskRunner) options.taskRunner = taskRunner;
        let result: unknown;
        try {
          result = await runLocally(entity, values, options);
        } finally {
          progress.done();
        }
        printOutputs(entity, result, opts.json === true);
      },
    );
}

function printOutputs(entity: Entity, result: unknown, json: boolean): void {
  const schema = entity.outputs;
  const asJson: Record<string, unknown> = {};
  if (entity.singleOutput) asJson.o0 = (schema as Schema).o0!.toJson(result as never);
  else
    for (const [k, t] of Object.entries(schema))
      asJson[k] = t.toJson((result as Record<string, unknown>)[k] as never);
  const text = JSON.stringify(
    asJson,
    (_k, v) => (typeof v === "bigint" ? v.toString() : v),
    json ? undefined : 2,
  );
  if (json) process.stdout.write(`${text}\n`);
  else if (entity.singleOutput)
    process.stdout.write(
      `${JSON.stringify(asJson.o0, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`,
    );
  else if (Object.keys(asJson).length > 0) process.stdout.write(`${text}\n`);
}
