/**
 * Goldens written by real flytekit 1.16 (test/fixtures/flytekit/literals, see
 * scripts/goldens/make_flytekit_goldens.py): for each case our LiteralType for the same type
 * equals flytekit's, we read flytekit's literal to the expected value, and the literal we write
 * for that value equals flytekit's (records: the MessagePack decodes to the same data).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary, toJson } from "@bufbuild/protobuf";
import { decode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { type Literal as LiteralMsg, LiteralSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { type LiteralType, LiteralTypeSchema } from "../../src/proto/gen/flyteidl/core/types_pb.js";
import {
  FlyteDirectory,
  FlyteFile,
  type FlyteType,
  StructuredDataset,
  type TypeContext,
  t,
} from "../../src/types/index.js";

const dir = join(import.meta.dirname, "../fixtures/flytekit/literals");
const indexPath = join(dir, "index.json");

interface Entry {
  name: string;
  value: unknown;
  error?: string;
  files?: { literal: string; type: string };
  binary_tag?: string;
  binary_hex?: string;
  binary_msgpack_decoded?: unknown;
}

const Inner = t.record({ a: t.int(), b: t.string() }, { name: "Inner" });
const Point = t.record(
  { x: t.int(), y: t.float(), label: t.string(), tags: t.list(t.string()), inner: t.optional(Inner) },
  { name: "Point" },
);
const abc = () => t.dataframe({ a: t.int(), b: t.string(), c: t.float() });

type Check = "read" | "write" | "msgpack";
interface Spec {
  type: FlyteType<unknown>;
  /** The value as read by flytekit-ts. */
  value?: unknown;
  /** The value to write (when it differs from how we read it, e.g. a remote file). */
  write?: unknown;
  /** Which of read / write / msgpack comparisons apply. */
  checks: Check[];
  /** Our record declares only some of flytekit's fields: compare those fields' types and data. */
  subset?: boolean;
}

/**
 * flytekit's `Rich` dataclass also holds a FlyteFile, a FlyteDirectory and a StructuredDataset,
 * which flytekit-ts records cannot hold yet; the other fields (datetime, timedelta, enum, map,
 * union) are compared field by field.
 */
const RichSubset = t.record(
  {
    when: t.datetime(),
    dur: t.duration(),
    color: t.enum(["red", "green"]),
    m: t.map(t.float()),
    u: t.union(t.int(), t.string()),
  },
  { name: "Rich" },
);

const SPECS: Record<string, Spec> = {
  int: { type: t.int(), value: 42, checks: ["read", "write"] },
  int_negative: { type: t.int(), value: -(2 ** 40), checks: ["read", "write"] },
  float: { type: t.float(), value: 3.25, checks: ["read", "write"] },
  str: { type: t.string(), value: "hello, flyte ✓", checks: ["read", "write"] },
  bool: { type: t.bool(), value: true, checks: ["read", "write"] },
  // flytekit keeps microseconds; a JS Date keeps milliseconds, so only reading is compared.
  datetime: { type: t.datetime(), value: new Date("2024-05-06T07:08:09.123Z"), checks: ["read"] },
  timedelta: { type: t.duration(), value: 3_723_500, checks: ["read", "write"] },
  date: { type: t.datetime(), value: new Date("2024-05-06T00:00:00Z"), checks: ["read", "write"] },
  none: { type: t.none(), value: null, checks: ["read", "write"] },
  list_int: { type: t.list(t.int()), value: [1, 2, 3], checks: ["read", "write"] },
  list_list_int: { type: t.list(t.list(t.int())), value: [[1], [2, 3]], checks: ["read", "write"] },
  dict_str_int: { type: t.map(t.int()), value: { a: 1, b: 2 }, checks: ["read", "write"] },
  dict_untyped: { type: t.json(), value: { a: 1, b: [1, 2], c: { d: "e" } }, checks: ["read", "write"] },
  enum: { type: t.enum(["red", "green"]), value: "green", checks: ["read", "write"] },
  dataclass: {
    type: Point,
    value: { x: 3, y: 4.5, label: "p1", tags: ["a", "b"], inner: { a: 7, b: "in" } },
    checks: ["read", "write", "msgpack"],
  },
  dataclass_inner_none: {
    type: Point,
    value: { x: -1, y: 0, label: "", tags: [], inner: null },
    checks: ["read", "msgpack"],
  },
  dataclass_rich: {
    type: RichSubset,
    value: { when: new Date("2024-01-02T03:04:05Z"), dur: 90_500, color: "red", m: { a: 1, b: 2 }, u: "s" },
    checks: ["read", "msgpack"],
    subset: true,
  },
  list_dataclass: {
    type: t.list(Inner),
    value: [
      { a: 1, b: "one" },
      { a: 2, b: "two" },
    ],
    checks: ["read", "write"],
  },
  optional_int_value: { type: t.optional(t.int()), value: 5, checks: ["read", "write"] },
  optional_int_none: { type: t.optional(t.int()), value: null, checks: ["read", "write"] },
  union_int_str_int: { type: t.union(t.int(), t.string()), value: 7, checks: ["read", "write"] },
  union_int_str_str: { type: t.union(t.int(), t.string()), value: "seven", checks: ["read", "write"] },
  // The pickle's uri was pinned to s3:// by the golden script: only the types and literal shape compare.
  bytes: { type: t.bytes(), checks: [] },
  flytefile: {
    type: t.file(),
    value: "s3://my-bucket/data/file.txt",
    write: FlyteFile.fromPath("s3://my-bucket/data/file.txt"),
    checks: ["read", "write"],
  },
  flytefile_csv: {
    type: t.file("csv"),
    value: "s3://my-bucket/data/table.csv",
    write: FlyteFile.fromPath("s3://my-bucket/data/table.csv"),
    checks: ["read", "write"],
  },
  flytedirectory: {
    type: t.directory(),
    value: "s3://my-bucket/data/dir",
    write: FlyteDirectory.fromPath("s3://my-bucket/data/dir"),
    checks: ["read", "write"],
  },
  sd_pandas: {
    type: t.dataframe({}),
    value: "s3://my-bucket/goldens/sd_pandas",
    write: StructuredDataset.fromUri("s3://my-bucket/goldens/sd_pandas"),
    checks: ["read", "write"],
  },
  sd_annotated: {
    type: abc(),
    value: "s3://my-bucket/goldens/sd_annotated",
    write: StructuredDataset.fromUri("s3://my-bucket/goldens/sd_annotated"),
    checks: ["read", "write"],
  },
};

/** The protobuf JSON of a record's LiteralType, as far as the comparisons look into it. */
interface LtJson {
  simple?: unknown;
  annotation?: unknown;
  metadata?: { title?: string; properties?: Record<string, unknown>; required?: string[] };
  structure?: { dataclassType?: Record<string, unknown> };
}

const ctx: TypeContext = { rawDataPrefix: "/tmp/fk-ts-goldens/raw", workDir: "/tmp/fk-ts-goldens/work" };

function readGolden(e: Entry): { literal: LiteralMsg; type: LiteralType } {
  return {
    literal: fromBinary(LiteralSchema, new Uint8Array(readFileSync(join(dir, e.files!.literal)))),
    type: fromBinary(LiteralTypeSchema, new Uint8Array(readFileSync(join(dir, e.files!.type)))),
  };
}

/** Plain comparable form of what we read (files and dataframes by location). */
function comparable(v: unknown): unknown {
  if (v instanceof FlyteFile || v instanceof FlyteDirectory) return v.location;
  if (v instanceof StructuredDataset) return v.uri;
  return v;
}

function binaryOf(l: LiteralMsg): Uint8Array {
  if (l.value.case === "scalar" && l.value.value.value.case === "binary")
    return l.value.value.value.value.value;
  throw new Error("not a binary literal");
}

const entries: Entry[] = existsSync(indexPath) ? JSON.parse(readFileSync(indexPath, "utf8")) : [];

describe.skipIf(entries.length === 0)("flytekit 1.16 goldens", () => {
  it("has a spec for every golden case", () => {
    const names = entries.filter((e) => e.files).map((e) => e.name);
    expect(names.filter((n) => !(n in SPECS))).toEqual([]);
  });

  const cases = entries.filter((e) => e.files && e.name in SPECS);
  it.each(cases.map((e) => [e.name, e] as const))("%s: our LiteralType equals flytekit's", (_n, e) => {
    const { type } = readGolden(e);
    const spec = SPECS[e.name]!;
    const ours = toJson(LiteralTypeSchema, spec.type.literalType) as LtJson;
    const theirs = toJson(LiteralTypeSchema, type) as LtJson;
    if (!spec.subset) {
      expect(ours).toEqual(theirs);
      return;
    }
    const pick = (lt: LtJson, keys: string[]) => ({
      simple: lt.simple,
      annotation: lt.annotation,
      title: lt.metadata?.title,
      properties: keys.map((k) => lt.metadata?.properties?.[k]),
      required: keys.map((k) => lt.metadata?.required?.includes(k)),
      fields: keys.map((k) => lt.structure?.dataclassType?.[k]),
    });
    const keys = Object.keys((spec.type as typeof RichSubset).fields);
    expect(pick(ours, keys)).toEqual(pick(theirs, keys));
  });

  it.each(cases.filter((e) => SPECS[e.name]!.checks.includes("read")).map((e) => [e.name, e] as const))(
    "%s: reads flytekit's literal to the value",
    async (_n, e) => {
      const spec = SPECS[e.name]!;
      const { literal } = readGolden(e);
      expect(comparable(await spec.type.fromLiteral(literal, ctx))).toEqual(spec.value);
    },
  );

  it.each(cases.filter((e) => SPECS[e.name]!.checks.includes("write")).map((e) => [e.name, e] as const))(
    "%s: writes the literal flytekit writes",
    async (_n, e) => {
      const spec = SPECS[e.name]!;
      const { literal } = readGolden(e);
      const ours = await spec.type.toLiteral(spec.write ?? spec.value, ctx);
      expect(toJson(LiteralSchema, ours)).toEqual(toJson(LiteralSchema, literal));
    },
  );

  it.each(cases.filter((e) => SPECS[e.name]!.checks.includes("msgpack")).map((e) => [e.name, e] as const))(
    "%s: our MessagePack decodes to flytekit's data",
    async (_n, e) => {
      const spec = SPECS[e.name]!;
      const ours = await spec.type.toLiteral(spec.value, ctx);
      expect(e.binary_tag).toBe("msgpack");
      const decodedOurs = decode(binaryOf(ours), { useBigInt64: false }) as Record<string, unknown>;
      const theirs = decode(Buffer.from(e.binary_hex!, "hex")) as Record<string, unknown>;
      const only = (o: Record<string, unknown>) =>
        spec.subset ? Object.fromEntries(Object.keys(decodedOurs).map((k) => [k, o[k]])) : o;
      expect(decodedOurs).toEqual(only(e.binary_msgpack_decoded as Record<string, unknown>));
      expect(decodedOurs).toEqual(only(theirs));
    },
  );

  it("the dataclass MessagePack is byte-identical to flytekit's", async () => {
    const e = entries.find((x) => x.name === "dataclass")!;
    const ours = Point.toLiteral(SPECS.dataclass!.value as never);
    expect(Buffer.from(binaryOf(ours)).toString("hex")).toBe(e.binary_hex);
  });

  it("bytes: flytekit writes a pickle blob; ours has the same shape", async () => {
    const e = entries.find((x) => x.name === "bytes")!;
    const { literal } = readGolden(e);
    const ours = await t.bytes().toLiteral(new Uint8Array([0, 1]), ctx);
    const shape = (l: LiteralMsg) =>
      l.value.case === "scalar" && l.value.value.value.case === "blob"
        ? toJson(LiteralSchema, {
            ...l,
            value: {
              ...l.value,
              value: {
                ...l.value.value,
                value: { case: "blob", value: { ...l.value.value.value.value, uri: "" } },
              },
            },
          } as LiteralMsg)
        : undefined;
    expect(shape(ours)).toEqual(shape(literal));
  });
});
