/**
 * `toLiteralMapBytes` / `fromLiteralMapBytes` against the path they replace (`toLiteralMap` +
 * protobuf-es `toBinary`, `fromBinary` + `fromLiteralMap`): the same bytes, the same values and
 * the same errors, for many shapes and for encodings other than the one we write.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { afterAll, describe, expect, it } from "vitest";
import {
  type Literal,
  LiteralMapSchema,
  LiteralSchema,
} from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import {
  fromLiteralMap,
  fromLiteralMapBytes,
  type Schema,
  type TypeContext,
  t,
  toLiteralMap,
  toLiteralMapBytes,
} from "../../src/types/index.js";
import { binaryLiteral, intLiteral, stringLiteral } from "../../src/types/literals.js";
import { encodeMsgpack } from "../../src/types/msgpack.js";
import { MISMATCH, WireReader } from "../../src/types/wire.js";

const root = mkdtempSync(join(tmpdir(), "fk-ts-wire-"));
const ctx: TypeContext = { rawDataPrefix: join(root, "raw"), workDir: join(root, "work") };
afterAll(() => rmSync(root, { recursive: true, force: true }));

const slowBytes = async (schema: Schema, values: Record<string, unknown>) =>
  toBinary(LiteralMapSchema, await toLiteralMap(schema, values, ctx, "wf.task", "output"));

/** What an error looks like to a caller. */
function describeError(e: unknown) {
  const err = e as { constructor: { name: string }; code?: string; message: string; value?: unknown };
  return { class: err.constructor.name, code: err.code, message: err.message, value: err.value };
}

async function outcome<T>(p: () => Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await p() };
  } catch (e) {
    return { error: describeError(e) };
  }
}

/** The old read path; a map protobuf-es cannot decode is reported as such. */
async function slowRead(schema: Schema, bytes: Uint8Array) {
  let map: ReturnType<typeof fromBinary<typeof LiteralMapSchema>>;
  try {
    map = fromBinary(LiteralMapSchema, bytes);
  } catch (e) {
    return { corrupt: (e as Error).message };
  }
  return outcome(() => fromLiteralMap(schema, map, ctx, "wf.task", "input"));
}

async function fastRead(schema: Schema, bytes: Uint8Array) {
  try {
    return { value: await fromLiteralMapBytes(schema, bytes, ctx, "wf.task", "input") };
  } catch (e) {
    const err = e as { code?: string; cause?: unknown };
    if (err.code === "LITERAL_MAP_CORRUPT") return { corrupt: (err.cause as Error).message };
    return { error: describeError(e) };
  }
}

const ascii = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");

const Item = t.record(
  { id: t.int(), score: t.float(), name: t.string(), tags: t.list(t.string()) },
  { name: "Item" },
);

const shapes: [string, Schema, Record<string, unknown>][] = [
  [
    "ints at every varint length, negatives",
    { xs: t.list(t.int()) },
    {
      xs: [0, 1, -1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 49, 2 ** 53 - 1],
    },
  ],
  ["the extremes of safe integers", { xs: t.list(t.int()) }, { xs: [-(2 ** 53 - 1), 2 ** 53 - 1, -0] }],
  ["an empty list", { xs: t.list(t.int()) }, { xs: [] }],
  ["nested lists", { xs: t.list(t.list(t.int())) }, { xs: [[], [1, 2], [-3], []] }],
  [
    "three levels of strings",
    { xs: t.list(t.list(t.list(t.string()))) },
    { xs: [[["a", ""], []], [], [["ü", "😀"]]] },
  ],
  [
    "bigints over the int64 range",
    { xs: t.list(t.bigint()) },
    { xs: [0n, 1n, -1n, 127n, 128n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)] },
  ],
  [
    "floats: zero, -0, NaN, infinities, subnormals",
    { xs: t.list(t.float()) },
    { xs: [0, -0, 1.5, 2, Number.NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, -1e-300] },
  ],
  [
    "strings: empty, unicode, surrogates, NUL, BOM, long",
    { xs: t.list(t.string()) },
    {
      xs: [
        "",
        "a",
        "héllo wörld",
        "😀",
        "\ud800 lone",
        "x\u0000y",
        "\ufeffbom",
        ascii(23),
        ascii(24),
        ascii(31),
        ascii(32),
        ascii(127),
        ascii(128),
        `${ascii(60)}é${ascii(10)}`,
        ascii(100_000),
        "日本語".repeat(50_000),
      ],
    },
  ],
  ["booleans", { xs: t.list(t.bool()) }, { xs: [true, false, true] }],
  [
    "maps: empty key, unicode and integer-like keys (JS orders those first)",
    { m: t.map(t.int()) },
    { m: { b: 1, "": 0, ü: -5, "10": 2, "2": 3, a: 2 ** 40 } },
  ],
  [
    "a map of lists of floats and a list of maps",
    { m: t.map(t.list(t.float())), l: t.list(t.map(t.bool())) },
    { m: { a: [1.5, -0], e: [] }, l: [{}, { x: true, y: false }] },
  ],
  [
    "top-level primitives",
    { i: t.int(), s: t.string(), f: t.float(), b: t.bool(), n: t.bigint() },
    { i: -7, s: "x", f: 0.1, b: false, n: 9n },
  ],
  [
    "optional values (protobuf-es's path) beside lists",
    { o: t.optional(t.int()), p: t.optional(t.list(t.int())), xs: t.list(t.int()) },
    { o: null, p: [1, 2], xs: [3] },
  ],
  [
    "types without a wire codec (json, enums, datetimes, durations, unions) and a record",
    {
      r: t.record({ a: t.int(), f: t.float() }, { name: "R" }),
      j: t.json(),
      e: t.enum(["x", "y"]),
      d: t.datetime(),
      du: t.duration(),
      u: t.union(t.int(), t.string()),
      lo: t.list(t.optional(t.int())),
    },
    {
      r: { a: 1, f: 2 },
      j: { k: [1, "v"] },
      e: "y",
      d: new Date(1_700_000_000_123),
      du: 1500,
      u: "s",
      lo: [1, null],
    },
  ],
  [
    "lists and maps of records (MessagePack binary literals)",
    { rs: t.list(Item), rm: t.map(t.list(Item)) },
    {
      rs: [
        { id: 1, score: 2, name: "a", tags: [] },
        { id: -(2 ** 40), score: 0.5, name: "é", tags: ["x", "y"] },
      ],
      rm: { k: [{ id: 0, score: -0, name: "", tags: [""] }], e: [] },
    },
  ],
  [
    "an async type (bytes, written to a file) keeps the key order protobuf-es writes",
    { a: t.bytes(), b: t.list(t.int()), c: t.string() },
    { a: new Uint8Array([1, 2, 3]), b: [1], c: "c" },
  ],
  [
    "integer-like input names",
    { "1": t.int(), b: t.list(t.string()), "0": t.list(t.int()) },
    { "1": 1, b: ["x"], "0": [2] },
  ],
  ["no inputs at all", {}, {}],
];

describe("toLiteralMapBytes writes what toLiteralMap + toBinary write", () => {
  for (const [name, schema, values] of shapes) {
    it(name, async () => {
      const fast = await toLiteralMapBytes(schema, values, ctx, "wf.task", "output");
      const slow = await slowBytes(schema, values);
      if (schema.a === t.bytes()) {
        // Each write of bytes goes to a new file: compare all but the file names.
        const text = (b: Uint8Array) =>
          JSON.stringify(toJson(LiteralMapSchema, fromBinary(LiteralMapSchema, b))).replace(
            /"uri":"[^"]*"/g,
            "",
          );
        expect(text(fast)).toBe(text(slow));
        expect(Object.keys(fromBinary(LiteralMapSchema, fast).literals)).toEqual(["b", "c", "a"]);
        expect(fast.length).toBe(slow.length);
      } else expect(Buffer.from(fast).toString("hex")).toBe(Buffer.from(slow).toString("hex"));
    });
  }

  it("1,000,000 ints: the same bytes", async () => {
    const xs = Array.from({ length: 1_000_000 }, (_, i) => (i % 3 === 0 ? -i : i * 7919));
    const fast = await toLiteralMapBytes({ xs: t.list(t.int()) }, { xs }, ctx, "e");
    const slow = await slowBytes({ xs: t.list(t.int()) }, { xs });
    expect(Buffer.from(fast).equals(Buffer.from(slow))).toBe(true);
  });
});

describe("toLiteralMapBytes fails as toLiteralMap does", () => {
  const big = Array.from({ length: 1_000_000 }, (_, i) => i);
  big[999_999] = 1.5;
  const bad: [string, Schema, Record<string, unknown>][] = [
    ["a bad value at the end of a 1M list", { xs: t.list(t.int()) }, { xs: big }],
    ["not an array", { xs: t.list(t.int()) }, { xs: "1,2" }],
    ["not an object", { m: t.map(t.int()) }, { m: [1] }],
    ["a nested path", { xs: t.list(t.list(t.string())) }, { xs: [["a"], ["b", 3]] }],
    ["a map value", { m: t.map(t.list(t.float())) }, { m: { a: [1], b: [null] } }],
    ["an unsafe integer", { i: t.int() }, { i: 2 ** 53 }],
    ["a bigint out of range", { xs: t.list(t.bigint()) }, { xs: [2n ** 63n] }],
    ["a number for a bigint", { n: t.bigint() }, { n: 1 }],
    ["a missing input", { a: t.int(), b: t.int() }, { a: 1 }],
    ["an unknown input", { a: t.int() }, { a: 1, c: 2 }],
    ["a string for a bool", { b: t.list(t.bool()) }, { b: ["true"] }],
    ["the first bad key wins", { a: t.list(t.int()), b: t.int() }, { a: [1, "x"], b: "y" }],
    [
      "a record field",
      { rs: t.list(Item) },
      {
        rs: [
          { id: 1, score: 2, name: "a", tags: [] },
          { id: 1, score: 2, name: "a", tags: [3] },
        ],
      },
    ],
    ["a record without a field", { rs: t.list(Item) }, { rs: [{ id: 1, score: 2, name: "a" }] }],
  ];
  for (const [name, schema, values] of bad) {
    it(name, async () => {
      const fast = await outcome(() => toLiteralMapBytes(schema, values, ctx, "wf.task", "output"));
      const slow = await outcome(() => slowBytes(schema, values));
      expect("error" in slow).toBe(true);
      expect(fast).toEqual(slow);
    });
  }
});

describe("fromLiteralMapBytes reads what fromBinary + fromLiteralMap read", () => {
  for (const [name, schema, values] of shapes) {
    it(name, async () => {
      const bytes = await slowBytes(schema, values);
      const fast = await fastRead(schema, bytes);
      expect(fast).toEqual(await slowRead(schema, bytes));
      expect(fast).toEqual({
        value: await fromLiteralMap(schema, fromBinary(LiteralMapSchema, bytes), ctx, "x"),
      });
    });
  }

  it("reads our own bytes directly (no protobuf-es fallback) for lists and maps of primitives", async () => {
    const cases: [Schema[string], unknown][] = [
      [t.list(t.int()), [1, -2, 2 ** 53 - 1]],
      [t.list(t.list(t.string())), [["a", "é"], []]],
      [t.map(t.list(t.float())), { a: [1.5], b: [] }],
      [t.list(t.bigint()), [-(2n ** 63n)]],
      [t.list(t.bool()), [true, false]],
    ];
    for (const [type, value] of cases) {
      const lit = type.toLiteral(value as never, ctx) as Literal;
      const bytes = toBinary(LiteralSchema, lit);
      const r = new WireReader(bytes);
      expect(type.wire!.read(r, bytes.length)).toEqual(value);
      expect(r.pos).toBe(bytes.length);
    }
  });
});

/** A LiteralMap written field by field, for encodings protobuf-es does not produce. */
function mapBytes(entries: [string, Uint8Array][], opts: { valueFirst?: boolean; extra?: boolean } = {}) {
  const w = new BinaryWriter();
  if (opts.extra) w.tag(7, WireType.Varint).uint32(99); // unknown field before the entries
  for (const [k, lit] of entries) {
    w.tag(1, WireType.LengthDelimited).fork();
    if (opts.valueFirst)
      w.tag(2, WireType.LengthDelimited).bytes(lit).tag(1, WireType.LengthDelimited).string(k);
    else w.tag(1, WireType.LengthDelimited).string(k).tag(2, WireType.LengthDelimited).bytes(lit);
    w.join();
  }
  if (opts.extra) w.tag(9, WireType.LengthDelimited).bytes(new Uint8Array([1, 2]));
  return w.finish();
}

const lit = (l: Literal) => toBinary(LiteralSchema, l);
const listOf = (...items: Literal[]) =>
  lit(create(LiteralSchema, { value: { case: "collection", value: { literals: items } } }));

// A LiteralMap { xs: [1] } whose lengths are varints longer than needed (valid protobuf).
const element = [0x0a, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0x08, 0x01];
const listLiteral = [0x12, 0x88, 0x80, 0x00, ...element]; // length 8 in three bytes
const entry = [0x0a, 0x02, 0x78, 0x73, 0x12, listLiteral.length, ...listLiteral];
const nonMinimal = new Uint8Array([0x0a, 0x80 | entry.length, 0x00, ...entry]);
const optionalInt = toBinary(
  LiteralMapSchema,
  await toLiteralMap({ i: t.optional(t.int()) }, { i: 8 }, ctx, "e"),
);

describe("fromLiteralMapBytes accepts any valid encoding", () => {
  const ints = { xs: t.list(t.int()) };
  const cases: [string, Schema, Uint8Array][] = [
    [
      "map entry with the value before the key",
      ints,
      mapBytes([["xs", listOf(intLiteral(1n))]], { valueFirst: true }),
    ],
    ["unknown top-level fields", ints, mapBytes([["xs", listOf(intLiteral(2n))]], { extra: true })],
    [
      "a literal with hash and metadata set",
      ints,
      mapBytes([
        [
          "xs",
          lit(
            create(LiteralSchema, {
              value: { case: "collection", value: { literals: [intLiteral(3n)] } },
              hash: "abc",
              metadata: { k: "v" },
            }),
          ),
        ],
      ]),
    ],
    [
      "an element with hash set",
      ints,
      mapBytes([["xs", listOf(intLiteral(1n), create(LiteralSchema, { ...intLiteral(4n), hash: "h" }))]]),
    ],
    [
      "a later entry with the same key replaces the earlier",
      ints,
      mapBytes([
        ["xs", listOf(intLiteral(1n))],
        ["xs", listOf(intLiteral(5n))],
      ]),
    ],
    [
      "a map literal with duplicate and reordered keys",
      { m: t.map(t.int()) },
      mapBytes([
        [
          "m",
          (() => {
            const inner = mapBytes([
              ["b", lit(intLiteral(1n))],
              ["a", lit(intLiteral(2n))],
              ["b", lit(intLiteral(3n))],
            ]);
            const w = new BinaryWriter();
            w.tag(3, WireType.LengthDelimited).bytes(inner);
            return w.finish();
          })(),
        ],
      ]),
    ],
    [
      "a string where ints are expected",
      ints,
      mapBytes([["xs", listOf(intLiteral(1n), stringLiteral("2"))]]),
    ],
    ["an int beyond 2^53 for t.int()", ints, mapBytes([["xs", listOf(intLiteral(2n ** 60n))]])],
    [
      "an int for t.float()",
      { xs: t.list(t.float()) },
      mapBytes([["xs", listOf(intLiteral(-3n), intLiteral(2n ** 60n))]]),
    ],
    ["a scalar where a list is expected", ints, mapBytes([["xs", lit(intLiteral(1n))]])],
    ["a list where a map is expected", { m: t.map(t.int()) }, mapBytes([["m", listOf()]])],
    ["an optional int's union literal read as t.int()", { i: t.int() }, optionalInt],
    ["an empty map, required input", ints, new Uint8Array(0)],
    ["an empty map, optional input", { o: t.optional(t.int()) }, new Uint8Array(0)],
    ["non-minimal varint lengths", ints, nonMinimal],
    [
      "a bool encoded as 2",
      { b: t.bool() },
      mapBytes([["b", new Uint8Array([0x0a, 0x04, 0x0a, 0x02, 0x20, 0x02])]]),
    ],
    [
      "invalid UTF-8 in a string",
      { s: t.list(t.string()) },
      mapBytes([["s", new Uint8Array([0x12, 0x09, 0x0a, 0x07, 0x0a, 0x05, 0x0a, 0x03, 0x1a, 0x01, 0xff])]]),
    ],
    [
      "invalid UTF-8 in an entry nobody reads",
      ints,
      mapBytes([
        ["xs", listOf()],
        ["other", new Uint8Array([0x0a, 0x07, 0x0a, 0x05, 0x1a, 0x03, 0xe2, 0x28, 0xa1])],
      ]),
    ],
    ["truncated bytes", ints, mapBytes([["xs", listOf(intLiteral(1n))]]).subarray(0, 9)],
    [
      "a record in a binary literal of another tag",
      { r: Item },
      mapBytes([["r", lit(binaryLiteral(encodeMsgpack({ id: 1, score: 2, name: "a", tags: [] }), "json"))]]),
    ],
    [
      "a record whose MessagePack lacks a field",
      { rs: t.list(Item) },
      mapBytes([["rs", listOf(binaryLiteral(encodeMsgpack({ id: 1, score: 2, name: "a" }), "msgpack"))]]),
    ],
    [
      "a record with the binary's tag before its value",
      { r: Item },
      mapBytes([
        [
          "r",
          new Uint8Array([0x0a, 0x0e, 0x1a, 0x0c, 0x12, 0x07, ...Buffer.from("msgpack"), 0x0a, 0x01, 0x80]),
        ],
      ]),
    ],
  ];
  for (const [name, schema, bytes] of cases) {
    it(name, async () => {
      expect(await fastRead(schema, bytes)).toEqual(await slowRead(schema, bytes));
    });
  }

  it("random corruptions of valid maps: the same values, errors or corruption reports", async () => {
    const schema = {
      xs: t.list(t.int()),
      m: t.map(t.list(t.string())),
      f: t.float(),
      b: t.optional(t.bool()),
      r: t.list(Item),
    };
    const good = await slowBytes(schema, {
      xs: [1, -2, 300],
      m: { a: ["x", "é"], b: [] },
      f: 2.5,
      b: true,
      r: [{ id: 7, score: 1, name: "n", tags: ["t"] }],
    });
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const kinds = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from(good);
      for (let j = 0, flips = 1 + rand(3); j < flips; j++) bytes[rand(bytes.length)] = rand(256);
      const [fast, slow] = [await fastRead(schema, bytes), await slowRead(schema, bytes)];
      expect(fast).toEqual(slow);
      kinds.add(Object.keys(slow)[0]!);
    }
    // The corruptions reached every outcome: values, conversion errors and undecodable bytes.
    expect([...kinds].sort()).toEqual(["corrupt", "error", "value"]);
  });
});

describe("fromLiteralMapBytes reads flytekit's own bytes", () => {
  it("reads the goldens' inputs.pb and outputs.pb as fromBinary + fromLiteralMap do", async () => {
    const { readFileSync } = await import("node:fs");
    const dir = join(import.meta.dirname, "../fixtures/flytekit/execute/trivial");
    const schema = { a: t.int(), b: t.string() };
    const inputs = readFileSync(join(dir, "inputs.pb"));
    expect(await fastRead(schema, inputs)).toEqual(await slowRead(schema, inputs));
    const outSchema = { o0: t.int(), o1: t.string() };
    const outputs = readFileSync(join(dir, "outputs.pb"));
    const read = await fastRead(outSchema, outputs);
    expect(read).toEqual(await slowRead(outSchema, outputs));
    expect("value" in read).toBe(true);
  });

  it("reads flytekit's list literals directly", async () => {
    const { readFileSync } = await import("node:fs");
    const dir = join(import.meta.dirname, "../fixtures/flytekit/literals");
    for (const [name, type] of [
      ["list_int", t.list(t.int())],
      ["list_list_int", t.list(t.list(t.int()))],
      ["dict_str_int", t.map(t.int())],
      ["list_dataclass", t.list(t.record({ a: t.int(), b: t.string() }, { name: "Inner" }))],
    ] as const) {
      const bytes = readFileSync(join(dir, `${name}.literal.pb`));
      const r = new WireReader(bytes);
      const direct = (type.wire as { read: (r: WireReader, end: number) => unknown }).read(r, bytes.length);
      expect(direct).not.toBe(MISMATCH);
      expect(direct).toEqual(type.fromLiteral(fromBinary(LiteralSchema, bytes) as never, ctx));
    }
  });
});
