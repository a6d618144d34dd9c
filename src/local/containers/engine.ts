/**
 * The container engine: podman or docker, detected (podman first) or chosen with `--engine` /
 * `TSFLYTE_CONTAINER_ENGINE`, checked to actually work (a `docker` CLI without a daemon does
 * not count), and the few engine calls the executor and the image builder make.
 */
import { spawn } from "node:child_process";
import { brandClass } from "../../brand.js";
import { FlyteError, type FlyteErrorOptions } from "../../errors.js";

/** Errors of container engines, image builds and container runs. SYSTEM origin unless said otherwise. */
export class FlyteContainerError extends FlyteError {
  constructor(code: string, message: string, options: FlyteErrorOptions = {}) {
    super(code, message, { origin: "SYSTEM", ...options });
  }
}
brandClass(FlyteContainerError, "FlyteContainerError");

/** The engines flytekit-ts can drive. */
export const ENGINE_NAMES = ["podman", "docker"] as const;

/** An engine name. */
export type EngineName = (typeof ENGINE_NAMES)[number];

/** The environment variable that chooses the engine when `--engine` is not given. */
export const ENGINE_ENV_VAR = "TSFLYTE_CONTAINER_ENGINE";

/** What a finished command left. */
export interface CommandResult {
  /** Exit code (`null` replaced by 128 + signal number or -1). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Called with each chunk of stderr as it arrives. */
  onStderr?: (chunk: string) => void;
  /** Called with each chunk of stdout as it arrives. */
  onStdout?: (chunk: string) => void;
  /** Keep at most this many characters of each stream (the tail); default 1 MiB. */
  maxOutput?: number;
  /** Working directory of the program. */
  cwd?: string;
  /** The program's environment (default this process's). */
  env?: NodeJS.ProcessEnv;
}

/** Runs a program and collects its output; never throws for a non-zero exit (only when it cannot start). */
export function runCommand(
  bin: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const max = options.maxOutput ?? 1 << 20;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      options.onStdout?.(d);
      stdout = (stdout + d).slice(-max);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      options.onStderr?.(d);
      stderr = (stderr + d).slice(-max);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ code: code ?? (signal ? 128 + signalNumber(signal) : -1), stdout, stderr });
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 }[signal as string] ?? 0;
}

/** What an image is, as far as running it is concerned. */
export interface ImageInfo {
  /** The reference asked for. */
  reference: string;
  /** The engine's image id. */
  id: string;
  /** The image's working directory (`/root` when it sets none). */
  workdir: string;
  /** The image's environment. */
  env: Readonly<Record<string, string>>;
  /** The image's labels. */
  labels: Readonly<Record<string, string>>;
}

/** A working container engine. */
export class ContainerEngine {
  readonly #images = new Map<string, Promise<ImageInfo | undefined>>();

  /** Use {@link detectEngine}; this constructor does not check that the engine works. */
  constructor(
    /** `podman` or `docker`. */
    readonly name: EngineName,
    /** The program to run (a name on PATH or a path). */
    readonly bin: string,
    /** The engine's version. */
    readonly version: string,
  ) {}

  /** Runs the engine with arguments. */
  exec(args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
    return runCommand(this.bin, args, options);
  }

  /** What the image is, or undefined when the engine does not have it locally (remembered per engine). */
  inspectImage(reference: string): Promise<ImageInfo | undefined> {
    let p = this.#images.get(reference);
    if (!p) {
      p = this.#inspect(reference);
      this.#images.set(reference, p);
      // A missing image may be built or pulled later in the same process: do not remember that.
      void p.then((info) => {
        if (!info) this.#images.delete(reference);
      });
    }
    return p;
  }

  /** Whether the engine has the image locally. */
  async imageExists(reference: string): Promise<boolean> {
    const r = await this.exec(["image", "exists", reference]).catch(() => undefined);
    if (this.name === "podman") return r?.code === 0;
    return (await this.inspectImage(reference)) !== undefined;
  }

  /** Forgets what {@link inspectImage} remembered (after a build). */
  forget(reference?: string): void {
    if (reference === undefined) this.#images.clear();
    else this.#images.delete(reference);
  }

  async #inspect(reference: string): Promise<ImageInfo | undefined> {
    const r = await this.exec(["image", "inspect", reference]);
    if (r.code !== 0) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.stdout);
    } catch {
      return undefined;
    }
    const first = (Array.isArray(parsed) ? parsed[0] : undefined) as
      | { Id?: string; Config?: { WorkingDir?: string; Env?: string[]; Labels?: Record<string, string> } }
      | undefined;
    if (!first) return undefined;
    const env: Record<string, string> = {};
    for (const kv of first.Config?.Env ?? []) {
      const i = kv.indexOf("=");
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return {
      reference,
      id: first.Id ?? "",
      workdir: first.Config?.WorkingDir || "/root",
      env,
      labels: { ...(first.Config?.Labels ?? {}) },
    };
  }
}

const detected = new Map<string, Promise<ContainerEngine>>();

/**
 * The engine to use: `choice` (`podman`, `docker`, a path to either, or `auto`), else
 * `$TSFLYTE_CONTAINER_ENGINE`, else the first of podman and docker that answers `info`.
 * Throws `FlyteContainerError` `CONTAINER_ENGINE_MISSING` (none works) or
 * `CONTAINER_ENGINE_UNKNOWN` (a name that is neither).
 */
export function detectEngine(choice?: string): Promise<ContainerEngine> {
  const wanted = (choice ?? process.env[ENGINE_ENV_VAR] ?? "auto").trim() || "auto";
  let p = detected.get(wanted);
  if (!p) {
    p = probeAll(wanted);
    detected.set(wanted, p);
    p.catch(() => detected.delete(wanted));
  }
  return p;
}

async function probeAll(wanted: string): Promise<ContainerEngine> {
  const candidates: { name: EngineName; bin: string }[] = [];
  if (wanted === "auto") for (const name of ENGINE_NAMES) candidates.push({ name, bin: name });
  else {
    const base = wanted.slice(wanted.lastIndexOf("/") + 1);
    const name = ENGINE_NAMES.find((n) => base === n || base.startsWith(`${n}-`) || base.startsWith(`${n}.`));
    if (!name) {
      throw new FlyteContainerError(
        "CONTAINER_ENGINE_UNKNOWN",
        `unknown container engine ${JSON.stringify(wanted)}`,
        {
          entity: "--engine",
          origin: "USER",
          fix: "choose podman or docker (or a path to one of them), or leave --engine out to detect one",
        },
      );
    }
    candidates.push({ name, bin: wanted });
  }
  const problems: string[] = [];
  for (const c of candidates) {
    const version = await probe(c.name, c.bin).catch((err: Error) => {
      problems.push(`${c.bin}: ${err.message}`);
      return undefined;
    });
    if (version !== undefined) return new ContainerEngine(c.name, c.bin, version);
  }
  throw new FlyteContainerError(
    "CONTAINER_ENGINE_MISSING",
    `no working container engine (${problems.join("; ")})`,
    {
      entity: wanted === "auto" ? "podman/docker" : wanted,
      origin: "USER",
      fix: "install podman (e.g. apt-get install podman) or start the docker daemon; choose one with --engine or TSFLYTE_CONTAINER_ENGINE",
    },
  );
}

async function probe(name: EngineName, bin: string): Promise<string> {
  const format = name === "podman" ? "{{.Version.Version}}" : "{{.ServerVersion}}";
  let r: CommandResult;
  try {
    r = await runCommand(bin, ["info", "--format", format]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === "ENOENT" ? "not installed" : e.message);
  }
  if (r.code !== 0) {
    const line = r.stderr.trim().split("\n").pop() ?? "";
    throw new Error(`\`${name} info\` failed (exit ${r.code}${line ? `: ${line.slice(0, 200)}` : ""})`);
  }
  return r.stdout.trim();
}
