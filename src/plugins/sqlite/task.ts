/**
 * `SQLite3Task`: a query on an SQLite database, run by the SDK's pre-built image (no user code
 * at run time). The template matches flytekit's `SQLite3Task`: task type `sqlite`, custom
 * `{query_template, uri, compressed}`, one output `results` (a dataframe), so templates
 * serialized by either SDK run in the other's executor.
 *
 * ```ts
 * export const tracks = new SQLite3Task({
 *   name: "tracks_by_genre",
 *   queryTemplate: "select TrackId, Name from tracks where GenreId = {{.inputs.genre}} limit {{.inputs.limit}}",
 *   inputs: { genre: t.int(), limit: t.int() },
 *   outputSchema: t.dataframe({ TrackId: t.int(), Name: t.string() }),
 *   config: { uri: "https://example.com/chinook.zip", compressed: true },
 * });
 * ```
 */
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import type { JsonObject } from "@bufbuild/protobuf";
import { brandClass } from "../../core/entity.js";
import type { TaskSettings } from "../../core/task.js";
import { describeValue, FlyteDefinitionError } from "../../errors.js";
import type { TaskTemplate } from "../../proto/gen/flyteidl/core/tasks_pb.js";
import { EnumType } from "../../types/enums.js";
import type { FlyteType } from "../../types/flyte-type.js";
import type { Schema } from "../../types/literal-map.js";
import {
  BigIntType,
  BoolType,
  DatetimeType,
  FloatType,
  IntType,
  NoneType,
  StringType,
} from "../../types/primitives.js";
import { type ColumnTypes, DataFrameType } from "../../types/structured-dataset.js";
import { UnionType } from "../../types/unions.js";
import { CustomizedContainerTask } from "../customized-container-task.js";
import { RESULTS_OUTPUT, type SQLite3Custom } from "./executor.js";
import { compileQuery } from "./query.js";

/** The Flyte task type of SQLite3Task (as flytekit's). */
export const SQLITE_TASK_TYPE = "sqlite";

/** Where the runtime finds the executor of SQLite3Task. */
export const SQLITE_EXECUTOR_LOCATION = "flytekit-ts/plugins/sqlite:SQLite3TaskExecutor";

/**
 * The local file a SQLite task's template reads: its `custom.uri` when that is an absolute path
 * or a `file://` URI (relative paths, `http(s)://` and `s3://` are not local files of the host).
 */
export function sqliteLocalFiles(template: TaskTemplate): string[] {
  const uri = template.custom?.uri;
  if (typeof uri !== "string") return [];
  if (uri.startsWith("file://")) {
    try {
      return [fileURLToPath(uri)];
    } catch {
      return [];
    }
  }
  return isAbsolute(uri) && !uri.includes("://") ? [uri] : [];
}

/** Where the database comes from. */
export interface SQLite3Config {
  /**
   * The database: a path inside the image, a `file://` URI, an `http(s)://` URL, or a storage
   * URI such as `s3://bucket/db.sqlite`. Fetched when the task runs.
   */
  uri: string;
  /** The file is an archive holding only the database: `.zip`, `.tar.gz`/`.tgz`, `.tar` or `.gz`. */
  compressed?: boolean;
}

/** Options of a SQLite3Task. */
export interface SQLite3TaskOptions<I extends Schema, C extends ColumnTypes> extends TaskSettings {
  /**
   * The query, one statement. `{{.inputs.<name>}}` stands for an input and is bound as a query
   * parameter, never spliced in (inside quotes, `'{{.inputs.name}}'`, it is bound as text).
   */
  queryTemplate: string;
  /** Inputs: int, bigint, float, string, bool, datetime or enum types, optionally `t.optional(...)`. */
  inputs?: I;
  /** The type of `results`: `t.dataframe({ column: type, ... })`; untyped columns when absent. */
  outputSchema?: DataFrameType<C>;
  /** The database. */
  config: SQLite3Config;
}

const INPUT_CLASSES = [IntType, BigIntType, FloatType, StringType, BoolType, DatetimeType, EnumType];

function bindable(type: FlyteType<unknown>): boolean {
  let inner = type;
  if (type instanceof UnionType && type.optional) {
    const rest = type.variants.filter((v) => !(v instanceof NoneType));
    if (rest.length !== 1) return false;
    inner = rest[0]!;
  }
  return INPUT_CLASSES.some((cls) => inner instanceof cls);
}

/** A query on an SQLite database; its output `results` is a dataframe. */
export class SQLite3Task<
  const I extends Schema = {},
  const C extends ColumnTypes = {},
> extends CustomizedContainerTask<I, { results: DataFrameType<C> }> {
  /** The normalised query template (stored in `custom.query_template`). */
  readonly queryTemplate: string;
  /** The database. */
  readonly config: Readonly<Required<SQLite3Config>>;

  constructor(options: SQLite3TaskOptions<I, C>) {
    const entity = options?.name ?? "SQLite3Task";
    const outputSchema = options?.outputSchema ?? (new DataFrameType({}) as DataFrameType<C>);
    if (!(outputSchema instanceof DataFrameType)) {
      throw new FlyteDefinitionError(
        "SQLITE_OUTPUT_SCHEMA",
        `outputSchema is ${describeValue(outputSchema)}, not a dataframe type`,
        { entity, fix: "write outputSchema: t.dataframe({ id: t.int(), name: t.string() })" },
      );
    }
    const config = options?.config;
    if (!config || typeof config.uri !== "string" || config.uri.trim() === "") {
      throw new FlyteDefinitionError("SQLITE_CONFIG_INVALID", `config.uri is ${describeValue(config?.uri)}`, {
        entity,
        fix: 'give the database: config: { uri: "s3://bucket/db.sqlite" } (a path, file://, http(s):// or s3:// URI)',
      });
    }
    if (config.compressed !== undefined && typeof config.compressed !== "boolean") {
      throw new FlyteDefinitionError(
        "SQLITE_CONFIG_INVALID",
        `config.compressed is ${describeValue(config.compressed)}, not a boolean`,
        { entity, fix: "write compressed: true for a .zip/.tar.gz archive, else leave it out" },
      );
    }
    const inputs = (options.inputs ?? {}) as I;
    for (const [k, type] of Object.entries(inputs)) {
      if (!bindable(type)) {
        throw new FlyteDefinitionError(
          "SQLITE_INPUT_TYPE",
          `input "${k}" is a ${type?.name ?? describeValue(type)}, which a query cannot bind`,
          {
            entity,
            fix: "use t.int(), t.bigint(), t.float(), t.string(), t.bool(), t.datetime() or t.enum([...]), optionally in t.optional(...)",
          },
        );
      }
    }
    const query = compileQuery(options.queryTemplate, Object.keys(inputs), entity);
    super({
      ...options,
      inputs,
      outputs: { [RESULTS_OUTPUT]: outputSchema } as { results: DataFrameType<C> },
      taskType: SQLITE_TASK_TYPE,
      executorLocation: SQLITE_EXECUTOR_LOCATION,
    });
    this.queryTemplate = query.template;
    this.config = Object.freeze({ uri: config.uri, compressed: config.compressed ?? false });
  }

  /** The database, when `config.uri` is an absolute path or a `file://` URI (container mode mounts it). */
  override localFiles(template: TaskTemplate): string[] {
    return sqliteLocalFiles(template);
  }

  /** flytekit's custom: `{query_template, uri, compressed}`. */
  getCustom(): JsonObject {
    const custom: SQLite3Custom = {
      query_template: this.queryTemplate,
      uri: this.config.uri,
      compressed: this.config.compressed,
    };
    return { ...custom };
  }
}

brandClass(SQLite3Task, "SQLite3Task");
