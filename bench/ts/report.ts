/**
 * What every flytekit-ts bench script prints: one JSON line with its own timings (milliseconds,
 * measured in process, so interpreter start-up and module loading are not in them) and its peak
 * memory. `bench/run.mjs` reads the last line of stdout.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Scratch folders of local runs, for `bench/run.mjs` to remove. */
const scratch: string[] = [];

/** Arguments of a bench script: `--n 1000`, `--warmup 10`, `--out /tmp/x`. */
export function args(defaults: Record<string, string>): Record<string, string> {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--") && argv[i + 1] !== undefined) {
      out[a.slice(2)] = argv[i + 1]!;
      i++;
    }
  }
  return out;
}

/**
 * Milliseconds taken by `fn` (awaited): wall time, and CPU time (user + system, all threads of
 * the process), which a busy machine disturbs less.
 */
export async function time<T>(fn: () => T | Promise<T>): Promise<[number, T, number]> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await fn();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return [wall, value, (used.user + used.system) / 1000];
}

/** Prints the result line: `metrics` in milliseconds, plus peak RSS in MB. */
export function emit(
  workload: string,
  metrics: Record<string, number>,
  extra: Record<string, unknown> = {},
): void {
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${JSON.stringify({ side: "flytekit-ts", workload, metrics, maxRssMb, node: process.version, scratch, ...extra })}\n`,
  );
}

/**
 * Options of a local run for a bench: the SDK's defaults (cache off), with a known execution
 * name. Its scratch folder (under the OS temp dir, one folder per node) is listed in the result
 * line for `bench/run.mjs` to remove after the process ends, so the removal is not in the
 * process's wall time.
 */
export function localRunOptions(label: string): { cache: false; executionName: string } {
  const executionName = `bench-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  scratch.push(join(tmpdir(), "flytekit-ts", executionName));
  return { cache: false, executionName };
}
