/**
 * What a container costs per task: a container-mode run of a trivial task (serialize, write
 * inputs.pb, `podman run` of the template, `tsflyte-execute` loading the SDK and the user's
 * module, outputs.pb read back) against a bare `<engine> run --rm <image> node -e 0` of the same
 * image. For bench/ and for `docs/containers.md`.
 *
 * ```ts
 * const m = await measureContainerOverhead({ task: inc, inputs: { x: 1 }, images: [ref], runs: 5 });
 * console.log(m.bare.mean, m.task.mean, m.overheadMs);
 * ```
 */
import type { BaseTask } from "../../core/task.js";
import { inputsToLiterals } from "../executor.js";
import { type ContainerEngine, detectEngine } from "./engine.js";
import { ContainerExecution } from "./executor.js";

/** Timings of repeated runs, in milliseconds. */
export interface Timing {
  runs: number[];
  mean: number;
  min: number;
  max: number;
}

/** Options of {@link measureContainerOverhead}. */
export interface MeasureOptions {
  /** A trivial task (exported from a loaded module). */
  task: BaseTask;
  /** Its inputs. */
  inputs: Record<string, unknown>;
  /** `--image` values; the task's image must exist. */
  images: readonly string[];
  /** Runs of each kind (default 5), after one warm-up of each. */
  runs?: number;
  /** Mount the code (default true: .ts modules then load through tsx in the container). */
  mountCode?: boolean;
  engine?: string | ContainerEngine;
  /** The project root (default the working directory). */
  sourceRoot?: string;
}

/** What {@link measureContainerOverhead} found. */
export interface OverheadMeasurement {
  engine: string;
  image: string;
  /** `<engine> run --rm --network none <image> node -e 0`. */
  bare: Timing;
  /** One container-mode task run, end to end. */
  task: Timing;
  /** `task.mean - bare.mean`: what a task adds over starting a container. */
  overheadMs: number;
}

function timing(runs: number[]): Timing {
  return {
    runs,
    mean: runs.reduce((a, b) => a + b, 0) / runs.length,
    min: Math.min(...runs),
    max: Math.max(...runs),
  };
}

/** Measures bare container starts and container-mode runs of a trivial task, alternating them. */
export async function measureContainerOverhead(options: MeasureOptions): Promise<OverheadMeasurement> {
  const engine =
    typeof options.engine === "object" ? options.engine : await detectEngine(options.engine ?? undefined);
  const n = options.runs ?? 5;
  const make = () =>
    new ContainerExecution(engine, {
      images: options.images,
      cache: false,
      mountCode: options.mountCode !== false,
      sourceRoot: options.sourceRoot,
    });
  const probe = make();
  const image = probe.settings.imageConfig.resolve(options.task.settings.containerImage, options.task.name);
  const bareOnce = async () => {
    const t0 = performance.now();
    const r = await engine.exec(["run", "--rm", "--network", "none", image, "node", "-e", "0"]);
    if (r.code !== 0) throw new Error(`${engine.name} run ${image} failed: ${r.stderr.trim()}`);
    return performance.now() - t0;
  };
  const taskOnce = async () => {
    const exec = make();
    const t0 = performance.now();
    const inputs = await inputsToLiterals(options.task, options.inputs, exec.ctx);
    await exec.execute(options.task, inputs);
    return performance.now() - t0;
  };
  await bareOnce();
  await taskOnce();
  const bare: number[] = [];
  const task: number[] = [];
  for (let i = 0; i < n; i++) {
    bare.push(await bareOnce());
    task.push(await taskOnce());
  }
  const b = timing(bare);
  const t = timing(task);
  return { engine: `${engine.name} ${engine.version}`, image, bare: b, task: t, overheadMs: t.mean - b.mean };
}
