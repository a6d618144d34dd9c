/**
 * The copilot data contract of raw container tasks (Flyte's `flyte-copilot`, v1.16): the
 * container has no SDK, so inputs arrive as files in an input folder and outputs are read back
 * from files in an output folder. These functions do locally what copilot's `download` init
 * container and `sidecar` do on the cluster (flytecopilot/data/download.go and upload.go).
 *
 * Inputs (`copilotInputs`), for each input `<name>`:
 * - primitives: a text file `<dir>/<name>`: integers in decimal, floats as Go's
 *   `FormatFloat(f, 'f', -1)`, booleans `true`/`false`, strings as they are, datetimes RFC 3339
 *   (`2024-05-06T07:08:09.123456Z`), durations as Go prints them (`1h2m3.5s`), none as `null`;
 * - files: the file at `<dir>/<name>`; directories (and legacy schemas): a folder `<dir>/<name>/`;
 * - lists: a folder `<dir>/<name>/` with `0`, `1`, ...; maps: a folder with one entry per key;
 * - binary values: their bytes; untyped JSON (Struct): JSON text; unions: their value.
 * Plus `<dir>/inputs.pb` (the LiteralMap, blob URIs replaced by the local paths) and, by the
 * task's metadata format, `inputs.json` or `inputs.yaml` (every value, keys sorted).
 * Structured datasets (dataframes) are not supported by copilot: they are an error.
 *
 * Outputs (`copilotOutputs`), for each output `<name>` of the task's interface:
 * - if `<dir>/_ERROR` exists, the task failed with its text as the message (a USER error);
 * - files and directories: `<dir>/<name>` (or the only `<dir>/<name>.*`), uploaded under the raw
 *   output prefix when one is given (else the literal points at the local path);
 * - simple types: the text of `<dir>/<name>` (at most 1024 bytes; spaces, tabs and newlines at
 *   both ends ignored), parsed as Go does: integers base 10, floats, booleans
 *   (`1 t T TRUE true True 0 f F FALSE false False`), RFC 3339 datetimes, Go durations (`1h30m`),
 *   JSON objects for untyped JSON; other output types are errors.
 */

import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { create, fromBinary, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { type Duration, DurationSchema, type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { describeValue, FlyteError, FlyteExecutionError } from "../errors.js";
import {
  type Literal,
  type LiteralMap,
  LiteralMapSchema,
  LiteralSchema,
} from "../proto/gen/flyteidl/core/literals_pb.js";
import { DataLoadingConfig_LiteralMapFormat as LiteralMapFormat } from "../proto/gen/flyteidl/core/tasks_pb.js";
import { BlobType_BlobDimensionality, ErrorSchema, SimpleType } from "../proto/gen/flyteidl/core/types_pb.js";
import { joinUri, schemeOf, storage } from "../storage/storage.js";
import type { Schema } from "../types/literal-map.js";
import {
  binaryLiteral,
  boolLiteral,
  datetimeLiteral,
  durationLiteral,
  floatLiteral,
  intLiteral,
  type LiteralType,
  noneLiteral,
  scalarLiteral,
  stringLiteral,
} from "../types/literals.js";
import { goFloatPlain } from "./number-text.js";

/** How the inputs' metadata file is written: `inputs.json`, `inputs.yaml`, or only `inputs.pb`. */
export type MetadataFormat = "JSON" | "YAML" | "PROTO";

/** What copilot needs of a task: its interface and metadata format. */
export interface CopilotTask {
  readonly name: string;
  readonly inputs: Schema;
  readonly outputs: Schema;
  /** Default `JSON`, as flytekit's ContainerTask. */
  readonly metadataFormat?: MetadataFormat;
}

/** The file a raw container writes to fail the task with its content as the message. */
export const COPILOT_ERROR_FILE = "_ERROR";

/** Largest text file copilot reads for a simple-typed output. */
export const COPILOT_MAX_PRIMITIVE_SIZE = 1024;

/** The LiteralMapFormat enum value of a metadata format. */
export function literalMapFormat(format: MetadataFormat): LiteralMapFormat {
  return format === "YAML"
    ? LiteralMapFormat.YAML
    : format === "PROTO"
      ? LiteralMapFormat.PROTO
      : LiteralMapFormat.JSON;
}

// ---- Go's text forms ----

const NANOS_PER_SECOND = 1_000_000_000n;

/** Go's `time.Duration.String()` of a protobuf Duration (`1h2m3.5s`, `1.5ms`, `0s`). */
export function goDuration(d: Duration): string {
  let u = d.seconds * NANOS_PER_SECOND + BigInt(d.nanos);
  if (u === 0n) return "0s";
  const neg = u < 0n;
  if (neg) u = -u;
  const frac = (v: bigint, prec: number): [string, bigint] => {
    const p = 10n ** BigInt(prec);
    const digits = (v % p).toString().padStart(prec, "0").replace(/0+$/, "");
    return [digits ? `.${digits}` : "", v / p];
  };
  let out: string;
  if (u < NANOS_PER_SECOND) {
    const [unit, prec] = u < 1000n ? ["ns", 0] : u < 1_000_000n ? ["µs", 3] : ["ms", 6];
    const [f, whole] = prec === 0 ? ["", u] : frac(u, prec as number);
    out = `${whole}${f}${unit}`;
  } else {
    const [f, secs] = frac(u, 9);
    out = `${secs % 60n}${f}s`;
    const mins = secs / 60n;
    if (mins > 0n) {
      out = `${mins % 60n}m${out}`;
      const hours = mins / 60n;
      if (hours > 0n) out = `${hours}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** Go's RFC 3339 text of a timestamp with nanoseconds, in UTC (`2024-05-06T07:08:09.123456Z`). */
export function goTimestamp(ts: Timestamp): string {
  const iso = new Date(Number(ts.seconds) * 1000).toISOString();
  const frac = String(ts.nanos).padStart(9, "0").replace(/0+$/, "");
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ""}Z`;
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n,
  μs: 1000n,
  ms: 1_000_000n,
  s: NANOS_PER_SECOND,
  m: 60n * NANOS_PER_SECOND,
  h: 3600n * NANOS_PER_SECOND,
};

/** Go's `time.ParseDuration` (`300ms`, `-1.5h`, `2h45m`, `0`); undefined when the text is not one. */
export function parseGoDuration(text: string): Duration | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return create(DurationSchema, {});
  if (s === "") return undefined;
  let total = 0n;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (s !== "") {
    const m = re.exec(s);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
    const unit = UNITS[m[3]!]!;
    const whole = BigInt(m[1] || "0");
    const fracDigits = m[2] ?? "";
    const scale = 10n ** BigInt(fracDigits.length);
    total += whole * unit + (fracDigits ? (BigInt(fracDigits) * unit) / scale : 0n);
    s = s.slice(m[0].length);
  }
  if (neg) total = -total;
  const seconds = total / NANOS_PER_SECOND;
  return create(DurationSchema, { seconds, nanos: Number(total - seconds * NANOS_PER_SECOND) });
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Go's `time.Parse(time.RFC3339, s)`; undefined when the text is not RFC 3339. */
export function parseGoTimestamp(text: string): Timestamp | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (zone !== "Z") {
    const sign = zone![0] === "-" ? -1 : 1;
    ms -= sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
  }
  if (Number.isNaN(ms)) return undefined;
  return create(TimestampSchema, {
    seconds: BigInt(Math.floor(ms / 1000)),
    nanos: Number(frac.padEnd(9, "0")),
  });
}

/** Go's `encoding/json` of copilot's values: keys sorted, int64 exact, `<`, `>`, `&` escaped. */
function goJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") {
    return JSON.stringify(value)
      .replace(/</g, "\\u003c")
      .replace(/>/g, "\\u003e")
      .replace(/&/g, "\\u0026")
      .replace(/\u2028/g, "\\u2028")
      .replace(/\u2029/g, "\\u2029");
  }
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("base64"));
  if (Array.isArray(value)) return `[${value.map(goJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${goJson(k)}:${goJson(obj[k])}`)
    .join(",")}}`;
}

// ---- inputs ----

function inputError(code: string, message: string, entity: string, fix: string, cause?: unknown) {
  return new FlyteExecutionError(code, message, {
    entity,
    origin: "USER",
    fix,
    ...(cause === undefined ? {} : { cause }),
  });
}

async function downloadTo(uri: string, path: string, multipart: boolean, entity: string): Promise<void> {
  const scheme = schemeOf(uri);
  try {
    if (scheme === "http" || scheme === "https") {
      const res = await fetch(uri);
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      await writeFile(path, new Uint8Array(await res.arrayBuffer()));
      return;
    }
    if (scheme === "s3") await import("../storage/s3.js");
    if (multipart) await mkdir(path, { recursive: true });
    await storage.download(uri, path);
  } catch (err) {
    if (err instanceof FlyteError) throw err;
    throw new FlyteExecutionError(
      "COPILOT_DOWNLOAD",
      `downloading ${uri} failed: ${(err as Error).message}`,
      {
        entity,
        origin: "SYSTEM",
        recoverable: true,
        cause: err,
      },
    );
  }
}

/** Writes one literal at `path`; returns copilot's value for inputs.json and the literal with local paths. */
async function writeLiteral(lit: Literal, path: string, entity: string): Promise<[unknown, Literal]> {
  if (lit.value.case === "offloadedMetadata") {
    const inner = fromBinary(LiteralSchema, await storage.get(lit.value.value.uri));
    return writeLiteral(inner, path, entity);
  }
  if (lit.value.case === "collection") {
    await mkdir(path, { recursive: true });
    const values: unknown[] = [];
    const literals: Literal[] = [];
    for (const [i, item] of lit.value.value.literals.entries()) {
      const [v, l] = await writeLiteral(item, join(path, String(i)), entity);
      values.push(v);
      literals.push(l);
    }
    return [values, create(LiteralSchema, { value: { case: "collection", value: { literals } } })];
  }
  if (lit.value.case === "map") {
    await mkdir(path, { recursive: true });
    const [values, map] = await writeLiteralMap(lit.value.value, path, entity);
    return [values, create(LiteralSchema, { value: { case: "map", value: map } })];
  }
  if (lit.value.case !== "scalar") {
    throw inputError(
      "COPILOT_INPUT_UNSUPPORTED",
      `${basename(path)} is a ${lit.value.case ?? "empty"} literal, which copilot cannot write`,
      entity,
      "pass a value",
    );
  }
  const scalar = lit.value.value.value;
  switch (scalar.case) {
    case "primitive": {
      const p = scalar.value.value;
      let text: string;
      let value: unknown;
      switch (p.case) {
        case "integer":
          text = p.value.toString();
          value = p.value;
          break;
        case "floatValue":
          text = goFloatPlain(p.value);
          value = p.value;
          break;
        case "stringValue":
          text = p.value;
          value = p.value;
          break;
        case "boolean":
          text = String(p.value);
          value = p.value;
          break;
        case "datetime":
          text = goTimestamp(p.value);
          value = text;
          break;
        case "duration":
          text = goDuration(p.value);
          value = null; // copilot's inputs.json has null for durations (flytecopilot 1.16)
          break;
        default:
          text = "null";
          value = null;
      }
      await writeFile(path, text);
      return [value, lit];
    }
    case "blob": {
      const multipart = scalar.value.metadata?.type?.dimensionality === BlobType_BlobDimensionality.MULTIPART;
      await downloadTo(scalar.value.uri, path, multipart, entity);
      const blob = create(LiteralSchema, {
        value: {
          case: "scalar",
          value: { value: { case: "blob", value: { metadata: scalar.value.metadata, uri: path } } },
        },
      });
      return [path, blob];
    }
    case "schema": {
      await downloadTo(scalar.value.uri, path, true, entity);
      const schema = create(LiteralSchema, {
        value: {
          case: "scalar",
          value: { value: { case: "schema", value: { type: scalar.value.type, uri: path } } },
        },
      });
      return [path, schema];
    }
    case "binary":
      await writeFile(path, scalar.value.value);
      return [scalar.value.value, lit];
    case "error":
      await writeFile(path, scalar.value.message);
      return [scalar.value.message, lit];
    case "generic":
      await writeFile(path, JSON.stringify(scalar.value));
      return [scalar.value, lit];
    case "noneType":
      await writeFile(path, "null");
      return [null, lit];
    case "union": {
      const inner = scalar.value.value;
      if (!inner) return [null, lit];
      const [v, l] = await writeLiteral(inner, path, entity);
      const union = create(LiteralSchema, {
        value: {
          case: "scalar",
          value: { value: { case: "union", value: { type: scalar.value.type, value: l } } },
        },
      });
      return [v, union];
    }
    default:
      throw inputError(
        "COPILOT_INPUT_UNSUPPORTED",
        `input ${basename(path)} is a ${scalar.case ?? "empty"} literal, which Flyte's copilot cannot write as a file`,
        entity,
        scalar.case === "structuredDataset"
          ? "pass the dataframe as a t.directory() of parquet files, or run the step as a flytekit-ts task"
          : "use primitives, files, directories, lists or maps",
      );
  }
}

async function writeLiteralMap(
  map: LiteralMap,
  dir: string,
  entity: string,
): Promise<[Record<string, unknown>, LiteralMap]> {
  const entries = await Promise.all(
    Object.entries(map.literals).map(
      async ([k, lit]) => [k, await writeLiteral(lit, join(dir, k), entity)] as const,
    ),
  );
  const values: Record<string, unknown> = {};
  const literals: Record<string, Literal> = {};
  for (const [k, [v, l]] of entries) {
    values[k] = v;
    literals[k] = l;
  }
  return [values, create(LiteralMapSchema, { literals })];
}

/**
 * Writes a task's inputs into `dir` as Flyte's copilot does before a raw container starts:
 * one file or folder per input, `inputs.pb`, and `inputs.json`/`inputs.yaml` by the task's
 * metadata format. `dir` is what the container sees as its input folder (`/var/inputs`).
 */
export async function copilotInputs(task: CopilotTask, inputs: LiteralMap, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const [values, local] = await writeLiteralMap(inputs, dir, task.name);
  await writeFile(join(dir, "inputs.pb"), toBinary(LiteralMapSchema, local));
  const format = task.metadataFormat ?? "JSON";
  if (format === "JSON") await writeFile(join(dir, "inputs.json"), goJson(values));
  else if (format === "YAML") {
    // JSON is YAML: re-read copilot's JSON (int64 kept exact) and print it as YAML, keys sorted.
    // yaml is loaded here only: every task's container imports the SDK, few write inputs.yaml.
    const yaml = await import("yaml");
    const plain = yaml.parse(goJson(values), { intAsBigInt: true }) as unknown;
    await writeFile(join(dir, "inputs.yaml"), yaml.stringify(plain, { sortMapEntries: true }));
  }
}

// ---- outputs ----

function outputError(code: string, message: string, entity: string, fix: string) {
  return new FlyteExecutionError(code, message, { entity, origin: "USER", fix });
}

/** `path`, or the only `path.*` (copilot accepts an output file with any extension). */
async function findOutput(path: string): Promise<string | undefined> {
  if (await stat(path).catch(() => undefined)) return path;
  const prefix = `${basename(path)}.`;
  const matches = (await readdir(dirname(path)).catch(() => [] as string[])).filter((n) =>
    n.startsWith(prefix),
  );
  return matches.length === 1 ? join(dirname(path), matches[0]!) : undefined;
}

function parseSimple(type: SimpleType, text: string, name: string, entity: string): Literal {
  const bad = (what: string, fix: string) =>
    outputError(
      "COPILOT_OUTPUT_PARSE",
      `output "${name}" holds ${describeValue(text)}, which is not ${what}`,
      entity,
      `write ${fix} to ${name}`,
    );
  switch (type) {
    case SimpleType.INTEGER: {
      if (!/^[+-]?\d+$/.test(text)) throw bad("an integer", "a base-10 integer such as 42");
      const v = BigInt(text);
      if (v < -(2n ** 63n) || v >= 2n ** 63n) throw bad("a 64-bit integer", "an integer within int64");
      return intLiteral(v);
    }
    case SimpleType.FLOAT: {
      const t = text.replace(/(\d)_(?=\d)/g, "$1");
      let v: number;
      if (/^[+-]?(inf|infinity)$/i.test(t)) v = t.startsWith("-") ? -Infinity : Infinity;
      else if (/^[+-]?nan$/i.test(t)) v = Number.NaN;
      else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) v = Number(t);
      else throw bad("a float", "a number such as 3.14");
      return floatLiteral(v);
    }
    case SimpleType.BOOLEAN: {
      const truthy = ["1", "t", "T", "TRUE", "true", "True"];
      const falsy = ["0", "f", "F", "FALSE", "false", "False"];
      if (!truthy.includes(text) && !falsy.includes(text)) throw bad("a boolean", "true or false");
      return boolLiteral(truthy.includes(text));
    }
    case SimpleType.STRING:
      return stringLiteral(text);
    case SimpleType.DURATION: {
      const d = parseGoDuration(text);
      if (!d) throw bad("a duration", "a Go duration such as 1h30m or 250ms");
      return durationLiteral(d);
    }
    case SimpleType.DATETIME: {
      const ts = parseGoTimestamp(text);
      if (!ts) throw bad("an RFC 3339 datetime", "a datetime such as 2024-05-06T07:08:09Z");
      return datetimeLiteral(ts);
    }
    case SimpleType.STRUCT: {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (json === null || typeof json !== "object" || Array.isArray(json))
        throw bad("a JSON object", "a JSON object");
      return scalarLiteral({ case: "generic", value: json as JsonObject });
    }
    case SimpleType.BINARY:
      return binaryLiteral(new TextEncoder().encode(text), "msgpack");
    case SimpleType.NONE:
      return noneLiteral();
    case SimpleType.ERROR:
      return scalarLiteral({ case: "error", value: create(ErrorSchema, { message: text }) });
    default:
      throw outputError(
        "COPILOT_OUTPUT_UNSUPPORTED",
        `output "${name}" has simple type ${SimpleType[type]}, which copilot cannot read`,
        entity,
        "use int, float, string, bool, datetime, duration, json, file or directory outputs",
      );
  }
}

/** Whether copilot can read an output of this type (simple types, files, directories). */
export function copilotCanReadOutput(lt: LiteralType): boolean {
  return lt.type.case === "simple" || lt.type.case === "blob";
}

/**
 * Reads a task's outputs back from `dir` (the container's output folder) as Flyte's copilot
 * sidecar does. Files and directories are uploaded under `options.rawOutputPrefix`
 * (`<prefix>/<output name>`) when given; otherwise their literals point at the local paths.
 * Throws `FlyteExecutionError`s with codes `COPILOT_*` (USER errors).
 */
export async function copilotOutputs(
  task: CopilotTask,
  dir: string,
  options: { rawOutputPrefix?: string } = {},
): Promise<LiteralMap> {
  const entity = task.name;
  const errFile = join(dir, COPILOT_ERROR_FILE);
  const errStat = await stat(errFile).catch(() => undefined);
  if (errStat) {
    if (errStat.isDirectory() || errStat.size > 1024 * 1024) {
      throw outputError(
        "COPILOT_ERROR_FILE",
        `${COPILOT_ERROR_FILE} is ${errStat.isDirectory() ? "a directory" : `too large (${errStat.size} bytes)`}`,
        entity,
        `write a short message to ${COPILOT_ERROR_FILE}`,
      );
    }
    const message = (await readFile(errFile, "utf8")).trim();
    throw outputError("COPILOT_USER_ERROR", `User Error: ${message}`, entity, "see the container's message");
  }
  const literals: Record<string, Literal> = {};
  for (const [name, type] of Object.entries(task.outputs)) {
    const lt = type.literalType;
    const path = await findOutput(join(dir, name));
    if (!path) {
      throw outputError(
        "COPILOT_OUTPUT_MISSING",
        `the container wrote no output "${name}" (expected ${join(dir, name)})`,
        entity,
        `have the command write ${name} into the output folder`,
      );
    }
    const st = await stat(path);
    if (lt.type.case === "blob") {
      const isDir = st.isDirectory();
      const uri = options.rawOutputPrefix ? joinUri(options.rawOutputPrefix, name) : path;
      if (options.rawOutputPrefix) await storage.upload(path, uri);
      literals[name] = create(LiteralSchema, {
        value: {
          case: "scalar",
          value: {
            value: {
              case: "blob",
              value: {
                uri,
                metadata: {
                  type: {
                    format: "",
                    dimensionality: isDir
                      ? BlobType_BlobDimensionality.MULTIPART
                      : BlobType_BlobDimensionality.SINGLE,
                  },
                },
              },
            },
          },
        },
      });
      continue;
    }
    if (lt.type.case !== "simple") {
      throw outputError(
        "COPILOT_OUTPUT_UNSUPPORTED",
        `output "${name}" is a ${type.name}; copilot reads only simple types, files and directories`,
        entity,
        "declare the output as int, float, string, bool, datetime, duration, json, file or directory",
      );
    }
    if (st.isDirectory()) {
      throw outputError(
        "COPILOT_OUTPUT_PARSE",
        `output "${name}" (${type.name}) is a directory at ${path}, not a file`,
        entity,
        `write the value as text to ${name}`,
      );
    }
    if (st.size > COPILOT_MAX_PRIMITIVE_SIZE) {
      throw outputError(
        "COPILOT_OUTPUT_TOO_LARGE",
        `output "${name}" is ${st.size} bytes; copilot reads at most ${COPILOT_MAX_PRIMITIVE_SIZE} for a ${type.name}`,
        entity,
        "return large values as a t.file()",
      );
    }
    const text = (await readFile(path, "utf8")).replace(/^[ \n\t]+|[ \n\t]+$/g, "");
    literals[name] = parseSimple(lt.type.value, text, name, entity);
  }
  return create(LiteralMapSchema, { literals });
}
