/**
 * The binding type checker against flytepropeller's answers.
 *
 * The expectations in compatibility-cases.ts were produced by flytepropeller v1.16.8's own
 * `validators.AreTypesCastable`. To re-check them (and any other pairs) against the Go code, build
 * this program in a module that requires github.com/flyteorg/flyte/flytepropeller v1.16.8 (with
 * the replace directives of scripts/setup/flytectl.sh) and point FLYTEKIT_TS_CASTCHECK at it:
 *
 *   sc := bufio.NewScanner(os.Stdin)            // lines of {"up": <LiteralType JSON>, "down": ...}
 *   for sc.Scan() { var p struct{ Up, Down json.RawMessage }; json.Unmarshal(sc.Bytes(), &p)
 *     up, down := &core.LiteralType{}, &core.LiteralType{}
 *     protojson.Unmarshal(p.Up, up); protojson.Unmarshal(p.Down, down)
 *     fmt.Println(validators.AreTypesCastable(up, down)) }
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LiteralTypeSchema } from "../../src/proto/gen/flyteidl/core/types_pb.js";
import { describeLiteralType, explainMismatch, isAssignable } from "../../src/types/compatibility.js";
import { type FlyteType, t } from "../../src/types/index.js";
import { CASES } from "./compatibility-cases.js";

describe("isAssignable follows flytepropeller v1.16.8", () => {
  it.each(CASES)("%s", (_name, up, down, expected) => {
    expect(isAssignable(up, down)).toBe(expected);
    const why = explainMismatch(up, down);
    if (expected) expect(why).toBeUndefined();
    else {
      expect(typeof why).toBe("string");
      expect(why).toContain("cannot be bound to");
    }
  });
});

describe("explanations name both types and the reason", () => {
  it("lists, unions, dataframes, records", () => {
    expect(explainMismatch(t.list(t.int()).literalType, t.list(t.float()).literalType)).toBe(
      "list<integer> cannot be bound to list<float>: element: integer cannot be bound to float",
    );
    expect(explainMismatch(t.string().literalType, t.union(t.int(), t.float()).literalType)).toContain(
      "no variant accepts it",
    );
    expect(
      explainMismatch(
        t.dataframe({ a: t.int() }).literalType,
        t.dataframe({ a: t.int(), b: t.string() }).literalType,
      ),
    ).toContain('column "b" is missing upstream');
    const A = t.record({ a: t.int() }, { name: "A" });
    const B = t.record({ a: t.int(), b: t.bool() }, { name: "B" });
    expect(explainMismatch(A.literalType, B.literalType)).toContain(
      'field "b" is required downstream but not upstream',
    );
    expect(explainMismatch(t.file("csv").literalType, t.file("pdf").literalType)).toContain(
      'formats "csv" and "pdf" differ',
    );
  });
  it("renders LiteralTypes compactly", () => {
    expect(describeLiteralType(t.map(t.optional(t.enum(["a", "b"]))).literalType)).toBe(
      'map<string, union<enum("a" | "b") | none>>',
    );
    expect(describeLiteralType(t.record({ x: t.int() }, { name: "Point" }).literalType)).toBe("struct Point");
    expect(describeLiteralType(t.directory("csv").literalType)).toBe('directory(format "csv")');
    expect(describeLiteralType(t.dataframe({ a: t.int() }, { format: "parquet" }).literalType)).toBe(
      'dataframe(a: integer; format "parquet")',
    );
  });
});

const castcheck = process.env.FLYTEKIT_TS_CASTCHECK;
describe.skipIf(!castcheck || !existsSync(castcheck))(
  "differential check against propeller's Go code (FLYTEKIT_TS_CASTCHECK)",
  () => {
    it("agrees on the cases and on random pairs", () => {
      let seed = 7;
      const rnd = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed / 0x7fffffff;
      };
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const gen = (depth: number): FlyteType<unknown> => {
        const leaves = [
          t.int(),
          t.float(),
          t.string(),
          t.bool(),
          t.none(),
          t.enum(["a", "b"]),
          t.file("csv"),
          t.file(),
          t.json(),
        ] as FlyteType<unknown>[];
        const r = rnd();
        if (depth <= 0 || r < 0.3) return pick(leaves);
        if (r < 0.45) return t.list(gen(depth - 1)) as FlyteType<unknown>;
        if (r < 0.55) return t.map(gen(depth - 1)) as FlyteType<unknown>;
        if (r < 0.7) return t.optional(gen(depth - 1)) as FlyteType<unknown>;
        if (r < 0.8) return t.union(gen(depth - 1), gen(depth - 1)) as FlyteType<unknown>;
        const f = gen(depth - 1);
        return t.record(
          { [pick(["a", "b"])]: f.io ? t.int() : f, c: t.int() },
          { name: "R" },
        ) as FlyteType<unknown>;
      };
      const pairs = CASES.map(([, up, down]) => [up, down] as const);
      for (let i = 0; i < 2000; i++) {
        const up = gen(3);
        pairs.push([up.literalType, rnd() < 0.4 ? up.literalType : gen(3).literalType]);
      }
      const input = pairs
        .map(
          ([u, d]) =>
            `{"up":${toJsonString(LiteralTypeSchema, u)},"down":${toJsonString(LiteralTypeSchema, d)}}`,
        )
        .join("\n");
      const go = execFileSync(castcheck!, { input, encoding: "utf8" }).trim().split("\n");
      const diffs = pairs.filter(([u, d], i) => isAssignable(u, d) !== (go[i] === "true"));
      expect(diffs.map(([u, d]) => `${describeLiteralType(u)} -> ${describeLiteralType(d)}`)).toEqual([]);
    });
  },
);
