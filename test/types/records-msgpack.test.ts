/**
 * Records are written as flytekit 1.16 writes the same dataclass, byte for byte: integral
 * floats (2.0, -0.0, timedeltas of whole seconds) as msgpack float64, integers in the smallest
 * format whether a number or a bigint (uint64/int64 beyond 32 bits). Checked against the bytes
 * real flytekit writes; skipped, with the reason printed, when no Python with flytekit is found.
 */
import { describe, expect, it } from "vitest";
import type { Literal } from "../../src/types/index.js";
import { t } from "../../src/types/index.js";
import { encodeMsgpack, Float64 } from "../../src/types/msgpack.js";
import { findPython, runPython } from "./python-peer.js";

const PY = `
import dataclasses, datetime, json, typing
from flytekit import FlyteContextManager
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import Literal
from flyteidl.core import literals_pb2

@dataclasses.dataclass
class Inner:
    a: int
    f: float

@dataclasses.dataclass
class Rec:
    i: int
    big: int
    neg: int
    negbig: int
    small: int
    f2: float
    f25: float
    fneg0: float
    finf: float
    s: str
    fl: typing.List[float]
    fd: typing.Dict[str, float]
    of: typing.Optional[float]
    on: typing.Optional[float]
    td: datetime.timedelta
    td15: datetime.timedelta
    dt: datetime.datetime
    b: bool
    il: typing.List[int]
    inner: Inner

ctx = FlyteContextManager.current_context()
v = Rec(i=3, big=2**40, neg=-200, negbig=-(2**40), small=5, f2=2.0, f25=2.5, fneg0=-0.0, finf=float("inf"),
        s="h\\u00e9llo \\U0001F600", fl=[1.0, 1.5, 0.0], fd={"a": 3.0}, of=4.0, on=None,
        td=datetime.timedelta(seconds=2), td15=datetime.timedelta(seconds=1.5),
        dt=datetime.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=datetime.timezone.utc),
        b=True, il=[1, 300, 70000, 2**33, -5, -(2**31) - 1], inner=Inner(a=7, f=1.0))
lit = TypeEngine.to_literal(ctx, v, Rec, TypeEngine.to_literal_type(Rec))
print(lit.scalar.binary.value.hex())
`;

const Inner = t.record({ a: t.int(), f: t.float() }, { name: "Inner" });
const Rec = t.record(
  {
    i: t.int(),
    big: t.int(),
    neg: t.int(),
    negbig: t.bigint(),
    small: t.bigint(),
    f2: t.float(),
    f25: t.float(),
    fneg0: t.float(),
    finf: t.float(),
    s: t.string(),
    fl: t.list(t.float()),
    fd: t.map(t.float()),
    of: t.optional(t.float()),
    on: t.optional(t.float()),
    td: t.duration(),
    td15: t.duration(),
    dt: t.datetime(),
    b: t.bool(),
    il: t.list(t.int()),
    inner: Inner,
  },
  { name: "Rec" },
);
const value = {
  i: 3,
  big: 2 ** 40,
  neg: -200,
  negbig: -(2n ** 40n),
  small: 5n,
  f2: 2,
  f25: 2.5,
  fneg0: -0,
  finf: Infinity,
  s: "héllo 😀",
  fl: [1, 1.5, 0],
  fd: { a: 3 },
  of: 4,
  on: null,
  td: 2000,
  td15: 1500,
  dt: new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123)),
  b: true,
  il: [1, 300, 70000, 2 ** 33, -5, -(2 ** 31) - 1],
  inner: { a: 7, f: 1 },
};

function msgpackOf(lit: Literal): Uint8Array {
  const s = lit.value.case === "scalar" ? lit.value.value.value : undefined;
  if (s?.case !== "binary") throw new Error("not a binary literal");
  return s.value.value;
}

describe("record MessagePack", () => {
  it("writes integral floats as float64 and integers in the smallest format", () => {
    const hex = (v: unknown) => Buffer.from(encodeMsgpack(v)).toString("hex");
    expect(hex(new Float64(2))).toBe("cb4000000000000000");
    expect(hex(2)).toBe("02");
    expect(hex(2 ** 32)).toBe("cf0000000100000000");
    expect(hex(-(2 ** 31) - 1)).toBe("d3ffffffff7fffffff");
    expect(hex(5n)).toBe("05");
    expect(hex(-(2n ** 63n))).toBe("d38000000000000000");
    expect(hex({ a: undefined, b: [null, true] })).toBe("81a16292c0c3");
    expect(hex(new Uint8Array([1, 2]))).toBe("c4020102");
  });

  it("reads back what it writes", () => {
    const lit = Rec.toLiteral(value as never);
    expect(Rec.fromLiteral(lit)).toEqual(value);
  });

  const peer = findPython(["flytekit"]);
  it.skipIf(!peer.python)("is byte-identical to flytekit 1.16's dataclass bytes", () => {
    const theirs = runPython(peer.python!, PY).trim();
    const ours = Buffer.from(msgpackOf(Rec.toLiteral(value as never))).toString("hex");
    expect(ours).toBe(theirs);
  });
});
