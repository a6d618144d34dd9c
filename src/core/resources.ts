/** Compute resources of a task: requests and limits as Kubernetes quantities. */
import { describeValue, FlyteDefinitionError } from "../errors.js";
import { parseDuration } from "../types/primitives.js";

/** Resources of a task. Numbers are CPUs or GPUs; strings are Kubernetes quantities (`"500m"`, `"2Gi"`). */
export interface Resources {
  cpu?: string | number;
  memory?: string;
  gpu?: string | number;
  ephemeralStorage?: string;
}

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** Validates resources and returns them as quantity strings, naming the entity on error. */
export function normalizeResources(
  r: Resources | undefined,
  entity: string,
  which: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!r) return out;
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue;
    if (!["cpu", "memory", "gpu", "ephemeralStorage"].includes(k)) {
      throw new FlyteDefinitionError("RESOURCE_UNKNOWN", `unknown resource "${k}" in ${which}`, {
        entity,
        fix: "use cpu, memory, gpu or ephemeralStorage",
      });
    }
    const s = String(v);
    if (!QUANTITY.test(s) || (typeof v === "number" && !(v > 0))) {
      throw new FlyteDefinitionError(
        "RESOURCE_INVALID",
        `${which}.${k} = ${describeValue(v)} is not a Kubernetes quantity`,
        {
          entity,
          fix: 'write e.g. cpu: "500m" or 2, memory: "512Mi" or "2Gi"',
        },
      );
    }
    out[k] = s;
  }
  return out;
}

/** Parses a timeout (milliseconds, or text like `"1h30m"`) into milliseconds. */
export function parseTimeout(t: number | string | undefined, entity: string): number | undefined {
  if (t === undefined) return undefined;
  if (typeof t === "number" && Number.isFinite(t) && t > 0) return t;
  if (typeof t === "string") {
    try {
      const ms = parseDuration(t);
      if (ms > 0) return ms;
    } catch {
      // reported below
    }
  }
  throw new FlyteDefinitionError(
    "TIMEOUT_INVALID",
    `timeout ${describeValue(t)} is not a positive duration`,
    { entity, fix: 'give milliseconds or text like "30m", "1h30m"' },
  );
}
