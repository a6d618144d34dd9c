/**
 * `tsflyte run --remote <file> <entity> --x 1 [--wait]`: registers the entity and what it needs
 * (fast registration, content version) with FlyteAdmin and starts an execution with the given
 * inputs. Prints the execution and its console URL; with `--wait`, follows the nodes on
 * standard error and prints the outputs as `tsflyte run` does locally.
 */
import type { EventEmitter } from "node:events";
import type { Command, Option } from "commander";
import type { Entity } from "../../core/entity.js";
import { FlyteUsageError } from "../../errors.js";
import { FlyteRemoteError } from "../../remote/errors.js";
import type { RemoteExecution, RemoteNodeExecution } from "../../remote/execution.js";
import { FlyteRemote } from "../../remote/remote.js";
import type { Schema } from "../../types/literal-map.js";
import { collect } from "./package.js";
import { extendRun, type RunExtension } from "./run.js";

/**
 * Adds one `--remote` option to the entity command, unless another extension already owns the
 * flag (then it is shared). The entity's own inputs are added after the extensions' options: an
 * input with the same flag wins, and this option is dropped for that entity (see `yieldToInputs`).
 */
function addOption(
  cmd: Command,
  mine: Set<Option>,
  flags: string,
  description: string,
  ...rest: unknown[]
): void {
  const long = /--[\w-]+/.exec(flags)?.[0];
  const negated = long?.startsWith("--no-") ? `--${long.slice(5)}` : undefined;
  if (cmd.options.some((o) => o.long === long || (negated !== undefined && o.long === negated))) return;
  const short = /^-\w,/.test(flags) && cmd.options.some((o) => o.short === flags.slice(0, 2));
  (cmd.option as (...a: unknown[]) => Command)(
    short ? flags.replace(/^-\w,\s*/, "") : flags,
    description,
    ...rest,
  );
  mine.add(cmd.options[cmd.options.length - 1]!);
}

/** Makes options in `mine` give way to later options (the entity's inputs) with the same flag. */
function yieldToInputs(cmd: Command, mine: Set<Option>): void {
  const addOption = cmd.addOption.bind(cmd);
  cmd.addOption = (option: Option): Command => {
    for (const m of [...mine]) {
      const positive = m.negate && m.long ? `--${m.long.slice(5)}` : undefined;
      if (option.long !== undefined && (m.long === option.long || positive === option.long)) {
        const options = cmd.options as Option[];
        options.splice(options.indexOf(m), 1);
        (cmd as unknown as EventEmitter).removeAllListeners(`option:${m.name()}`);
        cmd.setOptionValueWithSource(m.attributeName(), undefined, "default");
        mine.delete(m);
      } else if (option.short !== undefined && m.short === option.short) {
        (m as { short?: string | undefined }).short = undefined;
      }
    }
    return addOption(option);
  };
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function nodeLine(n: RemoteNodeExecution): string | undefined {
  if (n.nodeId === "start-node" || n.nodeId === "end-node") return undefined;
  const took = n.durationMs !== undefined && n.durationMs > 0 ? ` ${(n.durationMs / 1000).toFixed(1)} s` : "";
  if (n.phase === "SUCCEEDED") return `  ✓ ${n.nodeId}${took}`;
  if (n.phase === "FAILED" || n.phase === "TIMED_OUT")
    return `  ✗ ${n.nodeId} ${n.phase}${n.error ? `: ${n.error}` : ""}`;
  if (n.phase === "RUNNING" || n.phase === "QUEUED" || n.phase === "SKIPPED" || n.phase === "ABORTED")
    return `  · ${n.nodeId} ${n.phase}`;
  return undefined;
}

function printOutputs(entity: Entity, outputs: unknown, json: boolean): void {
  const schema = entity.outputs as Schema;
  const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
  if (entity.singleOutput) {
    const value = schema.o0!.toJson(outputs as never);
    process.stdout.write(
      `${json ? JSON.stringify({ o0: value }, replacer) : JSON.stringify(value, replacer, 2)}\n`,
    );
    return;
  }
  const asJson: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(schema))
    asJson[k] = t.toJson((outputs as Record<string, unknown>)[k] as never);
  if (json || Object.keys(asJson).length > 0)
    process.stdout.write(`${JSON.stringify(asJson, replacer, json ? undefined : 2)}\n`);
}

/** The `--remote` extension of `tsflyte run`. */
export const remoteRunExtension: RunExtension = {
  options(cmd) {
    const mine = new Set<Option>();
    const add = (flags: string, description: string, ...rest: unknown[]) =>
      addOption(cmd, mine, flags, description, ...rest);
    add("--remote", "register and run on the FlyteAdmin of the config file instead of locally");
    add("--wait", "with --remote: follow the execution and print its outputs");
    add("-p, --project <project>", "with --remote: project (default flytesnacks)");
    add("-d, --domain <domain>", "with --remote: domain (default development)");
    add("--version <version>", "with --remote: version to register (default: content digest)");
    add("--execution-name <name>", "with --remote: the execution's name (default: generated)");
    add("-i, --image <image>", "with --remote: image, name=ref or a default ref (repeatable)", collect, []);
    add("--config <file>", "with --remote: Flyte config file (admin:, images:)");
    add("--endpoint <endpoint>", "with --remote: FlyteAdmin endpoint, overriding admin.endpoint");
    add("--insecure", "with --remote: plaintext HTTP/2 (no TLS)");
    add("--no-fast", "with --remote: do not ship the code as a bundle (it must be in the image)");
    add("--wait-timeout <seconds>", "with --remote --wait: give up waiting after this long");
    yieldToInputs(cmd, mine);
  },
  async run(opts, entity, _file, values) {
    if (opts.remote !== true) {
      if (opts.wait === true)
        throw new FlyteUsageError("WAIT_WITHOUT_REMOTE", "--wait follows a remote execution", {
          entity: entity.name,
          fix: "add --remote, or drop --wait (local runs always wait)",
        });
      return false;
    }
    const quiet = opts.quiet === true;
    const log = quiet ? undefined : (line: string) => void process.stderr.write(`${line}\n`);
    const remote = FlyteRemote.fromConfig({
      config: str(opts.config),
      endpoint: str(opts.endpoint),
      insecure: opts.insecure === true ? true : undefined,
      project: str(opts.project),
      domain: str(opts.domain),
      images: Array.isArray(opts.image)
        ? (opts.image as string[])
        : str(opts.image)
          ? [str(opts.image)!]
          : [],
      fast: opts.fast !== false,
      log,
      client: {
        log,
        onRetry: ({ call, attempt, delayMs, error }) =>
          log?.(
            `  ${call}: ${error.rawMessage}; retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`,
          ),
      },
    });
    try {
      const started = await remote.execute(entity, values, {
        name: str(opts.executionName),
        version: str(opts.version),
      });
      const id = started.id;
      if (opts.json === true && opts.wait !== true) {
        process.stdout.write(
          `${JSON.stringify({ project: id.project, domain: id.domain, name: id.name, phase: started.phase, url: started.url })}\n`,
        );
      } else if (opts.json !== true) {
        process.stdout.write(`execution ${id.project}/${id.domain}/${id.name}\n${started.url}\n`);
      }
      if (opts.wait !== true) return true;
      const timeout = str(opts.waitTimeout);
      const done: RemoteExecution = await remote.wait(started, {
        ...(timeout !== undefined ? { timeoutMs: Number(timeout) * 1000 } : {}),
        onPhase: (ex) => log?.(`execution ${ex.name}: ${ex.phase}`),
        onNode: (n) => {
          const line = nodeLine(n);
          if (line) log?.(line);
        },
      });
      if (done.phase !== "SUCCEEDED") {
        const why = done.error
          ? `: [${done.error.code}] ${done.error.message}`
          : done.abortCause
            ? `: ${done.abortCause}`
            : "";
        throw new FlyteRemoteError("EXECUTION_FAILED", `execution ${done.name} ended ${done.phase}${why}`, {
          entity: `execution ${id.project}/${id.domain}/${id.name}`,
          origin: done.error?.kind === "SYSTEM" ? "SYSTEM" : "USER",
          fix: `see ${done.url}`,
        });
      }
      printOutputs(entity, await remote.outputs(done, { entity }), opts.json === true);
      return true;
    } finally {
      remote.close();
    }
  },
};

/** Installs `--remote` on `tsflyte run` (the program argument keeps the command-file convention). */
export function register(_program?: Command): void {
  extendRun(remoteRunExtension);
}
