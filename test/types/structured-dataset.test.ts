/**
 * Dataframes: our parquet read by real pyarrow, flytekit's (pyarrow's) parquet read by us,
 * the literal's layout, and the errors for columns that do not match.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { LiteralSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { StructuredDataset, type TypeContext, t } from "../../src/types/index.js";
import { type Literal, structuredDatasetLiteral } from "../../src/types/literals.js";
import { findPython, runPython } from "./python-peer.js";

const root = mkdtempSync(join(tmpdir(), "fk-ts-sd-"));
const ctx: TypeContext = { rawDataPrefix: join(root, "raw"), workDir: join(root, "work") };
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixtures = join(import.meta.dirname, "../fixtures/flytekit/literals");

function sdOf(lit: Literal) {
  if (lit.value.case !== "scalar" || lit.value.value.value.case !== "structuredDataset")
    throw new Error("not a structured dataset");
  return lit.value.value.value.value;
}
function wire(lit: Literal): Literal {
  return fromBinary(LiteralSchema, toBinary(LiteralSchema, lit));
}

const Sales = t.dataframe({
  id: t.int(),
  big: t.bigint(),
  name: t.string(),
  price: t.float(),
  ok: t.bool(),
  at: t.datetime(),
  kind: t.enum(["a", "b"]),
  raw: t.bytes(),
  note: t.optional(t.string()),
});

const rows = [
  {
    id: 1,
    big: 2n ** 60n,
    name: "x",
    price: 1.5,
    ok: true,
    at: new Date("2024-05-06T07:08:09.123Z"),
    kind: "a" as const,
    raw: new Uint8Array([1]),
    note: "n",
  },
  {
    id: -2,
    big: -(2n ** 63n),
    name: "ü ✓",
    price: Number.NaN,
    ok: false,
    at: new Date(0),
    kind: "b" as const,
    raw: new Uint8Array([]),
    note: null,
  },
  {
    id: Number.MAX_SAFE_INTEGER,
    big: 0n,
    name: "",
    price: -0.25,
    ok: true,
    at: new Date(-1000),
    kind: "a" as const,
    raw: new Uint8Array([255, 0]),
    note: "",
  },
];

describe("dataframes round-trip", () => {
  it("writes <rawDataPrefix>/<random>/00000 and a literal with columns and format parquet", async () => {
    const ds = StructuredDataset.fromRows(rows);
    const lit = wire(await Sales.toLiteral(ds, ctx));
    const sd = sdOf(lit);
    expect(sd.uri).toMatch(new RegExp(`^${ctx.rawDataPrefix}/[0-9a-f]{32}$`));
    expect(readdirSync(sd.uri)).toEqual(["00000"]);
    expect(sd.metadata?.structuredDatasetType?.format).toBe("parquet");
    expect(sd.metadata?.structuredDatasetType?.columns.map((c) => c.name)).toEqual([
      "id",
      "big",
      "name",
      "price",
      "ok",
      "at",
      "kind",
      "raw",
      "note",
    ]);
    expect(ds.uri).toBe(sd.uri);
    // The LiteralType keeps the declared (empty) format, as flytekit's does.
    expect(
      Sales.literalType.type.case === "structuredDatasetType" && Sales.literalType.type.value.format,
    ).toBe("");

    const back = Sales.fromLiteral(lit, ctx);
    expect(back.uri).toBe(sd.uri);
    expect(back.format).toBe("parquet");
    const read = await back.rows();
    expect(read).toEqual(rows);
    const cols = await back.columns();
    expect(cols.id).toEqual([1, -2, Number.MAX_SAFE_INTEGER]);
    expect(cols.note).toEqual(["n", null, ""]);
  });

  it("passes a stored dataframe through by uri without rewriting it", async () => {
    const lit = await Sales.toLiteral(StructuredDataset.fromUri("s3://bucket/some/df"), ctx);
    expect(sdOf(lit).uri).toBe("s3://bucket/some/df");
  });

  it("an empty dataframe, and one without declared columns", async () => {
    const empty = await Sales.fromLiteral(
      await Sales.toLiteral(StructuredDataset.fromRows([]), ctx),
      ctx,
    ).rows();
    expect(empty).toEqual([]);
    const Any = t.dataframe({});
    const lit = await Any.toLiteral(
      StructuredDataset.fromRows([
        { a: 1.5, s: "x" },
        { a: 2, s: null },
      ]),
      ctx,
    );
    expect(await Any.fromLiteral(lit, ctx).rows()).toEqual([
      { a: 1.5, s: "x" },
      { a: 2, s: null },
    ]);
  });

  it("JSON and text forms: a uri, or rows", () => {
    expect(Sales.parseText("s3://b/df").uri).toBe("s3://b/df");
    const ds = t
      .dataframe({ a: t.int(), b: t.optional(t.string()) })
      .parseText('[{"a": 1, "b": "x"}, {"a": 2}]');
    expect(ds.memoryRows).toEqual([
      { a: 1, b: "x" },
      { a: 2, b: null },
    ]);
    expect(t.dataframe({ a: t.int() }).toJson(StructuredDataset.fromRows([{ a: 1 }]))).toEqual([{ a: 1 }]);
  });

  it("errors writing: a bad value names row and column, a missing value, an unknown column", async () => {
    const D = t.dataframe({ a: t.int(), b: t.string() });
    await expect(
      D.toLiteral(
        StructuredDataset.fromRows([
          { a: 1, b: "x" },
          { a: 1.5, b: "y" },
        ]),
        ctx,
      ),
    ).rejects.toMatchObject({
      code: "TYPE_INVALID_VALUE",
      path: "[1].a",
    });
    await expect(D.toLiteral(StructuredDataset.fromRows([{ a: 1 } as never]), ctx)).rejects.toMatchObject({
      code: "TYPE_INVALID_VALUE",
      path: "[0].b",
    });
    await expect(
      D.toLiteral(StructuredDataset.fromRows([{ a: 1, b: "x", c: 2 } as never]), ctx),
    ).rejects.toMatchObject({ code: "TYPE_UNKNOWN_FIELD" });
    expect(() => t.dataframe({ xs: t.list(t.int()) as never })).toThrow(
      expect.objectContaining({ code: "TYPE_DATAFRAME_COLUMN_UNSUPPORTED" }),
    );
  });
});

describe("reading flytekit's (pyarrow's) parquet", () => {
  /** A literal pointing at a folder holding the golden parquet file as `00000`, as flytekit lays it out. */
  function goldenLiteral(name: string): Literal {
    const dir = join(root, "golden", name);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(fixtures, `${name}.0.parquet`), join(dir, "00000"));
    return structuredDatasetLiteral(dir, Sales.literalType.type.value as never);
  }

  it("reads the pandas golden (snappy, int64/string/double) with typed columns", async () => {
    const D = t.dataframe({ a: t.int(), b: t.string(), c: t.float() });
    expect(await D.fromLiteral(goldenLiteral("sd_pandas"), ctx).rows()).toEqual([
      { a: 1, b: "x", c: 1.5 },
      { a: 2, b: "y", c: 2.5 },
      { a: 3, b: "z", c: -0.25 },
    ]);
  });

  it("reads a subset of the columns, as propeller allows", async () => {
    const D = t.dataframe({ c: t.float() });
    expect(await D.fromLiteral(goldenLiteral("sd_annotated"), ctx).rows()).toEqual([
      { c: 1.5 },
      { c: 2.5 },
      { c: -0.25 },
    ]);
  });

  it("a column type mismatch is a FlyteTypeError naming the column", async () => {
    const D = t.dataframe({ a: t.string(), b: t.string() });
    await expect(D.fromLiteral(goldenLiteral("sd_pandas"), ctx).rows()).rejects.toMatchObject({
      code: "TYPE_DATAFRAME_COLUMN_TYPE",
      message: expect.stringContaining('column "a"'),
    });
    const M = t.dataframe({ zz: t.int() });
    await expect(M.fromLiteral(goldenLiteral("sd_pandas"), ctx).rows()).rejects.toMatchObject({
      code: "TYPE_DATAFRAME_COLUMN_MISSING",
      message: expect.stringContaining('"zz"'),
    });
  });

  it("a file that is not parquet", async () => {
    const dir = join(root, "notparquet");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "00000"), "hello");
    const D = t.dataframe({ a: t.int() });
    await expect(
      D.fromLiteral(structuredDatasetLiteral(dir, Sales.literalType.type.value as never), ctx).rows(),
    ).rejects.toMatchObject({
      code: "TYPE_DATAFRAME_FORMAT",
    });
  });
});

const peer = findPython(["pyarrow", "pandas", "flytekit"]);

describe.skipIf(!peer.python)(
  `real pyarrow and flytekit read our dataframes ${peer.reason ? `(skipped: ${peer.reason})` : ""}`,
  () => {
    it("pyarrow sees int64, string, double, bool, timestamp[ms, UTC], binary and the values", async () => {
      const lit = await Sales.toLiteral(StructuredDataset.fromRows(rows), ctx);
      const dir = sdOf(lit).uri;
      const out = runPython(
        peer.python!,
        `
import json, sys, math, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
def enc(v):
    if isinstance(v, bytes): return v.hex()
    if isinstance(v, float) and math.isnan(v): return "NaN"
    if hasattr(v, "isoformat"): return v.isoformat()
    return v
print(json.dumps({"schema": {f.name: str(f.type) for f in t.schema},
                  "data": {k: [enc(v) for v in vs] for k, vs in t.to_pydict().items()}}))
`,
        [dir],
      );
      const got = JSON.parse(out) as { schema: Record<string, string>; data: Record<string, unknown[]> };
      expect(got.schema).toEqual({
        id: "int64",
        big: "int64",
        name: "string",
        price: "double",
        ok: "bool",
        at: "timestamp[ms, tz=UTC]",
        kind: "string",
        raw: "binary",
        note: "string",
      });
      expect(got.data.id).toEqual([1, -2, Number.MAX_SAFE_INTEGER]);
      expect(got.data.big).toEqual([Number(2n ** 60n), Number(-(2n ** 63n)), 0]);
      expect(got.data.name).toEqual(["x", "ü ✓", ""]);
      expect(got.data.price).toEqual([1.5, "NaN", -0.25]);
      expect(got.data.at).toEqual([
        "2024-05-06T07:08:09.123000+00:00",
        "1970-01-01T00:00:00+00:00",
        "1969-12-31T23:59:59+00:00",
      ]);
      expect(got.data.raw).toEqual(["01", "", "ff00"]);
      expect(got.data.note).toEqual(["n", null, ""]);
    });

    it("pyarrow's exact int64 values (beyond 2^53)", async () => {
      const D = t.dataframe({ big: t.bigint() });
      const lit = await D.toLiteral(
        StructuredDataset.fromRows([{ big: 2n ** 62n + 1n }, { big: -(2n ** 63n) }]),
        ctx,
      );
      const out = runPython(
        peer.python!,
        "import sys, pyarrow.parquet as pq; print(pq.read_table(sys.argv[1]).column('big').to_pylist())",
        [sdOf(lit).uri],
      );
      expect(out.trim()).toBe(`[${2n ** 62n + 1n}, ${-(2n ** 63n)}]`);
    });

    it("flytekit reads our literal as a pandas DataFrame; pyarrow files (uncompressed, gzip, brotli, zstd) read back here", async () => {
      const D = t.dataframe({ a: t.int(), b: t.string(), c: t.float() });
      const lit = await D.toLiteral(
        StructuredDataset.fromRows([
          { a: 1, b: "x", c: 0.5 },
          { a: 2, b: "y", c: 1.5 },
        ]),
        ctx,
      );
      const litPath = join(root, "sd-literal.pb");
      writeFileSync(litPath, toBinary(LiteralSchema, lit));
      const outDir = join(root, "from-pyarrow");
      const out = runPython(
        peer.python!,
        `
import sys, json, typing, os
import pandas as pd, pyarrow as pa, pyarrow.parquet as pq
from flytekit import FlyteContextManager, kwtypes
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import Literal
from flytekit.types.structured import StructuredDataset
from flyteidl.core import literals_pb2
pb = literals_pb2.Literal(); pb.ParseFromString(open(sys.argv[1], "rb").read())
ctx = FlyteContextManager.current_context()
df = TypeEngine.to_python_value(ctx, Literal.from_flyte_idl(pb), pd.DataFrame)
sd = TypeEngine.to_python_value(ctx, Literal.from_flyte_idl(pb), typing.Annotated[StructuredDataset, kwtypes(a=int, c=float)])
sub = sd.open(pd.DataFrame).all()
os.makedirs(sys.argv[2], exist_ok=True)
tbl = pa.table({"a": pa.array([7, 8], pa.int64()), "b": ["p", None], "c": [0.5, 1.0], "t": pa.array([0, 1_500_000], pa.timestamp("us"))})
pq.write_table(tbl, os.path.join(sys.argv[2], "zstd.parquet"), compression="zstd")
pq.write_table(tbl, os.path.join(sys.argv[2], "plain.parquet"), compression="none")
pq.write_table(tbl, os.path.join(sys.argv[2], "gzip.parquet"), compression="gzip")
pq.write_table(tbl, os.path.join(sys.argv[2], "brotli.parquet"), compression="brotli")
print(json.dumps({"dtypes": {k: str(v) for k, v in df.dtypes.items()}, "df": df.to_dict(orient="list"), "sub": list(sub.columns)}))
`,
        [litPath, outDir],
      );
      const got = JSON.parse(out);
      expect(got.dtypes.a).toBe("int64");
      expect(got.dtypes.c).toBe("float64");
      expect(got.df).toEqual({ a: [1, 2], b: ["x", "y"], c: [0.5, 1.5] });
      expect(got.sub).toEqual(["a", "c"]);

      const P = t.dataframe({ a: t.int(), b: t.optional(t.string()), c: t.float(), t: t.datetime() });
      for (const f of ["plain.parquet", "gzip.parquet", "brotli.parquet"]) {
        const lit2 = structuredDatasetLiteral(join(outDir, f), Sales.literalType.type.value as never);
        expect(await P.fromLiteral(lit2, ctx).rows()).toEqual([
          { a: 7, b: "p", c: 0.5, t: new Date(0) },
          { a: 8, b: null, c: 1, t: new Date(1500) },
        ]);
      }
      // zstd needs a decoder Node 20 lacks: a clear error, not a crash.
      const zstd = structuredDatasetLiteral(
        join(outDir, "zstd.parquet"),
        Sales.literalType.type.value as never,
      );
      await expect(P.fromLiteral(zstd, ctx).rows()).rejects.toMatchObject({
        code: "TYPE_DATAFRAME_FORMAT",
        message: expect.stringContaining("ZSTD"),
      });
    });
  },
);
