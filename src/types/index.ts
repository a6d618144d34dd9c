/**
 * The type engine. Declare task and workflow interfaces with `t`:
 *
 * ```ts
 * import { t } from "flytekit-ts";
 * const inputs = { n: t.int(), names: t.list(t.string()), when: t.optional(t.datetime()) };
 * ```
 */

import { DirectoryType, FileType, FlyteDirectory, FlyteFile } from "./blobs.js";
import { ListType, MapType } from "./collections.js";
import { EnumType } from "./enums.js";
import type { FlyteType } from "./flyte-type.js";
import { primitives } from "./primitives.js";
import { type Fields, JsonType, RecordType } from "./records.js";
import { type ColumnTypes, DataFrameType, StructuredDataset } from "./structured-dataset.js";
import { optionalOf, UnionType } from "./unions.js";

/** Builders of Flyte types. Each returns a `FlyteType<T>` whose `T` TypeScript infers. */
export const t = {
  /** INTEGER as a number (safe-integer range). */
  int: () => primitives.int,
  /** INTEGER as a bigint (full int64 range). */
  bigint: () => primitives.bigint,
  /** FLOAT. */
  float: () => primitives.float,
  /** STRING. */
  string: () => primitives.string,
  /** BOOLEAN. */
  bool: () => primitives.bool,
  /** DATETIME as a Date. */
  datetime: () => primitives.datetime,
  /** DURATION in milliseconds. */
  duration: () => primitives.duration,
  /** NONE (null). */
  none: () => primitives.none,
  /** BINARY bytes. */
  bytes: () => primitives.bytes,
  /** A list of `element`. */
  list: <T>(element: FlyteType<T>) => new ListType<T>(element),
  /** A map from strings to `value`. */
  map: <T>(value: FlyteType<T>) => new MapType<T>(value),
  /** One of the given strings. */
  enum: <const V extends string>(values: readonly V[]) => new EnumType<V>(values),
  /** An object with typed fields (a flytekit dataclass on the Python side). */
  record: <const S extends Fields>(fields: S, options: { name?: string } = {}) =>
    new RecordType<S>(fields, options.name),
  /** Untyped JSON object (Python `dict`). */
  json: () => new JsonType(),
  /** `T | null`. */
  optional: <T>(inner: FlyteType<T>) => optionalOf(inner),
  /** A value of one of the variants. */
  union: <const V extends readonly FlyteType<unknown>[]>(...variants: V) =>
    new UnionType<V[number] extends FlyteType<infer U> ? U : never>(variants),
  /** A single file (Flyte blob, SINGLE). `format` is e.g. "csv" (default: any). */
  file: (format = "") => new FileType(format),
  /** A directory (Flyte blob, MULTIPART). */
  directory: (format = "") => new DirectoryType(format),
  /** A dataframe with typed columns, stored as parquet (Flyte structured dataset). */
  dataframe: <const C extends ColumnTypes>(columns: C, options: { format?: string } = {}) =>
    new DataFrameType<C>(columns, options.format),
};

export {
  FlyteType,
  registerTransformer,
  type TypeContext,
  typeForLiteralType,
  type ValueOf,
} from "./flyte-type.js";
export * from "./literal-map.js";
export type { Literal, LiteralMap, LiteralType } from "./literals.js";
export type { Fields, RecordValue } from "./records.js";
export { jsonSchemaOf } from "./records.js";
export type { ColumnsOf, ColumnTypes } from "./structured-dataset.js";
export {
  DataFrameType,
  DirectoryType,
  EnumType,
  FileType,
  FlyteDirectory,
  FlyteFile,
  JsonType,
  ListType,
  MapType,
  RecordType,
  StructuredDataset,
  UnionType,
};
