/**
 * The LiteralMap bytes codec against real flytekit: flytekit's `dict_to_literal_map` bytes are
 * read directly (no protobuf-es fallback) into the values flytekit wrote, our bytes for the same
 * values are flytekit's byte for byte (one key per map, so the entry order cannot differ), and
 * flytekit's `literal_map_to_kwargs` reads ours back. Skipped, with the reason printed, when no
 * Python with flytekit is found (see python-peer.ts).
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  fromLiteralMapBytes,
  type Schema,
  type TypeContext,
  t,
  toLiteralMapBytes,
} from "../../src/types/index.js";
import { indexLiteralMap, MISMATCH, WireReader } from "../../src/types/wire.js";
import { findPython } from "./python-peer.js";

const PY = `
import json, math, sys, typing
from flytekit import FlyteContextManager
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import LiteralMap
from flyteidl.core import literals_pb2

CASES = {
    "ints": (typing.List[int], [0, 1, -1, 127, 128, -300, 2**31, 2**53 - 1, -(2**53 - 1)]),
    "bigints": (typing.List[int], [2**63 - 1, -(2**63), 0]),
    "floats": (typing.List[float], [1.5, -0.0, math.inf, -math.inf, 2.0, 1e-300]),
    "strings": (typing.List[str], ["", "a", "h\\u00e9llo", "\\U0001F600", "x" * 300, "\\u65e5\\u672c" * 1000]),
    "bools": (typing.List[bool], [True, False]),
    "nested": (typing.List[typing.List[int]], [[], [1, 2], [-3]]),
    "dict": (typing.Dict[str, typing.List[float]], {"a": [1.0], "": [], "\\u00fc": [2.5]}),
    "dictdict": (typing.Dict[str, typing.Dict[str, int]], {"x": {"y": 1}, "z": {}}),
    "dict1": (typing.Dict[str, typing.List[float]], {"\u00fc": [2.5, -0.0]}),
    "dictdict1": (typing.Dict[str, typing.Dict[str, str]], {"x": {"y": "z"}}),
    "empty": (typing.List[int], []),
    "int": (int, 42),
    "str": (str, "plain"),
    "float": (float, 0.1),
    "bool": (bool, True),
}
ctx = FlyteContextManager.current_context()
out = {}
if sys.argv[1] == "write":
    for name, (tp, v) in CASES.items():
        lm = TypeEngine.dict_to_literal_map(ctx, {"v": v}, {"v": tp})
        out[name] = lm.to_flyte_idl().SerializeToString().hex()
else:
    for name, hexbytes in json.loads(sys.stdin.read()).items():
        tp, v = CASES[name]
        pb = literals_pb2.LiteralMap()
        pb.ParseFromString(bytes.fromhex(hexbytes))
        got = TypeEngine.literal_map_to_kwargs(ctx, LiteralMap.from_flyte_idl(pb), {"v": tp})["v"]
        same = json.dumps(got, sort_keys=True) == json.dumps(v, sort_keys=True)
        out[name] = True if same else repr(got)
print(json.dumps(out))
`;

const CASES: Record<string, [Schema[string], unknown]> = {
  ints: [t.list(t.int()), [0, 1, -1, 127, 128, -300, 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1)]],
  bigints: [t.list(t.bigint()), [2n ** 63n - 1n, -(2n ** 63n), 0n]],
  floats: [t.list(t.float()), [1.5, -0, Infinity, -Infinity, 2, 1e-300]],
  strings: [t.list(t.string()), ["", "a", "héllo", "😀", "x".repeat(300), "日本".repeat(1000)]],
  bools: [t.list(t.bool()), [true, false]],
  nested: [t.list(t.list(t.int())), [[], [1, 2], [-3]]],
  dict: [t.map(t.list(t.float())), { a: [1], "": [], ü: [2.5] }],
  dictdict: [t.map(t.map(t.int())), { x: { y: 1 }, z: {} }],
  dict1: [t.map(t.list(t.float())), { ü: [2.5, -0] }],
  dictdict1: [t.map(t.map(t.string())), { x: { y: "z" } }],
  empty: [t.list(t.int()), []],
  int: [t.int(), 42],
  str: [t.string(), "plain"],
  float: [t.float(), 0.1],
  bool: [t.bool(), true],
};

const peer = findPython(["flytekit"]);
const root = mkdtempSync(join(tmpdir(), "fk-ts-wire-py-"));
const ctx: TypeContext = { rawDataPrefix: join(root, "raw"), workDir: join(root, "work") };
afterAll(() => rmSync(root, { recursive: true, force: true }));

function python(mode: string, input = ""): Record<string, unknown> {
  const out = execFileSync(peer.python!, ["-c", PY, mode], {
    input,
    encoding: "utf8",
    env: { ...process.env, FLYTE_SDK_LOGGING_LEVEL: "40", PYTHONWARNINGS: "ignore" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as Record<string, unknown>;
}

describe.skipIf(!peer.python)("LiteralMap bytes and flytekit", () => {
  it("reads flytekit's bytes directly, and writes the same bytes for the same values", async () => {
    const theirs = python("write") as Record<string, string>;
    expect(Object.keys(theirs).sort()).toEqual(Object.keys(CASES).sort());
    for (const [name, [type, value]] of Object.entries(CASES)) {
      const bytes = new Uint8Array(Buffer.from(theirs[name]!, "hex"));
      // The direct reader takes flytekit's encoding as it is (no protobuf-es fallback).
      const index = indexLiteralMap(bytes);
      expect(index, name).toBeDefined();
      const [start, end] = index!.get("v")!;
      const r = new WireReader(bytes);
      r.pos = start;
      const direct = type.wire!.read(r, end);
      expect(direct, name).not.toBe(MISMATCH);
      expect({ name, v: direct }).toEqual({ name, v: value });
      expect({ name, ...(await fromLiteralMapBytes({ v: type }, bytes, ctx, "py")) }).toEqual({
        name,
        v: value,
      });
      // flytekit's map entries are not in insertion order: bytes compare for maps of one key only.
      if (name === "dict" || name === "dictdict") continue;
      const ours = await toLiteralMapBytes({ v: type }, { v: value }, ctx, "ts");
      expect({ name, hex: Buffer.from(ours).toString("hex") }).toEqual({ name, hex: theirs[name] });
    }
  });

  it("flytekit reads our bytes as the values we wrote", async () => {
    const ours: Record<string, string> = {};
    for (const [name, [type, value]] of Object.entries(CASES))
      ours[name] = Buffer.from(await toLiteralMapBytes({ v: type }, { v: value }, ctx, "ts")).toString("hex");
    const read = python("read", JSON.stringify(ours));
    for (const name of Object.keys(CASES)) expect({ name, ok: read[name] }).toEqual({ name, ok: true });
  });
});
