/**
 * Errors of flytekit-ts. Every error carries a stable `code` (never reworded once released),
 * names the entity and value involved, and says how to fix the problem.
 *
 * `origin` tells user errors (bad input, a task that throws, a wrong definition) from system
 * errors (storage, the runtime itself), as Flyte's error documents require.
 */
import { brandClass } from "./brand.js";

export type ErrorOrigin = "USER" | "SYSTEM";

/** Options shared by every flytekit-ts error. */
export interface FlyteErrorOptions {
  /** The entity (task, workflow, node, image, file) the error is about. */
  entity?: string;
  /** How to fix it, in one sentence. */
  fix?: string;
  /** USER (default) or SYSTEM. */
  origin?: ErrorOrigin;
  /** Whether retrying the same work may succeed. */
  recoverable?: boolean;
  /** The underlying error. */
  cause?: unknown;
}

/** The base class of every flytekit-ts error. */
export class FlyteError extends Error {
  /** Stable machine-readable code, e.g. `TYPE_MISMATCH`. */
  readonly code: string;
  /** The entity the error is about, when known. */
  readonly entity: string | undefined;
  /** How to fix it. */
  readonly fix: string | undefined;
  /** USER or SYSTEM. */
  readonly origin: ErrorOrigin;
  /** Whether a retry may succeed. */
  readonly recoverable: boolean;

  constructor(code: string, message: string, options: FlyteErrorOptions = {}) {
    const parts = [options.entity ? `${options.entity}: ${message}` : message];
    if (options.fix) parts.push(`Fix: ${options.fix}`);
    super(parts.join(" "), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.entity = options.entity;
    this.fix = options.fix;
    this.origin = options.origin ?? "USER";
    this.recoverable = options.recoverable ?? false;
  }
}

/** A value could not be converted to or from a Flyte literal, or types do not match. */
export class FlyteTypeError extends FlyteError {}

/** A task, workflow or launch plan is defined or wired wrongly. */
export class FlyteDefinitionError extends FlyteError {}

/** Running a task or workflow failed. */
export class FlyteExecutionError extends FlyteError {}

/** Reading or writing data failed (local files, S3). System errors by default. */
export class FlyteStorageError extends FlyteError {
  constructor(code: string, message: string, options: FlyteErrorOptions = {}) {
    super(code, message, { origin: "SYSTEM", recoverable: true, ...options });
  }
}

/** Command-line usage errors: unknown entity, bad flag, bad input text. */
export class FlyteUsageError extends FlyteError {}

/**
 * Thrown by user code to say "this failure is transient, retry me": the task's error document
 * is marked RECOVERABLE and retries apply.
 */
export class FlyteRecoverableError extends FlyteError {
  constructor(message: string, options: Omit<FlyteErrorOptions, "recoverable"> = {}) {
    super("USER_RECOVERABLE", message, { ...options, recoverable: true });
  }
}

/** Renders any thrown value as a short string for messages. */
export function describeValue(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (value instanceof Date)
    return `Date(${Number.isNaN(value.getTime()) ? "Invalid" : value.toISOString()})`;
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  try {
    const s = JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
    if (s === undefined) return Object.prototype.toString.call(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

for (const [cls, name] of [
  [FlyteError, "FlyteError"],
  [FlyteTypeError, "FlyteTypeError"],
  [FlyteDefinitionError, "FlyteDefinitionError"],
  [FlyteExecutionError, "FlyteExecutionError"],
  [FlyteStorageError, "FlyteStorageError"],
  [FlyteUsageError, "FlyteUsageError"],
  [FlyteRecoverableError, "FlyteRecoverableError"],
] as const) {
  brandClass(cls, name);
}
