/**
 * The dataframe parquet writer and column reader against real pyarrow: pyarrow reads what we
 * write with exact values and types (every column kind, nulls, NaN and infinities, unicode,
 * int64 extremes, empty frames, several pages and row groups), and we read what pyarrow writes
 * (dictionary + snappy as pandas does, data page v2, nulls, several row groups, other numeric
 * and timestamp types), through the column reader itself rather than the hyparquet fallback,
 * which stays for the encodings the column reader does not decode.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parquetMetadata } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StructuredDataset, type TypeContext, t } from "../../src/types/index.js";
import { structuredDatasetLiteral } from "../../src/types/literals.js";
import { readFlatColumns, UnsupportedParquet } from "../../src/types/parquet-reader.js";
import { writeFlatParquet } from "../../src/types/parquet-writer.js";
import { findPython, runPython } from "./python-peer.js";

const root = mkdtempSync(join(tmpdir(), "fk-ts-df-parquet-"));
const ctx: TypeContext = { rawDataPrefix: join(root, "raw"), workDir: join(root, "work") };
afterAll(() => rmSync(root, { recursive: true, force: true }));

const peer = findPython(["pyarrow"]);

/** Prints a parquet file (or folder) as pyarrow sees it: each field's type and nullability, and the values. */
const DUMP = `
import datetime, json, sys, pyarrow.parquet as pq
def enc(v):
    if v is None: return None
    if isinstance(v, bool): return v
    if isinstance(v, int): return str(v)
    if isinstance(v, float): return v.hex()
    if isinstance(v, bytes): return "hex:" + v.hex()
    if isinstance(v, datetime.datetime):
        d = v - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return "ms:%d" % ((d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000)
    return v
path = sys.argv[1]
f = pq.ParquetFile(path) if not path.endswith("/") else None
t = pq.read_table(path)
print(json.dumps({
    "schema": {fl.name: str(fl.type) + ("" if fl.nullable else " not null") for fl in t.schema},
    "rows": t.num_rows,
    "row_groups": f.metadata.num_row_groups if f else None,
    "data": {k: [enc(v) for v in vs] for k, vs in t.to_pydict().items()},
}))
`;

interface Dump {
  schema: Record<string, string>;
  rows: number;
  row_groups: number | null;
  data: Record<string, unknown[]>;
}

function dump(path: string): Dump {
  return JSON.parse(runPython(peer.python!, DUMP, [path])) as Dump;
}

/** How DUMP prints a double: Python's float.hex(). */
function hex(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0x0.0p+0" : "0x0.0p+0";
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  const mant = (bits & ((1n << 52n) - 1n)).toString(16).padStart(13, "0").replace(/0+$/, "") || "0";
  const sign = x < 0 ? "-" : "";
  return exp === 0
    ? `${sign}0x0.${mant}p-1022`
    : `${sign}0x1.${mant}p${exp - 1023 >= 0 ? "+" : ""}${exp - 1023}`;
}

const fileOf = (uri: string) => join(uri, "00000");
const sdUri = (lit: Awaited<ReturnType<(typeof All)["toLiteral"]>>) => {
  if (lit.value.case !== "scalar" || lit.value.value.value.case !== "structuredDataset")
    throw new Error("not a dataset");
  return lit.value.value.value.value.uri;
};

const All = t.dataframe({
  i: t.optional(t.int()),
  big: t.optional(t.bigint()),
  f: t.optional(t.float()),
  s: t.optional(t.string()),
  ok: t.optional(t.bool()),
  at: t.optional(t.datetime()),
  raw: t.optional(t.bytes()),
  kind: t.enum(["x", "y"]),
  req: t.float(),
});

const allRows = [
  {
    i: Number.MAX_SAFE_INTEGER,
    big: 2n ** 63n - 1n,
    f: Number.NaN,
    s: "ascii",
    ok: true,
    at: new Date("2024-05-06T07:08:09.123Z"),
    raw: new Uint8Array([0, 255]),
    kind: "x" as const,
    req: -0,
  },
  {
    i: null,
    big: null,
    f: null,
    s: null,
    ok: null,
    at: null,
    raw: null,
    kind: "y" as const,
    req: Number.POSITIVE_INFINITY,
  },
  {
    i: Number.MIN_SAFE_INTEGER,
    big: -(2n ** 63n),
    f: Number.NEGATIVE_INFINITY,
    s: "ü ✓ 😀",
    ok: false,
    at: new Date(-1),
    raw: new Uint8Array([]),
    kind: "x" as const,
    req: 5e-324,
  },
  {
    i: -1,
    big: 2n ** 53n + 1n,
    f: 0.1,
    s: "",
    ok: null,
    at: new Date(0),
    raw: null,
    kind: "y" as const,
    req: Number.NEGATIVE_INFINITY,
  },
];

describe.skipIf(!peer.python)(
  `pyarrow reads the parquet flytekit-ts writes ${peer.reason ? `(skipped: ${peer.reason})` : ""}`,
  () => {
    it("every column kind: types, nullability and exact values (nulls, NaN, ±inf, -0, unicode, int64 extremes)", async () => {
      const lit = await All.toLiteral(StructuredDataset.fromRows(allRows), ctx);
      const got = dump(fileOf(sdUri(lit)));
      expect(got.schema).toEqual({
        i: "int64",
        big: "int64",
        f: "double",
        s: "string",
        ok: "bool",
        at: "timestamp[ms, tz=UTC]",
        raw: "binary",
        kind: "string not null",
        req: "double not null",
      });
      expect(got.rows).toBe(4);
      expect(got.data.i).toEqual([
        String(Number.MAX_SAFE_INTEGER),
        null,
        String(Number.MIN_SAFE_INTEGER),
        "-1",
      ]);
      expect(got.data.big).toEqual([
        String(2n ** 63n - 1n),
        null,
        String(-(2n ** 63n)),
        String(2n ** 53n + 1n),
      ]);
      expect(got.data.f).toEqual(["nan", null, "-inf", hex(0.1)]);
      expect(got.data.s).toEqual(["ascii", null, "ü ✓ 😀", ""]);
      expect(got.data.ok).toEqual([true, null, false, null]);
      expect(got.data.at).toEqual([`ms:${Date.parse("2024-05-06T07:08:09.123Z")}`, null, "ms:-1", "ms:0"]);
      expect(got.data.raw).toEqual(["hex:00ff", null, "hex:", null]);
      expect(got.data.kind).toEqual(["x", "y", "x", "y"]);
      expect(got.data.req).toEqual(["-0x0.0p+0", "inf", hex(5e-324), "-inf"]);
      // And back through our reader, rows and columns.
      const back = All.fromLiteral(lit, ctx);
      expect(await back.columns()).toEqual({
        i: allRows.map((r) => r.i),
        big: allRows.map((r) => r.big),
        f: allRows.map((r) => r.f),
        s: allRows.map((r) => r.s),
        ok: allRows.map((r) => r.ok),
        at: allRows.map((r) => r.at),
        raw: allRows.map((r) => r.raw),
        kind: allRows.map((r) => r.kind),
        req: allRows.map((r) => r.req),
      });
      expect(await back.rows()).toEqual(allRows);
      expect(Object.is((await back.rows())[0]!.req, -0)).toBe(true);
      expect(await back.columns()).toBe(await back.columns()); // read once, shared
    });

    it("a lone surrogate is written as U+FFFD, as TextEncoder does", async () => {
      const D = t.dataframe({ s: t.string() });
      const lit = await D.toLiteral(StructuredDataset.fromRows([{ s: "a\ud800b" }, { s: "\udc00" }]), ctx);
      expect(dump(fileOf(sdUri(lit))).data.s).toEqual(["a\ufffdb", "\ufffd"]);
    });

    it("zero rows with columns, and a frame without columns", async () => {
      const lit = await All.toLiteral(StructuredDataset.fromRows([]), ctx);
      const got = dump(fileOf(sdUri(lit)));
      expect(got.rows).toBe(0);
      expect(got.schema.req).toBe("double not null");
      expect(await All.fromLiteral(lit, ctx).rows()).toEqual([]);
      expect(await All.fromLiteral(lit, ctx).columns()).toEqual(
        Object.fromEntries(Object.keys(All.columns).map((k) => [k, []])),
      );

      const none = join(root, "nocols");
      mkdirSync(none, { recursive: true });
      writeFileSync(join(none, "00000"), writeFlatParquet([], 0, "flytekit-ts"));
      expect(dump(join(none, "00000"))).toMatchObject({ rows: 0, schema: {} });
      expect(await StructuredDataset.fromUri(none).rows()).toEqual([]);
    });

    it("several pages and row groups: 1,048,577 rows, strings over 1 MiB, nulls across page ends", async () => {
      const n = (1 << 20) + 1;
      const D = t.dataframe({ id: t.optional(t.int()), name: t.string(), flag: t.bool() });
      const rows = Array.from({ length: n }, (_, i) => ({
        id: i % 7 === 3 ? null : i - 500_000,
        name: i % 1000 === 0 ? `ü-${i}` : `n${i}`,
        flag: i % 3 === 0,
      }));
      const lit = await D.toLiteral(StructuredDataset.fromRows(rows), ctx);
      const file = fileOf(sdUri(lit));
      const bytes = readFileSync(file);
      const meta = parquetMetadata(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
      );
      expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([1 << 20, 1]);
      const out = runPython(
        peer.python!,
        `
import json, sys, pyarrow.parquet as pq, pyarrow.compute as pc
f = pq.ParquetFile(sys.argv[1])
t = f.read()
ids = t.column("id")
print(json.dumps({
  "rows": t.num_rows, "groups": f.metadata.num_row_groups,
  "nulls": ids.null_count, "sum": str(pc.sum(ids).as_py()),
  "names": t.column("name").to_pylist()[::99991], "last": t.slice(t.num_rows - 2).to_pylist(),
  "flags": pc.sum(pc.cast(t.column("flag"), "int64")).as_py(),
  "name_bytes": f.metadata.row_group(0).column(1).total_uncompressed_size,
}))
`,
        [file],
      );
      const got = JSON.parse(out);
      expect(got.rows).toBe(n);
      expect(got.groups).toBe(2);
      const ids = rows.map((r) => r.id);
      expect(got.nulls).toBe(ids.filter((v) => v === null).length);
      expect(got.sum).toBe(String(ids.reduce<number>((a, v) => a + (v ?? 0), 0)));
      expect(got.names).toEqual(rows.filter((_, i) => i % 99991 === 0).map((r) => r.name));
      expect(got.last).toEqual(rows.slice(-2));
      expect(got.flags).toBe(rows.filter((r) => r.flag).length);
      expect(got.name_bytes).toBeGreaterThan(3 << 20); // several 1 MiB pages
      const back = await D.fromLiteral(lit, ctx).rows();
      expect(back.length).toBe(n);
      const same = (a: (typeof rows)[number], b: (typeof rows)[number]) =>
        a.id === b.id && a.name === b.name && a.flag === b.flag && Object.keys(b).length === 3;
      expect(back.findIndex((r, i) => !same(rows[i]!, r))).toBe(-1);
    });
  },
);

describe("a dataset of several files", () => {
  it("reads the files in name order, one after the other; a null's row counts the rows before it", async () => {
    const dir = join(root, "parts");
    mkdirSync(join(dir, "sub"), { recursive: true });
    const part = (ids: number[], names: (string | null)[]) => {
      const nulls = Uint8Array.from(names, (v) => (v === null ? 1 : 0));
      return writeFlatParquet(
        [
          { name: "id", kind: "int64", nullable: false, values: Float64Array.from(ids) },
          { name: "name", kind: "utf8", nullable: true, nulls, values: names.map((v) => v ?? "") },
        ],
        ids.length,
        "test",
      );
    };
    writeFileSync(join(dir, "part-1"), part([3, 4], ["c", null]));
    writeFileSync(join(dir, "part-0"), part([1, 2], ["a", "b"]));
    writeFileSync(join(dir, "sub", "part-2"), part([5], ["e"]));
    writeFileSync(join(dir, "_SUCCESS"), "");
    const D = t.dataframe({ id: t.int(), name: t.optional(t.string()) });
    const ds = () => D.fromLiteral(structuredDatasetLiteral(dir, D.literalType.type.value as never), ctx);
    expect(await ds().columns()).toEqual({ id: [1, 2, 3, 4, 5], name: ["a", "b", "c", null, "e"] });
    expect((await ds().rows())[3]).toEqual({ id: 4, name: null });
    const Strict = t.dataframe({ name: t.string() });
    await expect(
      Strict.fromLiteral(structuredDatasetLiteral(dir, Strict.literalType.type.value as never), ctx).rows(),
    ).rejects.toMatchObject({ code: "TYPE_DATAFRAME_NULL", path: "[3].name" });
  });
});

/** Writes pyarrow files of several layouts, and prints what pyarrow reads from each. */
const PYARROW_FILES = `
import json, math, os, sys, datetime
import pyarrow as pa, pyarrow.parquet as pq
out = sys.argv[1]
n = 3000
def col(i, v): return None if i % 5 == 2 else v
tbl = pa.table({
    "i": pa.array([col(i, i * 1_000_003 - 7) for i in range(n)], pa.int64()),
    "i32": pa.array([i - 1500 for i in range(n)], pa.int32()),
    "f": pa.array([col(i, i / 7) for i in range(n)], pa.float64()),
    "f32": pa.array([i / 4 for i in range(n)], pa.float32()),
    "s": pa.array([col(i, "é%d" % (i % 40) if i % 3 else "s%d" % (i % 50)) for i in range(n)], pa.string()),
    "b": pa.array([col(i, i % 2 == 0) for i in range(n)], pa.bool_()),
    "us": pa.array([col(i, -1 + i * 1_234_567) for i in range(n)], pa.timestamp("us", tz="UTC")),
    "ns": pa.array([1_700_000_000_123_456_789 + i for i in range(n)], pa.timestamp("ns")),
    "raw": pa.array([bytes([i % 256, 7]) for i in range(n)], pa.binary()),
})
variants = {
    "pandas-default": dict(),
    "v2-pages": dict(data_page_version="2.0"),
    "plain-gzip-small-groups": dict(use_dictionary=False, compression="gzip", row_group_size=1000, data_page_size=4096),
    "int96": dict(use_deprecated_int96_timestamps=True, compression="none"),
}
for name, kw in variants.items():
    pq.write_table(tbl, os.path.join(out, name + ".parquet"), **kw)
pq.write_table(tbl.select(["i", "f", "s"]), os.path.join(out, "delta.parquet"), use_dictionary=False,
               column_encoding={"i": "DELTA_BINARY_PACKED", "f": "BYTE_STREAM_SPLIT", "s": "DELTA_LENGTH_BYTE_ARRAY"})
def enc(v):
    if v is None: return None
    if isinstance(v, bool): return v
    if isinstance(v, int): return v
    if isinstance(v, float): return v
    if isinstance(v, bytes): return list(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None: v = v.replace(tzinfo=datetime.timezone.utc)
        d = v - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000
    return v
print(json.dumps({k: [enc(x) for x in vs] for k, vs in tbl.to_pydict().items()}))
`;

describe.skipIf(!peer.python)(
  `flytekit-ts reads the parquet pyarrow writes ${peer.reason ? `(skipped: ${peer.reason})` : ""}`,
  () => {
    const dir = join(root, "pyarrow");
    mkdirSync(dir, { recursive: true });
    let expected: Record<string, unknown[]> = {};
    const Frame = t.dataframe({
      i: t.optional(t.int()),
      i32: t.int(),
      f: t.optional(t.float()),
      f32: t.float(),
      s: t.optional(t.string()),
      b: t.optional(t.bool()),
      us: t.optional(t.datetime()),
      ns: t.datetime(),
      raw: t.bytes(),
    });
    const ns = t.dataframe({ ns: t.bigint() });
    const expectedRows = () =>
      expected.i!.map((_, r) =>
        Object.fromEntries(
          Object.entries(expected).map(([k, vs]) => {
            const v = vs[r];
            if (v === null) return [k, null];
            if (k === "us" || k === "ns") return [k, new Date(v as number)];
            if (k === "raw") return [k, new Uint8Array(v as number[])];
            return [k, v];
          }),
        ),
      );
    const read = (file: string) => {
      const bytes = readFileSync(join(dir, file));
      const meta = parquetMetadata(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
      );
      const requests = meta.schema.slice(1).map((element) => ({
        element,
        numbers:
          element.type !== "BYTE_ARRAY" &&
          element.name !== "ns" &&
          element.name !== "us" &&
          element.name !== "b",
        text: element.name === "s",
        bigint: false,
      }));
      const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };
      return readFlatColumns(
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
        meta,
        requests,
        compressors,
      );
    };

    beforeAll(() => {
      expected = JSON.parse(runPython(peer.python!, PYARROW_FILES, [dir]));
    });

    for (const name of ["pandas-default", "v2-pages", "plain-gzip-small-groups", "int96"]) {
      it(`${name}: the same rows and columns as pyarrow reads`, async () => {
        const file = `${name}.parquet`;
        expect(() => read(file)).not.toThrow(); // decoded by the column reader, not the hyparquet fallback
        const ds = Frame.fromLiteral(
          structuredDatasetLiteral(join(dir, file), Frame.literalType.type.value as never),
          ctx,
        );
        const cols = await ds.columns();
        const want = expectedRows();
        for (const k of Object.keys(expected))
          expect(cols[k as keyof typeof cols], k).toEqual(want.map((r) => r[k]));
        expect(await ds.rows()).toEqual(want);
      });
    }

    it("a timestamp column is not a t.bigint() column; INT64 read as t.bigint() is exact", async () => {
      const lit = structuredDatasetLiteral(join(dir, "v2-pages.parquet"), ns.literalType.type.value as never);
      await expect(ns.fromLiteral(lit, ctx).rows()).rejects.toMatchObject({
        code: "TYPE_DATAFRAME_COLUMN_TYPE",
      });
      const I = t.dataframe({ i: t.optional(t.bigint()) });
      const rows = await I.fromLiteral(
        structuredDatasetLiteral(join(dir, "pandas-default.parquet"), I.literalType.type.value as never),
        ctx,
      ).rows();
      expect(rows.map((r) => r.i)).toEqual(expected.i!.map((v) => (v === null ? null : BigInt(v as number))));
    });

    it("DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT and DELTA_LENGTH_BYTE_ARRAY: hyparquet reads them instead", async () => {
      expect(() => read("delta.parquet")).toThrow(UnsupportedParquet);
      const D = t.dataframe({ i: t.optional(t.int()), f: t.optional(t.float()), s: t.optional(t.string()) });
      const ds = D.fromLiteral(
        structuredDatasetLiteral(join(dir, "delta.parquet"), D.literalType.type.value as never),
        ctx,
      );
      const want = expectedRows().map((r) => ({ i: r.i, f: r.f, s: r.s }));
      expect(await ds.rows()).toEqual(want);
    });

    it("a null in a column declared without t.optional, and an int beyond 2^53, name the column and row", async () => {
      const NotNull = t.dataframe({ f: t.float() });
      const lit = structuredDatasetLiteral(
        join(dir, "pandas-default.parquet"),
        NotNull.literalType.type.value as never,
      );
      await expect(NotNull.fromLiteral(lit, ctx).rows()).rejects.toMatchObject({
        code: "TYPE_DATAFRAME_NULL",
        message: expect.stringContaining('column "f"'),
        path: "[2].f",
      });
      const big = join(root, "big");
      mkdirSync(big, { recursive: true });
      writeFileSync(
        join(big, "00000"),
        writeFlatParquet(
          [{ name: "n", kind: "int64", nullable: false, values: new BigInt64Array([1n, 2n ** 53n]) }],
          2,
          "test",
        ),
      );
      const Int = t.dataframe({ n: t.int() });
      await expect(
        Int.fromLiteral(structuredDatasetLiteral(big, Int.literalType.type.value as never), ctx).rows(),
      ).rejects.toMatchObject({ code: "TYPE_INT_RANGE", path: "[1].n" });
      const Big = t.dataframe({ n: t.bigint() });
      expect(
        await Big.fromLiteral(
          structuredDatasetLiteral(big, Big.literalType.type.value as never),
          ctx,
        ).columns(),
      ).toEqual({
        n: [1n, 2n ** 53n],
      });
    });
  },
);
