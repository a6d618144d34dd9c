/**
 * Real flytekit reads the literals flytekit-ts writes: each value is converted with the Python
 * type a flytekit task would declare (`TypeEngine.to_python_value`), and the Python result is
 * compared with what we wrote. Skipped, with the reason printed, when no Python with flytekit
 * is found (see python-peer.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { LiteralSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import {
  FlyteDirectory,
  FlyteFile,
  type FlyteType,
  StructuredDataset,
  type TypeContext,
  t,
} from "../../src/types/index.js";
import { findPython, runPython } from "./python-peer.js";

const PY = `
import dataclasses, datetime, enum, json, math, os, sys, typing
import pandas as pd
from flytekit import FlyteContextManager
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import Literal
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile
from flyteidl.core import literals_pb2

class Color(enum.Enum):
    RED = "red"
    GREEN = "green"

@dataclasses.dataclass
class Inner:
    a: int
    b: str

@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: str
    tags: typing.List[str]
    inner: typing.Optional[Inner]

@dataclasses.dataclass
class Everything:
    i: int
    f: float
    s: str
    b: bool
    when: datetime.datetime
    took: datetime.timedelta
    color: Color
    xs: typing.List[int]
    m: typing.Dict[str, float]
    u: typing.Union[int, str]
    o: typing.Optional[int]
    raw: bytes
    d: dict
    nested: typing.List[typing.Optional[Inner]]

TYPES = {
    "int": int, "bigint": int, "float": float, "nan": float, "str": str, "bool": bool,
    "datetime": datetime.datetime, "duration": datetime.timedelta, "none": type(None),
    "list": typing.List[int], "nested": typing.List[typing.List[int]], "map": typing.Dict[str, int],
    "enum": Color, "point": Point, "point_none": Point, "everything": Everything,
    "union_int": typing.Union[int, str], "union_str": typing.Union[int, str],
    "union_records_inner": typing.Union[Inner, Point], "union_records_point": typing.Union[Inner, Point],
    "optional_none": typing.Optional[int], "optional_value": typing.Optional[int],
    "dict": dict, "bytes": bytes, "list_records": typing.List[Inner],
    "file": FlyteFile, "directory": FlyteDirectory, "dataframe": pd.DataFrame,
}

def plain(v):
    if isinstance(v, float) and math.isnan(v): return "NaN"
    if isinstance(v, enum.Enum): return {"enum": type(v).__name__, "value": v.value}
    if isinstance(v, FlyteFile): return {"file": open(v.download()).read()}
    if isinstance(v, FlyteDirectory):
        root = v.download()
        return {"directory": sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)}
    if dataclasses.is_dataclass(v): return {"dataclass": type(v).__name__, **{f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}}
    if isinstance(v, datetime.datetime): return {"datetime": v.isoformat()}
    if isinstance(v, datetime.timedelta): return {"timedelta": v.total_seconds()}
    if isinstance(v, bytes): return {"bytes": v.hex()}
    if isinstance(v, pd.DataFrame): return {"dtypes": {k: str(x) for k, x in v.dtypes.items()}, "rows": json.loads(v.to_json(orient="records"))}
    if isinstance(v, list): return [plain(x) for x in v]
    if isinstance(v, dict): return {k: plain(x) for k, x in v.items()}
    return v

ctx = FlyteContextManager.current_context()
out = {}
for name in sys.argv[2:]:
    pb = literals_pb2.Literal()
    pb.ParseFromString(open(os.path.join(sys.argv[1], name + ".pb"), "rb").read())
    try:
        out[name] = {"ok": plain(TypeEngine.to_python_value(ctx, Literal.from_flyte_idl(pb), TYPES[name]))}
    except Exception as e:
        out[name] = {"error": f"{type(e).__name__}: {e}"}
print(json.dumps(out))
`;

const peer = findPython(["flytekit", "pandas", "pyarrow"]);
const root = mkdtempSync(join(tmpdir(), "fk-ts-interop-"));
const ctx: TypeContext = { rawDataPrefix: join(root, "raw"), workDir: join(root, "work") };
afterAll(() => rmSync(root, { recursive: true, force: true }));

const Inner = t.record({ a: t.int(), b: t.string() }, { name: "Inner" });
const Point = t.record(
  { x: t.int(), y: t.float(), label: t.string(), tags: t.list(t.string()), inner: t.optional(Inner) },
  { name: "Point" },
);
const Everything = t.record(
  {
    i: t.int(),
    f: t.float(),
    s: t.string(),
    b: t.bool(),
    when: t.datetime(),
    took: t.duration(),
    color: t.enum(["red", "green"]),
    xs: t.list(t.int()),
    m: t.map(t.float()),
    u: t.union(t.int(), t.string()),
    o: t.optional(t.int()),
    raw: t.bytes(),
    d: t.json(),
    nested: t.list(t.optional(Inner)),
  },
  { name: "Everything" },
);

describe.skipIf(!peer.python)(
  `flytekit reads flytekit-ts literals ${peer.reason ? `(skipped: ${peer.reason})` : ""}`,
  () => {
    it("every type, with the Python type a flytekit task would declare", async () => {
      mkdirSync(join(root, "src", "dir", "sub"), { recursive: true });
      writeFileSync(join(root, "src", "file.txt"), "file ✓");
      writeFileSync(join(root, "src", "dir", "a.txt"), "a");
      writeFileSync(join(root, "src", "dir", "sub", "b.txt"), "b");

      const cases: [string, FlyteType<unknown>, unknown, unknown][] = [
        ["int", t.int(), -42, -42],
        ["bigint", t.bigint(), 2n ** 62n, Number(2n ** 62n)],
        ["float", t.float(), 0.1 + 0.2, 0.1 + 0.2],
        ["nan", t.float(), Number.NaN, "NaN"],
        ["str", t.string(), "héllo ✓ 🚀", "héllo ✓ 🚀"],
        ["bool", t.bool(), false, false],
        [
          "datetime",
          t.datetime(),
          new Date("2024-05-06T07:08:09.123Z"),
          { datetime: "2024-05-06T07:08:09.123000+00:00" },
        ],
        ["duration", t.duration(), 3_723_500, { timedelta: 3723.5 }],
        ["none", t.none(), null, null],
        ["list", t.list(t.int()), [1, 2, 3], [1, 2, 3]],
        ["nested", t.list(t.list(t.int())), [[1], [], [2, 3]], [[1], [], [2, 3]]],
        ["map", t.map(t.int()), { a: 1, "b ü": 2 }, { a: 1, "b ü": 2 }],
        ["enum", t.enum(["red", "green"]), "green", { enum: "Color", value: "green" }],
        [
          "point",
          Point,
          { x: 3, y: 4.5, label: "p", tags: ["a"], inner: { a: 7, b: "in" } },
          {
            dataclass: "Point",
            x: 3,
            y: 4.5,
            label: "p",
            tags: ["a"],
            inner: { dataclass: "Inner", a: 7, b: "in" },
          },
        ],
        [
          "point_none",
          Point,
          { x: 1, y: 2, label: "", tags: [] },
          { dataclass: "Point", x: 1, y: 2, label: "", tags: [], inner: null },
        ],
        [
          "everything",
          Everything,
          {
            i: 1,
            f: 2,
            s: "ü",
            b: true,
            when: new Date("2024-01-02T03:04:05.678Z"),
            took: 90_005,
            color: "red",
            xs: [1],
            m: { a: 1.5 },
            u: "z",
            o: null,
            raw: new Uint8Array([1, 2]),
            d: { k: [1, "two"] },
            nested: [{ a: 1, b: "x" }, null],
          },
          {
            dataclass: "Everything",
            i: 1,
            f: 2,
            s: "ü",
            b: true,
            when: { datetime: "2024-01-02T03:04:05.678000+00:00" },
            took: { timedelta: 90.005 },
            color: { enum: "Color", value: "red" },
            xs: [1],
            m: { a: 1.5 },
            u: "z",
            o: null,
            raw: { bytes: "0102" },
            d: { k: [1, "two"] },
            nested: [{ dataclass: "Inner", a: 1, b: "x" }, null],
          },
        ],
        ["union_int", t.union(t.int(), t.string()), 7, 7],
        ["union_str", t.union(t.int(), t.string()), "seven", "seven"],
        [
          "union_records_inner",
          t.union(Inner, Point),
          { a: 1, b: "i" },
          { dataclass: "Inner", a: 1, b: "i" },
        ],
        [
          "union_records_point",
          t.union(Inner, Point),
          { x: 1, y: 1.5, label: "l", tags: [], inner: null },
          { dataclass: "Point", x: 1, y: 1.5, label: "l", tags: [], inner: null },
        ],
        ["optional_none", t.optional(t.int()), null, null],
        ["optional_value", t.optional(t.int()), 5, 5],
        ["dict", t.json(), { a: 1, b: [1, 2], c: { d: "e" } }, { a: 1, b: [1, 2], c: { d: "e" } }],
        ["bytes", t.bytes(), new Uint8Array([0, 1, 255]), { bytes: "0001ff" }],
        [
          "list_records",
          t.list(Inner),
          [
            { a: 1, b: "one" },
            { a: 2, b: "two" },
          ],
          [
            { dataclass: "Inner", a: 1, b: "one" },
            { dataclass: "Inner", a: 2, b: "two" },
          ],
        ],
        ["file", t.file(), FlyteFile.fromPath(join(root, "src", "file.txt")), { file: "file ✓" }],
        [
          "directory",
          t.directory(),
          FlyteDirectory.fromPath(join(root, "src", "dir")),
          { directory: ["a.txt", "sub/b.txt"] },
        ],
        [
          "dataframe",
          t.dataframe({ a: t.int(), b: t.string(), c: t.optional(t.float()) }),
          StructuredDataset.fromRows([
            { a: 1, b: "x", c: 0.5 },
            { a: 2, b: "y", c: null },
          ]),
          {
            dtypes: { a: "int64", b: expect.stringMatching(/^(object|str|string)$/), c: "float64" },
            rows: [
              { a: 1, b: "x", c: 0.5 },
              { a: 2, b: "y", c: null },
            ],
          },
        ],
      ];
      const litDir = join(root, "literals");
      mkdirSync(litDir, { recursive: true });
      for (const [name, type, value] of cases) {
        writeFileSync(join(litDir, `${name}.pb`), toBinary(LiteralSchema, await type.toLiteral(value, ctx)));
      }
      const out = JSON.parse(runPython(peer.python!, PY, [litDir, ...cases.map(([n]) => n)])) as Record<
        string,
        { ok?: unknown; error?: string }
      >;
      for (const [name, , , expected] of cases) {
        const got = out[name]!;
        expect({ name, ...got }).toEqual({ name, ok: expected });
      }
    });
  },
);
