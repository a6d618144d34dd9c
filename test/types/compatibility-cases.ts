/**
 * Binding cases for the type checker, each with the answer of flytepropeller v1.16.8's
 * `validators.AreTypesCastable` (recorded by running the real Go code on these exact
 * LiteralTypes; see compatibility.test.ts for how to re-check with a Go toolchain).
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { SchemaType_SchemaColumn_SchemaColumnType } from "../../src/proto/gen/flyteidl/core/types_pb.js";
import { t } from "../../src/types/index.js";
import {
  collectionType,
  type LiteralType,
  SimpleType,
  simpleType,
  typeStructure,
} from "../../src/types/literals.js";

function union(...variants: [LiteralType, string][]): LiteralType {
  return {
    $typeName: "flyteidl.core.LiteralType",
    type: {
      case: "unionType",
      value: {
        $typeName: "flyteidl.core.UnionType",
        variants: variants.map(([lt, tag]) => ({ ...lt, structure: typeStructure(tag) })),
      },
    },
  } as LiteralType;
}

function enumOf(...values: string[]): LiteralType {
  return t.enum(values).literalType;
}

function struct(metadata: JsonObject | undefined): LiteralType {
  return simpleType(SimpleType.STRUCT, metadata ? { metadata } : {});
}

function schemaType(cols: [string, SchemaType_SchemaColumn_SchemaColumnType][]): LiteralType {
  return {
    $typeName: "flyteidl.core.LiteralType",
    type: {
      case: "schema",
      value: {
        $typeName: "flyteidl.core.SchemaType",
        columns: cols.map(([name, type]) => ({
          $typeName: "flyteidl.core.SchemaType.SchemaColumn",
          name,
          type,
        })),
      },
    },
  } as LiteralType;
}

const INT = t.int().literalType;
const FLOAT = t.float().literalType;
const STR = t.string().literalType;
const NONE = t.none().literalType;

const A = t.record({ a: t.int() }, { name: "A" });
const AB = t.record({ a: t.int(), b: t.optional(t.string()) }, { name: "B" });
const Astr = t.record({ a: t.string() }, { name: "A" });
const Arenamed = t.record({ a: t.int() }, { name: "Renamed" });
const Inner = t.record({ a: t.int(), b: t.string() }, { name: "Inner" });
const Point = t.record({ x: t.int(), inner: t.optional(Inner) }, { name: "Point" });
const PointPlus = t.record({ x: t.int(), inner: t.optional(Inner), extra: t.bool() }, { name: "Point" });
const Flat = t.record({ x: t.int(), y: t.float() }, { name: "Flat" });
const FlatPlus = t.record({ x: t.int(), y: t.float(), z: t.list(t.string()) }, { name: "Flat" });
const WithEnum = t.record({ c: t.enum(["r", "g"]) }, { name: "E" });
const WithOtherEnum = t.record({ c: t.enum(["x"]) }, { name: "E" });
const WithWhen = t.record({ w: t.datetime() }, { name: "W" });
const WithWhenStr = t.record({ w: t.string() }, { name: "W" });

const SD = (cols: Record<string, "int" | "float" | "string">, format = "") =>
  t.dataframe(
    Object.fromEntries(
      Object.entries(cols).map(([k, v]) => [
        k,
        v === "int" ? t.int() : v === "float" ? t.float() : t.string(),
      ]),
    ),
    { format },
  ).literalType;

const { INTEGER, FLOAT: SFLOAT } = SchemaType_SchemaColumn_SchemaColumnType;

/** [name, upstream, downstream, propeller's answer]. */
export const CASES: [string, LiteralType, LiteralType, boolean][] = [
  ["int to int", INT, INT, true],
  ["int to float", INT, FLOAT, false],
  ["float to int", FLOAT, INT, false],
  ["none to int", NONE, INT, false],
  ["int with metadata to int", simpleType(SimpleType.INTEGER, { metadata: { a: 1 } }), INT, true],
  ["enum to string", enumOf("x", "y"), STR, true],
  ["string to enum", STR, enumOf("x", "y"), true],
  ["enum to the same enum", enumOf("x", "y"), enumOf("x", "y"), true],
  ["enum to another enum", enumOf("x", "y"), enumOf("m", "n"), false],
  ["enum to a reordered enum", enumOf("x", "y"), enumOf("y", "x"), false],
  ["datetime to duration", t.datetime().literalType, t.duration().literalType, false],
  ["string to int|str", STR, union([INT, "int"], [STR, "str"]), true],
  ["string to str1|str2 (ambiguous)", STR, union([STR, "str1"], [STR, "str2"]), false],
  [
    "union to a superset union",
    union([STR, "str1"], [STR, "str2"]),
    union([STR, "str1"], [INT, "int1"], [STR, "str2"]),
    true,
  ],
  [
    "union to a union with other tags",
    union([STR, "str1"], [STR, "str2"]),
    union([INT, "str2"], [STR, "str3"]),
    false,
  ],
  ["union to a union of another type with the same tag", union([STR, "test"]), union([INT, "test"]), false],
  [
    "one-variant union to its (tagged) type",
    union([STR, "string"]),
    { ...STR, structure: typeStructure("string") } as LiteralType,
    true,
  ],
  ["one-variant union to its untagged type", union([STR, "str"]), STR, false],
  ["none to optional int", NONE, t.optional(t.int()).literalType, true],
  ["int to optional int", INT, t.optional(t.int()).literalType, true],
  ["optional int to int", t.optional(t.int()).literalType, INT, false],
  ["optional int to optional int", t.optional(t.int()).literalType, t.optional(t.int()).literalType, true],
  [
    "int|str to str|int",
    t.union(t.int(), t.string()).literalType,
    t.union(t.string(), t.int()).literalType,
    true,
  ],
  [
    "int|str to optional int",
    t.union(t.int(), t.string()).literalType,
    t.optional(t.int()).literalType,
    false,
  ],
  ["enum to optional string", enumOf("a"), t.optional(t.string()).literalType, true],
  ["a tagged int to a plain int", { ...INT, structure: typeStructure("int") } as LiteralType, INT, false],
  ["a plain int to a tagged int", INT, { ...INT, structure: typeStructure("int") } as LiteralType, true],
  ["list<int> to list<int>", t.list(t.int()).literalType, t.list(t.int()).literalType, true],
  ["list<none> to list<int>", collectionType(NONE), t.list(t.int()).literalType, true],
  ["list<int> to list<float>", t.list(t.int()).literalType, t.list(t.float()).literalType, false],
  ["list<int> to int", t.list(t.int()).literalType, INT, false],
  ["list<int> to list<list<int>>", t.list(t.int()).literalType, t.list(t.list(t.int())).literalType, false],
  ["none to list<list<int>>", NONE, t.list(t.list(t.int())).literalType, false],
  [
    "list<one-variant union> to list<int> (no unwrapping when nested)",
    collectionType(union([INT, "int"])),
    t.list(t.int()).literalType,
    false,
  ],
  [
    "list<int> to list<optional int>",
    t.list(t.int()).literalType,
    t.list(t.optional(t.int())).literalType,
    true,
  ],
  ["map<int> to map<int>", t.map(t.int()).literalType, t.map(t.int()).literalType, true],
  ["map<int> to map<float>", t.map(t.int()).literalType, t.map(t.float()).literalType, false],
  [
    "map<none> to map<float>",
    { ...t.map(t.float()).literalType, type: { case: "mapValueType", value: NONE } } as LiteralType,
    t.map(t.float()).literalType,
    true,
  ],
  ["map<int> to int", t.map(t.int()).literalType, INT, false],
  ["map<int> to map<map<int>>", t.map(t.int()).literalType, t.map(t.map(t.int())).literalType, false],
  ["list<int> to map<int>", t.list(t.int()).literalType, t.map(t.int()).literalType, false],
  ["struct to struct", struct(undefined), struct(undefined), true],
  ["dict to dict", t.json().literalType, t.json().literalType, true],
  ["record to the same record", A.literalType, A.literalType, true],
  ["record to dict (no schema downstream)", A.literalType, t.json().literalType, true],
  ["dict to record (no schema upstream)", t.json().literalType, A.literalType, true],
  ["record with more fields to fewer (child to parent)", AB.literalType, A.literalType, true],
  ["record with fewer fields to more (parent to child)", A.literalType, AB.literalType, false],
  ["record field int to string", A.literalType, Astr.literalType, false],
  ["record to the same fields under another title", A.literalType, Arenamed.literalType, true],
  ["record with an optional nested record to itself", Point.literalType, Point.literalType, true],
  [
    "record with an optional nested record and an extra field to the smaller one",
    PointPlus.literalType,
    Point.literalType,
    false,
  ],
  ["flat record with an extra field to the smaller one", FlatPlus.literalType, Flat.literalType, true],
  [
    "record enums differ (json-schema-compare ignores untyped enums)",
    WithEnum.literalType,
    WithOtherEnum.literalType,
    true,
  ],
  ["record datetime to string field", WithWhen.literalType, WithWhenStr.literalType, false],
  ["record to int", A.literalType, INT, false],
  ["file to file", t.file().literalType, t.file().literalType, true],
  ["csv file to any file", t.file("csv").literalType, t.file().literalType, true],
  ["any file to csv file", t.file().literalType, t.file("csv").literalType, true],
  ["csv file to pdf file", t.file("csv").literalType, t.file("pdf").literalType, false],
  ["none to file", NONE, t.file().literalType, false],
  [
    "file to directory (dimensionality is not checked)",
    t.file().literalType,
    t.directory().literalType,
    true,
  ],
  ["file to int", t.file().literalType, INT, false],
  ["int to file", INT, t.file().literalType, false],
  ["bytes (pickle) to any file", t.bytes().literalType, t.file().literalType, true],
  ["dataframe to dataframe", SD({}), SD({}), true],
  ["generic dataframe to typed", SD({}), SD({ a: "int" }), true],
  ["typed dataframe to generic", SD({ a: "int" }), SD({}), true],
  [
    "dataframe superset to subset",
    SD({ a: "int", b: "string", c: "float" }),
    SD({ a: "int", b: "string" }),
    true,
  ],
  ["dataframe subset to superset", SD({ a: "int" }), SD({ a: "int", b: "string" }), false],
  ["dataframe column types differ", SD({ a: "int" }), SD({ a: "float" }), false],
  ["parquet dataframe to any format", SD({}, "parquet"), SD({}), true],
  ["any format to parquet", SD({}), SD({}, "parquet"), true],
  ["PARQUET to parquet", SD({}, "PARQUET"), SD({}, "parquet"), true],
  ["csv dataframe to parquet", SD({}, "csv"), SD({}, "parquet"), false],
  ["none to dataframe (nullable)", NONE, SD({ a: "int" }), true],
  ["int to dataframe", INT, SD({}), false],
  ["schema to dataframe", schemaType([["a", INTEGER]]), SD({ a: "int" }), true],
  ["schema to dataframe, column types differ", schemaType([["a", INTEGER]]), SD({ a: "float" }), false],
  ["dataframe to schema", SD({ a: "int", b: "float" }), schemaType([["a", INTEGER]]), true],
  [
    "schema superset to subset",
    schemaType([
      ["a", INTEGER],
      ["b", SFLOAT],
    ]),
    schemaType([["a", INTEGER]]),
    true,
  ],
  [
    "schema subset to superset",
    schemaType([["a", INTEGER]]),
    schemaType([
      ["a", INTEGER],
      ["b", SFLOAT],
    ]),
    false,
  ],
  ["none to schema", NONE, schemaType([]), false],
  [
    "optional dataframe to dataframe",
    t.optional(t.dataframe({ a: t.int() })).literalType,
    SD({ a: "int" }),
    false,
  ],
  [
    "dataframe to optional dataframe",
    SD({ a: "int" }),
    t.optional(t.dataframe({ a: t.int() })).literalType,
    true,
  ],
];
