// Container-mode errors that need no engine: the SDK's missing image, error documents read back
// for people, a foreign task run in process without its program, and the local files a
// pre-built task's template reads (mounted in container mode).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { FlyteExecutionError } from "../../src/errors.js";
import { sdkDefaultImage } from "../../src/images/image-config.js";
import { ContainerEngine } from "../../src/local/containers/engine.js";
import { findProgram, runTemplateOnHost } from "../../src/local/containers/host-run.js";
import { foreignTask } from "../../src/local/containers/python-task.js";
import {
  fromErrorDocument,
  imageMissing,
  splitErrorDocumentText,
} from "../../src/local/containers/task-container.js";
import { runLocally } from "../../src/local/executor.js";
import { SQLite3Task, templateLocalFiles } from "../../src/plugins/index.js";
import { ErrorDocumentSchema } from "../../src/proto/gen/flyteidl/core/errors_pb.js";
import { ContainerSchema, TaskTemplateSchema } from "../../src/proto/gen/flyteidl/core/tasks_pb.js";
import { errorDocument } from "../../src/runtime/error-document.js";
import { literalMap } from "../../src/types/literals.js";

const engine = new ContainerEngine("podman", "podman", "4.3.1");

describe("a missing image", () => {
  it("is SDK_IMAGE_MISSING for the SDK's image, naming the command that builds it", () => {
    const e = imageMissing(sdkDefaultImage(), "examples.sqlite.tracks", engine);
    expect(e).toMatchObject({ code: "SDK_IMAGE_MISSING", origin: "USER" });
    expect(e.message).toContain(sdkDefaultImage());
    expect(e.fix).toContain("tsflyte build <the module that defines examples.sqlite.tracks>");
    expect(e.fix).toContain(`podman pull ${sdkDefaultImage()}`);
    expect(imageMissing("localhost/x:1", "t", engine).code).toBe("IMAGE_MISSING");
  });
});

describe("error documents read back", () => {
  const doc = (err: unknown) => toBinary(ErrorDocumentSchema, errorDocument(err));

  it("a stable code: the message (without the repeated entity), the trace only in the stack", () => {
    const thrown = new FlyteExecutionError("SQLITE_DB_NOT_FOUND", "the database /d/x.db does not exist", {
      entity: "tracks",
      fix: "fix config.uri",
    });
    const e = fromErrorDocument(doc(thrown), "tracks", "img:1");
    expect(e).toMatchObject({ code: "USER:SQLITE_DB_NOT_FOUND", origin: "USER", recoverable: false });
    expect(e.message).toBe("tracks [img:1]: the database /d/x.db does not exist Fix: fix config.uri");
    expect(e.stack).toContain("trace:");
  });

  it("an uncaught exception keeps its trace in the message; flytekit's layout is read the same way", () => {
    const e = fromErrorDocument(doc(new Error("boom")), "t", "img:1");
    expect(e.code).toBe("USER:Error");
    expect(e.message).toMatch(/^t \[img:1\]: boom\n {2}trace:\n {4}Error: boom\n/);
    const flytekit =
      'Trace:\n\n    Traceback (most recent call last):\n      File "x.py"\n\nMessage:\n\n    ValueError: bad';
    expect(splitErrorDocumentText(flytekit)).toEqual({
      message: "ValueError: bad",
      trace: 'Traceback (most recent call last):\n  File "x.py"',
    });
    expect(splitErrorDocumentText("plain text")).toEqual({ message: "plain text", trace: "" });
  });
});

describe("foreign tasks in process", () => {
  it("run their template's program on this machine only when it is installed", async () => {
    expect(findProgram("node")).toBeDefined();
    expect(findProgram("tsflyte-no-such-program")).toBeUndefined();
    const template = create(TaskTemplateSchema, {
      id: { name: "py.tasks.f" },
      type: "python-task",
      target: {
        case: "container",
        value: create(ContainerSchema, {
          image: "img:1",
          args: ["tsflyte-no-such-program", "--inputs", "{{.input}}"],
        }),
      },
    });
    const task = foreignTask({ template, inputs: {}, outputs: {} });
    const dir = mkdtempSync(join(tmpdir(), "tsflyte-host-"));
    const ctx = {
      taskName: "py.tasks.f",
      execution: { project: "p", domain: "d", name: "e" },
      attempt: 0,
      rawDataPrefix: join(dir, "raw"),
      workDir: join(dir, "work"),
      checkpoint: { read: async () => undefined, write: async () => {} },
      secret: () => "",
    };
    const err = await runTemplateOnHost(template, literalMap({}), ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "FOREIGN_TASK_IN_PROCESS" });
    expect((err as Error).message).toContain("tsflyte-no-such-program");
    expect((err as Error).message).toContain("tsflyte run --containers");
    await expect(runLocally(task, {})).rejects.toMatchObject({ code: "FOREIGN_TASK_IN_PROCESS" });
  });
});

describe("local files of pre-built templates", () => {
  it("a SQLite task's database when its uri is an absolute path or file://; not http, s3 or relative", () => {
    const files = (uri: string) => {
      const task = new SQLite3Task({ name: "q", queryTemplate: "select 1 as x", config: { uri } });
      const template = task.templateForLocalRun();
      return [task.localFiles(template), templateLocalFiles(template), templateLocalFiles(template, task)];
    };
    expect(files("/data/music.db")).toEqual([["/data/music.db"], ["/data/music.db"], ["/data/music.db"]]);
    expect(files("file:///data/a%20b.db")[0]).toEqual(["/data/a b.db"]);
    for (const uri of ["s3://b/x.db", "https://h/x.db", "data/x.db"]) expect(files(uri)[0]).toEqual([]);
  });
});
