// ContainerTask (raw container, no SDK inside): serialization (compared with flytekit's when it is
// installed), definition checks, the in-process error, and the copilot data contract against
// real files: copilotInputs writes what flyte-copilot's downloader writes, copilotOutputs reads
// what its sidecar reads. Expected texts of Go's formatting were produced with Go 1.x
// (strconv.FormatFloat, fmt %v, time.Duration.String, encoding/json).
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, fromBinary, toJson } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { FlyteDefinitionError, type FlyteError } from "../../src/errors.js";
import { FlyteDirectory, FlyteFile, t, workflow } from "../../src/index.js";
import {
  ContainerTask,
  copilotInputs,
  copilotOutputs,
  goDuration,
  parseGoDuration,
  renderInputPlaceholders,
} from "../../src/plugins/index.js";
import { goFloatPlain, goFloatV } from "../../src/plugins/number-text.js";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { ContainerSchema, TaskTemplateSchema } from "../../src/proto/gen/flyteidl/core/tasks_pb.js";
import { SerializationSettings } from "../../src/serialize/settings.js";
import { taskTemplate } from "../../src/serialize/task-template.js";
import { fromLiteralMap, toLiteralMap } from "../../src/types/literal-map.js";
import { findPython } from "../types/python-peer.js";
import { root, taskContext, tempDir } from "./helpers.js";

const settings = SerializationSettings.forImage("ghcr.io/example/app:v1", "v1");

function ellipse() {
  return new ContainerTask({
    name: "ellipse_area",
    image: "ghcr.io/flyteorg/rawcontainers-shell:v2",
    command: ["./calculate-ellipse-area.sh", "{{.inputs.a}}", "{{.inputs.b}}", "/var/outputs"],
    inputs: { a: t.float(), b: t.float() },
    outputs: { area: t.float(), metadata: t.string() },
  });
}

function definitionFailure(fn: () => unknown): FlyteDefinitionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlyteDefinitionError);
    return err as FlyteDefinitionError;
  }
  throw new Error("expected a definition error");
}

async function failure(p: Promise<unknown>): Promise<FlyteError> {
  try {
    await p;
  } catch (err) {
    return err as FlyteError;
  }
  throw new Error("expected a failure");
}

describe("ContainerTask", () => {
  it("serializes a raw-container template with the copilot DataLoadingConfig", () => {
    const tpl = taskTemplate(ellipse(), settings);
    expect(tpl.type).toBe("raw-container");
    expect(tpl.custom).toBeUndefined();
    const c = toJson(ContainerSchema, tpl.target.value as never) as Record<string, unknown>;
    expect(c).toEqual({
      image: "ghcr.io/flyteorg/rawcontainers-shell:v2",
      command: ["./calculate-ellipse-area.sh", "{{.inputs.a}}", "{{.inputs.b}}", "/var/outputs"],
      resources: {},
      dataConfig: { enabled: true, inputPath: "/var/inputs", outputPath: "/var/outputs" },
    });
    const yaml = new ContainerTask({
      name: "y",
      image: "{{.image.default}}",
      command: ["sh"],
      arguments: ["-c", "cat /in/inputs.yaml > /out/o"],
      outputs: { o: t.string() },
      inputDataDir: "/in",
      outputDataDir: "/out",
      metadataFormat: "YAML",
      ioStrategy: { download: "stream", upload: "eager" },
      environment: { A: "1" },
    });
    expect(toJson(ContainerSchema, taskTemplate(yaml, settings).target.value as never)).toEqual({
      image: "ghcr.io/example/app:v1",
      command: ["sh"],
      args: ["-c", "cat /in/inputs.yaml > /out/o"],
      env: [{ key: "A", value: "1" }],
      resources: {},
      dataConfig: {
        enabled: true,
        inputPath: "/in",
        outputPath: "/out",
        format: "YAML",
        ioStrategy: { downloadMode: "DOWNLOAD_STREAM", uploadMode: "UPLOAD_EAGER" },
      },
    });
  });

  const { python } = findPython(["flytekit"]);
  it.skipIf(!python)("matches the template flytekit writes for the same ContainerTask", () => {
    const dir = tempDir();
    const out = join(dir, "ct.pb");
    execFileSync(python!, [join(root, "test/plugins/flytekit_plugins.py"), "serialize-container", out], {
      stdio: "pipe",
      env: { ...process.env, FLYTE_SDK_LOGGING_LEVEL: "40" },
    });
    const theirs = toJson(TaskTemplateSchema, fromBinary(TaskTemplateSchema, readFileSync(out))) as Record<
      string,
      unknown
    >;
    const ours = toJson(TaskTemplateSchema, taskTemplate(ellipse(), settings)) as Record<string, unknown>;
    expect(ours.type).toEqual(theirs.type);
    expect(ours.interface).toEqual(theirs.interface);
    expect(ours.container).toEqual(theirs.container);
  });

  it("checks placeholders and types when defined", () => {
    const base = { name: "c", image: "alpine:3", command: ["echo"] };
    expect(definitionFailure(() => new ContainerTask({ ...base, arguments: ["{{.inputs.x}}"] })).code).toBe(
      "CONTAINER_UNKNOWN_INPUT",
    );
    expect(
      definitionFailure(
        () => new ContainerTask({ ...base, arguments: ["{{.inputs.m}}"], inputs: { m: t.map(t.string()) } }),
      ).code,
    ).toBe("CONTAINER_PLACEHOLDER_TYPE");
    // An optional input is a union literal, which propeller cannot write into a command line.
    expect(
      definitionFailure(
        () =>
          new ContainerTask({ ...base, arguments: ["{{.inputs.o}}"], inputs: { o: t.optional(t.int()) } }),
      ).code,
    ).toBe("CONTAINER_PLACEHOLDER_TYPE");
    expect(
      definitionFailure(() => new ContainerTask({ ...base, outputs: { xs: t.list(t.int()) } })).code,
    ).toBe("CONTAINER_OUTPUT_TYPE");
    expect(definitionFailure(() => new ContainerTask({ ...base, outputs: { b: t.bytes() } })).code).toBe(
      "CONTAINER_OUTPUT_TYPE",
    );
    expect(
      definitionFailure(() => new ContainerTask({ ...base, inputs: { df: t.dataframe({ a: t.int() }) } }))
        .code,
    ).toBe("CONTAINER_INPUT_TYPE");
    expect(definitionFailure(() => new ContainerTask({ ...base, image: "" })).code).toBe(
      "CONTAINER_IMAGE_MISSING",
    );
    expect(definitionFailure(() => new ContainerTask({ ...base, command: [] })).code).toBe(
      "CONTAINER_COMMAND_INVALID",
    );
  });

  it("cannot run in process: a clear error pointing at container mode", async () => {
    const task = ellipse();
    const e = await failure(task.run({ a: 1, b: 2 }));
    expect(e.code).toBe("CONTAINER_TASK_LOCAL");
    expect(e.fix).toContain("tsflyte run --containers");
    // It is still callable inside a workflow (serialization, container mode).
    const wf = workflow(
      { name: "ellipse_wf", inputs: { a: t.float() } },
      ({ a }) => ellipse()({ a, b: a }).area,
    );
    expect((await failure(wf.run({ a: 2 }))).code).toBe("CONTAINER_TASK_LOCAL");
  });

  it("renders {{.inputs.x}} in command lines as propeller does", async () => {
    const ctx = taskContext(tempDir());
    const lits = await toLiteralMap(
      {
        i: t.int(),
        f: t.float(),
        big: t.float(),
        b: t.bool(),
        s: t.string(),
        d: t.datetime(),
        xs: t.list(t.int()),
        o: t.optional(t.int()),
      },
      {
        i: 7,
        f: 0.5,
        big: 1e6,
        b: true,
        s: "a b",
        d: new Date("2024-05-06T07:08:09.120Z"),
        xs: [1, 2],
        o: 3,
      },
      ctx,
      "t",
    );
    expect(
      renderInputPlaceholders(
        [
          "{{.inputs.i}}",
          "{{ .Inputs.f }}/{{.inputs.big}}",
          "{{.inputs.b}}",
          "{{.inputs.s}}",
          "{{.inputs.d}}",
          "{{.inputs.xs}}",
        ],
        lits,
      ),
    ).toEqual(["7", "0.5/1e+06", "true", "a b", "2024-05-06T07:08:09.12Z", "[1,2]"]);
    // Propeller fails on unions (optional inputs) and on names it does not have.
    expect(() => renderInputPlaceholders(["{{$inputs.o}}"], lits)).toThrow(
      expect.objectContaining({ code: "CONTAINER_PLACEHOLDER_TYPE" }),
    );
    expect(() => renderInputPlaceholders(["{{.inputs.nope}}"], lits)).toThrow(
      expect.objectContaining({ code: "CONTAINER_INPUT_MISSING" }),
    );
  });
});

describe("Go text forms (copilot and propeller)", () => {
  it("formats floats and durations as Go does", () => {
    const floats = [1, 1.5, 1e6, 123456, 1234567, 1e20, 1e21, 1e-5, 0.0001, 1e-7, 3.25159, 100000000];
    expect(floats.map(goFloatV)).toEqual([
      "1",
      "1.5",
      "1e+06",
      "123456",
      "1.234567e+06",
      "1e+20",
      "1e+21",
      "1e-05",
      "0.0001",
      "1e-07",
      "3.25159",
      "1e+08",
    ]);
    expect(floats.map(goFloatPlain)).toEqual([
      "1",
      "1.5",
      "1000000",
      "123456",
      "1234567",
      "100000000000000000000",
      "1000000000000000000000",
      "0.00001",
      "0.0001",
      "0.0000001",
      "3.25159",
      "100000000",
    ]);
    const d = (ns: bigint) =>
      create(DurationSchema, { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) });
    expect(
      [
        0n,
        1500n,
        1_500_000n,
        1_500_000_000n,
        3_723_500_000_000n,
        7_200_000_000_000n,
        -90_000_000_000n,
        500n,
      ].map((n) => goDuration(d(n))),
    ).toEqual(["0s", "1.5µs", "1.5ms", "1.5s", "1h2m3.5s", "2h0m0s", "-1m30s", "500ns"]);
    const parsed = (s: string) => {
      const v = parseGoDuration(s);
      return v === undefined ? undefined : v.seconds * 1_000_000_000n + BigInt(v.nanos);
    };
    expect(["300ms", "-1.5h", "2h45m", "1h2m3.5s", "0", "1.5µs", "1us", ".5s", "5", ""].map(parsed)).toEqual([
      300_000_000n,
      -5_400_000_000_000n,
      9_900_000_000_000n,
      3_723_500_000_000n,
      0n,
      1500n,
      1000n,
      500_000_000n,
      undefined,
      undefined,
    ]);
  });
});

describe("copilotInputs", () => {
  it("writes one file or folder per input, inputs.pb and inputs.json like flyte-copilot", async () => {
    const dir = tempDir();
    const ctx = taskContext(dir);
    const src = join(dir, "src");
    mkdirSync(join(src, "folder/sub"), { recursive: true });
    writeFileSync(join(src, "data.csv"), "a,b\n1,2\n");
    writeFileSync(join(src, "folder/one.txt"), "1");
    writeFileSync(join(src, "folder/sub/two.txt"), "2");
    const schema = {
      big: t.bigint(),
      f: t.float(),
      s: t.string(),
      b: t.bool(),
      when: t.datetime(),
      took: t.duration(),
      maybe: t.optional(t.int()),
      nothing: t.optional(t.string()),
      xs: t.list(t.int()),
      m: t.map(t.string()),
      csv: t.file("csv"),
      folder: t.directory(),
    };
    const inputs = await toLiteralMap(
      schema,
      {
        big: 9007199254740993n,
        f: 1e-7,
        s: "<&> hi",
        b: false,
        when: new Date("2024-05-06T07:08:09.123Z"),
        took: 3_723_500,
        maybe: 5,
        nothing: null,
        xs: [10, 20],
        m: { k: "v" },
        csv: FlyteFile.fromPath(join(src, "data.csv")),
        folder: FlyteDirectory.fromPath(join(src, "folder")),
      },
      ctx,
      "t",
    );
    const task = { name: "raw", inputs: schema, outputs: {} };
    const out = join(dir, "var-inputs");
    await copilotInputs(task, inputs, out);
    const read = (p: string) => readFileSync(join(out, p), "utf8");
    expect(readdirSync(out).sort()).toEqual(
      [
        "b",
        "big",
        "csv",
        "f",
        "folder",
        "inputs.json",
        "inputs.pb",
        "m",
        "maybe",
        "nothing",
        "s",
        "took",
        "when",
        "xs",
      ].sort(),
    );
    expect([
      read("big"),
      read("f"),
      read("s"),
      read("b"),
      read("when"),
      read("took"),
      read("maybe"),
      read("nothing"),
    ]).toEqual([
      "9007199254740993",
      "0.0000001",
      "<&> hi",
      "false",
      "2024-05-06T07:08:09.123Z",
      "1h2m3.5s",
      "5",
      "null",
    ]);
    expect([read("xs/0"), read("xs/1"), read("m/k")]).toEqual(["10", "20", "v"]);
    expect(read("csv")).toBe("a,b\n1,2\n");
    expect([read("folder/one.txt"), read("folder/sub/two.txt")]).toEqual(["1", "2"]);
    // encoding/json: sorted keys, exact int64, HTML characters escaped, durations null (copilot 1.16).
    expect(read("inputs.json")).toBe(
      `{"b":false,"big":9007199254740993,"csv":"${join(out, "csv")}","f":1e-7,"folder":"${join(out, "folder")}","m":{"k":"v"},"maybe":5,"nothing":null,"s":"\\u003c\\u0026\\u003e hi","took":null,"when":"2024-05-06T07:08:09.123Z","xs":[10,20]}`,
    );
    // inputs.pb: the same literals, files pointing at the local copies.
    const pb = fromBinary(LiteralMapSchema, readFileSync(join(out, "inputs.pb")));
    const back = await fromLiteralMap(schema, pb, ctx, "t");
    expect(back.big).toBe(9007199254740993n);
    expect(back.csv.location).toBe(join(out, "csv"));
    expect(back.folder.location).toBe(join(out, "folder"));
    expect(back.xs).toEqual([10, 20]);
  });

  it("writes inputs.yaml for the YAML format and nothing extra for PROTO; rejects dataframes", async () => {
    const dir = tempDir();
    const ctx = taskContext(dir);
    const schema = { n: t.bigint(), name: t.string() };
    const inputs = await toLiteralMap(schema, { n: 2n ** 62n, name: "a: b" }, ctx, "t");
    await copilotInputs(
      { name: "y", inputs: schema, outputs: {}, metadataFormat: "YAML" },
      inputs,
      join(dir, "y"),
    );
    expect(readFileSync(join(dir, "y/inputs.yaml"), "utf8")).toBe(`n: 4611686018427387904\nname: "a: b"\n`);
    await copilotInputs(
      { name: "p", inputs: schema, outputs: {}, metadataFormat: "PROTO" },
      inputs,
      join(dir, "p"),
    );
    expect(readdirSync(join(dir, "p")).sort()).toEqual(["inputs.pb", "n", "name"]);
    const dfSchema = { df: t.dataframe({ a: t.int() }) };
    const df = await toLiteralMap(dfSchema, { df: [{ a: 1 }] as never }, ctx, "t");
    const e = await failure(copilotInputs({ name: "d", inputs: dfSchema, outputs: {} }, df, join(dir, "d")));
    expect(e.code).toBe("COPILOT_INPUT_UNSUPPORTED");
  });
});

describe("copilotOutputs", () => {
  const outputs = {
    n: t.int(),
    x: t.float(),
    ok: t.bool(),
    msg: t.string(),
    at: t.datetime(),
    took: t.duration(),
    info: t.json(),
    report: t.file(),
    pics: t.directory(),
  };

  function writeOutputs(dir: string) {
    mkdirSync(join(dir, "pics/sub"), { recursive: true });
    writeFileSync(join(dir, "n"), "42\n");
    writeFileSync(join(dir, "x"), " 2.5e3 ");
    writeFileSync(join(dir, "ok"), "True");
    writeFileSync(join(dir, "msg"), "\t hello world \n");
    writeFileSync(join(dir, "at"), "2024-05-06T09:08:09.5+02:00");
    writeFileSync(join(dir, "took"), "1h30m");
    writeFileSync(join(dir, "info"), '{"a": [1, 2], "b": "c"}');
    writeFileSync(join(dir, "report.csv"), "x,y\n");
    writeFileSync(join(dir, "pics/a.png"), "A");
    writeFileSync(join(dir, "pics/sub/b.png"), "B");
  }

  it("reads simple values from text files and files/directories by name, like the copilot sidecar", async () => {
    const dir = tempDir();
    const out = join(dir, "var-outputs");
    writeOutputs(out);
    const task = { name: "raw", inputs: {}, outputs };
    const lits = await copilotOutputs(task, out);
    const values = await fromLiteralMap(outputs, lits, taskContext(dir), "raw");
    expect(values).toMatchObject({
      n: 42,
      x: 2500,
      ok: true,
      msg: "hello world",
      at: new Date("2024-05-06T07:08:09.500Z"),
      took: 5_400_000,
    });
    expect(JSON.stringify(lits.literals.info)).toContain("generic");
    expect(values.info).toEqual({ a: [1, 2], b: "c" });
    // report was written as report.csv: copilot accepts the only file with an extension.
    expect(values.report.location).toBe(join(out, "report.csv"));
    expect(values.pics.location).toBe(join(out, "pics"));
  });

  it("uploads files and directories under the raw output prefix when given", async () => {
    const dir = tempDir();
    const out = join(dir, "o");
    writeOutputs(out);
    const raw = join(dir, "raw");
    const lits = await copilotOutputs({ name: "raw", inputs: {}, outputs }, out, { rawOutputPrefix: raw });
    const values = await fromLiteralMap(outputs, lits, taskContext(dir), "raw");
    expect(values.report.location).toBe(join(raw, "report"));
    expect(readFileSync(join(raw, "report"), "utf8")).toBe("x,y\n");
    expect(readFileSync(join(raw, "pics/sub/b.png"), "utf8")).toBe("B");
  });

  it("fails with the container's _ERROR message, and on missing, unparsable or too large outputs", async () => {
    const dir = tempDir();
    const task = { name: "raw", inputs: {}, outputs: { n: t.int() } };
    writeFileSync(join(dir, "_ERROR"), "disk full\n");
    const user = await failure(copilotOutputs(task, dir));
    expect(user.code).toBe("COPILOT_USER_ERROR");
    expect(user.message).toContain("User Error: disk full");
    expect(user.origin).toBe("USER");
    const d2 = tempDir();
    expect((await failure(copilotOutputs(task, d2))).code).toBe("COPILOT_OUTPUT_MISSING");
    writeFileSync(join(d2, "n"), "4.5");
    const parse = await failure(copilotOutputs(task, d2));
    expect(parse.code).toBe("COPILOT_OUTPUT_PARSE");
    expect(parse.message).toContain('"4.5"');
    writeFileSync(join(d2, "n"), "1".repeat(1025));
    expect((await failure(copilotOutputs(task, d2))).code).toBe("COPILOT_OUTPUT_TOO_LARGE");
  });

  it("round-trips with copilotInputs for a raw container that copies its inputs to its outputs", async () => {
    const dir = tempDir();
    const ctx = taskContext(dir);
    const schema = {
      n: t.int(),
      msg: t.string(),
      at: t.datetime(),
      took: t.duration(),
      ok: t.bool(),
      x: t.float(),
    };
    const values = {
      n: -12,
      msg: "ünïcode",
      at: new Date("2024-01-02T03:04:05.678Z"),
      took: 61_001,
      ok: true,
      x: 1e21,
    };
    await copilotInputs(
      { name: "echo", inputs: schema, outputs: schema },
      await toLiteralMap(schema, values, ctx, "t"),
      join(dir, "in"),
    );
    // The "container": copies each input file to the output folder.
    mkdirSync(join(dir, "out"));
    for (const k of Object.keys(schema)) writeFileSync(join(dir, "out", k), readFileSync(join(dir, "in", k)));
    const lits = await copilotOutputs({ name: "echo", inputs: schema, outputs: schema }, join(dir, "out"));
    expect(await fromLiteralMap(schema, lits, ctx, "t")).toEqual(values);
  });
});
