/**
 * Reading packages (ours and flytekit's): a `.tgz` / `.tar.gz` / `.tar` archive or a folder of
 * `.pb` files. For each entry it tells the kind and name; for tasks the type, image(s) and
 * interface; for workflows the node count and sub-workflows; for launch plans the workflow and
 * schedule. What is wrong is reported as problems with stable codes:
 *
 * - `PACKAGE_NOT_FOUND`: no such file or folder
 * - `PACKAGE_CORRUPT`: not a readable gzip or tar archive
 * - `PACKAGE_EMPTY`: no entities at all
 * - `PACKAGE_ENTRY_NAME`: a file that is not `<idx>_<name>_<1|2|3>.pb` (or a `fast*.tar.gz` bundle)
 * - `PACKAGE_BAD_PROTOBUF`: an entry that does not decode as its kind's message
 * - `PACKAGE_UNRESOLVED_REFERENCE`: a node or launch plan refers to an entity the package lacks
 * - `PACKAGE_TYPE_MISMATCH`: a task node binds a variable the task does not have, or a value
 *   of a type the input does not accept (a light version of propeller's compile-time check)
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import type { ReadEntry } from "tar";
import { type LaunchPlan, LaunchPlanSchema } from "../proto/gen/flyteidl/admin/launch_plan_pb.js";
import { FixedRateUnit } from "../proto/gen/flyteidl/admin/schedule_pb.js";
import { type TaskSpec, TaskSpecSchema } from "../proto/gen/flyteidl/admin/task_pb.js";
import { type WorkflowSpec, WorkflowSpecSchema } from "../proto/gen/flyteidl/admin/workflow_pb.js";
import type { VariableMap } from "../proto/gen/flyteidl/core/interface_pb.js";
import {
  BlobType_BlobDimensionality,
  type LiteralType,
  SimpleType,
} from "../proto/gen/flyteidl/core/types_pb.js";
import type { Node, WorkflowTemplate } from "../proto/gen/flyteidl/core/workflow_pb.js";
import { isAssignable } from "../types/compatibility.js";

/** Stable codes of package problems. */
export type PackageProblemCode =
  | "PACKAGE_NOT_FOUND"
  | "PACKAGE_CORRUPT"
  | "PACKAGE_EMPTY"
  | "PACKAGE_ENTRY_NAME"
  | "PACKAGE_BAD_PROTOBUF"
  | "PACKAGE_UNRESOLVED_REFERENCE"
  | "PACKAGE_TYPE_MISMATCH";

/** Something wrong with a package or one of its entries. */
export interface PackageProblem {
  readonly code: PackageProblemCode;
  /** The entry (file name inside the package), when the problem is about one. */
  readonly file?: string;
  readonly message: string;
}

/** What one entity entry holds, in readable form. */
export interface PackageEntity {
  /** The file name inside the package. */
  readonly file: string;
  /** The `<idx>` prefix, when present. */
  readonly index: number | undefined;
  readonly kind: "task" | "workflow" | "launchPlan";
  readonly name: string;
  /** Tasks: the task type (`python-task`, `typescript-task`, `raw-container`, ...). */
  readonly taskType?: string;
  /** Tasks: the image(s) its container or pod runs. */
  readonly images?: string[];
  /** Tasks and workflows: input and output names with readable types. */
  readonly inputs?: Record<string, string>;
  readonly outputs?: Record<string, string>;
  /** Workflows: the number of nodes of the template (not counting nodes inside branches). */
  readonly nodes?: number;
  /** Workflows: names of the sub-workflows carried with it. */
  readonly subWorkflows?: string[];
  /** Launch plans: the workflow it launches. */
  readonly workflow?: string;
  /** Launch plans: the schedule in readable form. */
  readonly schedule?: string;
}

/** A fast-registration code bundle carried in the package. */
export interface PackageBundle {
  readonly file: string;
  readonly size: number;
}

/** What a package holds. */
export interface PackageSummary {
  readonly path: string;
  readonly format: "tgz" | "tar" | "folder";
  readonly entities: PackageEntity[];
  readonly bundles: PackageBundle[];
  readonly problems: PackageProblem[];
}

// ---- readable types ----

const SIMPLE: Record<number, string> = {
  [SimpleType.NONE]: "none",
  [SimpleType.INTEGER]: "int",
  [SimpleType.FLOAT]: "float",
  [SimpleType.STRING]: "str",
  [SimpleType.BOOLEAN]: "bool",
  [SimpleType.DATETIME]: "datetime",
  [SimpleType.DURATION]: "duration",
  [SimpleType.BINARY]: "binary",
  [SimpleType.ERROR]: "error",
  [SimpleType.STRUCT]: "struct",
};

/** A LiteralType in short readable form: `int`, `list<str>`, `map<str, float>`, `file(csv)`, `union<int | none>`, ... */
export function readableType(lt: LiteralType | undefined): string {
  if (!lt) return "?";
  const t = lt.type;
  switch (t.case) {
    case "simple": {
      const base = SIMPLE[t.value] ?? `simple(${t.value})`;
      const title = lt.metadata && typeof lt.metadata.title === "string" ? lt.metadata.title : undefined;
      return t.value === SimpleType.STRUCT && title ? `struct ${title}` : base;
    }
    case "collectionType":
      return `list<${readableType(t.value)}>`;
    case "mapValueType":
      return `map<str, ${readableType(t.value)}>`;
    case "blob":
      return `${t.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "directory" : "file"}${t.value.format ? `(${t.value.format})` : ""}`;
    case "structuredDatasetType":
      return `dataframe${t.value.format ? `(${t.value.format})` : ""}`;
    case "schema":
      return "schema";
    case "enumType":
      return `enum{${t.value.values.join(", ")}}`;
    case "unionType":
      return `union<${t.value.variants.map(readableType).join(" | ")}>`;
    default:
      return t.case ?? "?";
  }
}

function describeVariables(vm: VariableMap | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vm?.variables ?? {})) out[k] = readableType(v.type);
  return out;
}

// ---- entries ----

const ENTRY_RE = /^(?:(\d+)_)?(.+)_([123])\.pb$/;
const BUNDLE_RE = /^fast.*\.tar\.gz$/;

interface RawEntry {
  readonly file: string;
  readonly bytes: Uint8Array;
}

function decode<T>(schema: DescMessage, bytes: Uint8Array): T | Error {
  try {
    return fromBinary(schema, bytes) as T;
  } catch (err) {
    return err as Error;
  }
}

function taskImages(spec: TaskSpec): string[] {
  const target = spec.template?.target;
  if (target?.case === "container") return [target.value.image];
  if (target?.case === "k8sPod") {
    const containers = (target.value.podSpec?.containers ?? []) as { image?: unknown }[];
    return containers.map((c) => String(c.image ?? "")).filter((s) => s !== "");
  }
  return [];
}

function scheduleText(lp: LaunchPlan): string | undefined {
  const s = lp.spec?.entityMetadata?.schedule;
  if (!s) return undefined;
  const e = s.ScheduleExpression;
  let text: string;
  if (e.case === "cronSchedule")
    text = `cron "${e.value.schedule}"${e.value.offset ? ` offset ${e.value.offset}` : ""}`;
  else if (e.case === "cronExpression") text = `cron "${e.value}"`;
  else if (e.case === "rate")
    text = `every ${e.value.value} ${FixedRateUnit[e.value.unit]?.toLowerCase() ?? "?"}`;
  else text = "?";
  return s.kickoffTimeInputArg ? `${text} (kickoff time -> ${s.kickoffTimeInputArg})` : text;
}

interface Decoded {
  readonly entity: PackageEntity;
  readonly message: TaskSpec | WorkflowSpec | LaunchPlan;
}

function decodeEntry(raw: RawEntry, problems: PackageProblem[]): Decoded | undefined {
  const m = ENTRY_RE.exec(raw.file);
  if (!m) {
    problems.push({
      code: "PACKAGE_ENTRY_NAME",
      file: raw.file,
      message: `"${raw.file}" is not a package entry: entries are <idx>_<name>_<kind>.pb with kind 1 (task), 2 (workflow) or 3 (launch plan)`,
    });
    return undefined;
  }
  const index = m[1] === undefined ? undefined : Number(m[1]);
  const kind = m[3];
  const bad = (what: string, err?: Error) =>
    problems.push({
      code: "PACKAGE_BAD_PROTOBUF",
      file: raw.file,
      message: `does not decode as ${what}${err ? `: ${err.message}` : " (no identifier inside)"}`,
    });
  if (kind === "1") {
    const spec = decode<TaskSpec>(TaskSpecSchema, raw.bytes);
    if (spec instanceof Error || !spec.template?.id?.name)
      return void bad("flyteidl.admin.TaskSpec", spec instanceof Error ? spec : undefined);
    const t = spec.template;
    return {
      message: spec,
      entity: {
        file: raw.file,
        index,
        kind: "task",
        name: t.id?.name ?? "",
        taskType: t.type,
        images: taskImages(spec),
        inputs: describeVariables(t.interface?.inputs),
        outputs: describeVariables(t.interface?.outputs),
      },
    };
  }
  if (kind === "2") {
    const spec = decode<WorkflowSpec>(WorkflowSpecSchema, raw.bytes);
    if (spec instanceof Error || !spec.template?.id?.name)
      return void bad("flyteidl.admin.WorkflowSpec", spec instanceof Error ? spec : undefined);
    const t = spec.template;
    return {
      message: spec,
      entity: {
        file: raw.file,
        index,
        kind: "workflow",
        name: t.id?.name ?? "",
        inputs: describeVariables(t.interface?.inputs),
        outputs: describeVariables(t.interface?.outputs),
        nodes: t.nodes.length,
        subWorkflows: spec.subWorkflows.map((s) => s.id?.name ?? "?"),
      },
    };
  }
  const lp = decode<LaunchPlan>(LaunchPlanSchema, raw.bytes);
  if (lp instanceof Error || !lp.id?.name)
    return void bad("flyteidl.admin.LaunchPlan", lp instanceof Error ? lp : undefined);
  const schedule = scheduleText(lp);
  return {
    message: lp,
    entity: {
      file: raw.file,
      index,
      kind: "launchPlan",
      name: lp.id.name,
      workflow: lp.spec?.workflowId?.name ?? "?",
      ...(schedule ? { schedule } : {}),
    },
  };
}

function nodesDeep(nodes: readonly Node[]): Node[] {
  const out: Node[] = [];
  const walk = (n: Node | undefined) => {
    if (!n) return;
    out.push(n);
    if (n.target.case === "branchNode") {
      const ie = n.target.value.ifElse;
      walk(ie?.case?.thenNode);
      for (const o of ie?.other ?? []) walk(o.thenNode);
      if (ie?.default.case === "elseNode") walk(ie.default.value);
    }
    if (n.target.case === "arrayNode") walk(n.target.value.node);
  };
  for (const n of nodes) walk(n);
  return out;
}

/** Reports references (tasks, sub-workflows, launch plans) that the package does not hold. */
function checkReferences(decoded: readonly Decoded[], problems: PackageProblem[]): void {
  const have = { task: new Set<string>(), workflow: new Set<string>(), launchPlan: new Set<string>() };
  for (const d of decoded) have[d.entity.kind].add(d.entity.name);
  const missing = (file: string, what: string, name: string) =>
    problems.push({
      code: "PACKAGE_UNRESOLVED_REFERENCE",
      file,
      message: `refers to ${what} "${name}", which is not in the package`,
    });
  for (const d of decoded) {
    if (d.entity.kind === "workflow") {
      const spec = d.message as WorkflowSpec;
      const subs = new Set(spec.subWorkflows.map((s) => s.id?.name ?? ""));
      for (const tpl of [spec.template, ...spec.subWorkflows]) {
        const nodes = [...(tpl?.nodes ?? []), ...(tpl?.failureNode ? [tpl.failureNode] : [])];
        for (const n of nodesDeep(nodes)) {
          if (n.target.case === "taskNode" && n.target.value.reference.case === "referenceId") {
            const name = n.target.value.reference.value.name;
            if (!have.task.has(name)) missing(d.entity.file, "task", name);
          } else if (n.target.case === "workflowNode") {
            const ref = n.target.value.reference;
            if (
              ref.case === "subWorkflowRef" &&
              !subs.has(ref.value.name) &&
              !have.workflow.has(ref.value.name)
            )
              missing(d.entity.file, "sub-workflow", ref.value.name);
            if (ref.case === "launchplanRef" && !have.launchPlan.has(ref.value.name))
              missing(d.entity.file, "launch plan", ref.value.name);
          }
        }
      }
    } else if (d.entity.kind === "launchPlan" && d.entity.workflow && !have.workflow.has(d.entity.workflow)) {
      missing(d.entity.file, "workflow", d.entity.workflow);
    }
  }
}

/** Checks the promise bindings of task nodes against the tasks' interfaces (the workflow's inputs and other task nodes' outputs). */
function checkTaskBindings(
  file: string,
  tpl: WorkflowTemplate,
  tasks: ReadonlyMap<string, TaskSpec>,
  problems: PackageProblem[],
): void {
  const taskOf = (n: Node) =>
    n.target.case === "taskNode" && n.target.value.reference.case === "referenceId"
      ? tasks.get(n.target.value.reference.value.name)
      : undefined;
  const byId = new Map(tpl.nodes.map((n) => [n.id, n]));
  for (const n of tpl.nodes) {
    const task = taskOf(n);
    if (!task) continue;
    const inputs = task.template?.interface?.inputs?.variables ?? {};
    for (const b of n.inputs) {
      const expected = inputs[b.var]?.type;
      if (!expected) {
        problems.push({
          code: "PACKAGE_TYPE_MISMATCH",
          file,
          message: `node ${n.id} of ${tpl.id?.name} binds "${b.var}", which task ${task.template?.id?.name} does not have`,
        });
        continue;
      }
      const data = b.binding?.value;
      if (data?.case !== "promise") continue;
      const ref = data.value;
      let actual: LiteralType | undefined;
      if (ref.nodeId === "" || ref.nodeId === "start-node")
        actual = tpl.interface?.inputs?.variables[ref.var]?.type;
      else {
        const up = byId.get(ref.nodeId);
        const upTask = up ? taskOf(up) : undefined;
        actual = upTask?.template?.interface?.outputs?.variables[ref.var]?.type;
      }
      if (actual && !isAssignable(actual, expected)) {
        problems.push({
          code: "PACKAGE_TYPE_MISMATCH",
          file,
          message: `node ${n.id} of ${tpl.id?.name}: input "${b.var}" expects ${readableType(expected)} but is bound to ${ref.nodeId || "the workflow input"} ${ref.var} of type ${readableType(actual)}`,
        });
      }
    }
  }
}

// ---- archives ----

function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] as number);
  const stored = Number.parseInt(
    Buffer.from(block.subarray(148, 156)).toString("ascii").replace(/\0/g, " ").trim(),
    8,
  );
  return stored === sum;
}

async function readTar(bytes: Uint8Array): Promise<RawEntry[]> {
  const entries: RawEntry[] = [];
  // Loaded here: every CLI command imports this module, few read a package.
  const { Parser } = await import("tar");
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "ContiguousFile") {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on("data", (c: Buffer) => chunks.push(c));
      entry.on("end", () =>
        entries.push({ file: basename(entry.path), bytes: new Uint8Array(Buffer.concat(chunks)) }),
      );
    },
  });
  await new Promise<void>((resolveDone, reject) => {
    parser.on("error", reject);
    parser.on("end", () => resolveDone());
    parser.end(Buffer.from(bytes));
  });
  return entries;
}

async function readFolder(dir: string): Promise<RawEntry[]> {
  const out: RawEntry[] = [];
  for (const f of (await readdir(dir)).sort()) {
    if (f.startsWith(".")) continue;
    const p = join(dir, f);
    if (!(await stat(p)).isFile()) continue;
    out.push({ file: f, bytes: new Uint8Array(await readFile(p)) });
  }
  return out;
}

/** Lists what a package (`.tgz`, `.tar.gz`, `.tar`, or a folder of `.pb` files) holds, and what is wrong with it. */
export async function readPackage(path: string): Promise<PackageSummary> {
  const problems: PackageProblem[] = [];
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    return {
      path,
      format: "tgz",
      entities: [],
      bundles: [],
      problems: [{ code: "PACKAGE_NOT_FOUND", message: `no file or folder at ${path}` }],
    };
  }
  let format: PackageSummary["format"];
  let raw: RawEntry[];
  if (info.isDirectory()) {
    format = "folder";
    raw = await readFolder(path);
  } else {
    let bytes = new Uint8Array(await readFile(path));
    format = "tar";
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      format = "tgz";
      try {
        bytes = new Uint8Array(gunzipSync(bytes));
      } catch (err) {
        problems.push({
          code: "PACKAGE_CORRUPT",
          message: `not a readable gzip file: ${(err as Error).message}`,
        });
        return { path, format, entities: [], bundles: [], problems };
      }
    }
    if (!isTarHeader(bytes.subarray(0, 512))) {
      problems.push({
        code: "PACKAGE_CORRUPT",
        message: `not a ${format === "tgz" ? "gzipped tar" : "tar or gzip"} archive`,
      });
      return { path, format, entities: [], bundles: [], problems };
    }
    try {
      raw = await readTar(bytes);
    } catch (err) {
      problems.push({
        code: "PACKAGE_CORRUPT",
        message: `the tar archive is damaged: ${(err as Error).message}`,
      });
      return { path, format, entities: [], bundles: [], problems };
    }
  }
  const decoded: Decoded[] = [];
  const bundles: PackageBundle[] = [];
  for (const r of raw) {
    // Hidden files (.DS_Store, AppleDouble `._*`) are operating-system litter, not entries.
    if (r.file.startsWith(".")) continue;
    if (BUNDLE_RE.test(r.file)) {
      bundles.push({ file: r.file, size: r.bytes.length });
      continue;
    }
    const d = decodeEntry(r, problems);
    if (d) decoded.push(d);
  }
  decoded.sort(
    (a, b) =>
      (a.entity.index ?? Number.MAX_SAFE_INTEGER) - (b.entity.index ?? Number.MAX_SAFE_INTEGER) ||
      a.entity.file.localeCompare(b.entity.file),
  );
  if (decoded.length === 0 && problems.length === 0)
    problems.push({
      code: "PACKAGE_EMPTY",
      message: "the package holds no tasks, workflows or launch plans",
    });
  checkReferences(decoded, problems);
  const tasks = new Map(
    decoded.filter((d) => d.entity.kind === "task").map((d) => [d.entity.name, d.message as TaskSpec]),
  );
  for (const d of decoded) {
    if (d.entity.kind !== "workflow") continue;
    const spec = d.message as WorkflowSpec;
    for (const tpl of [spec.template, ...spec.subWorkflows])
      if (tpl) checkTaskBindings(d.entity.file, tpl, tasks, problems);
  }
  return { path, format, entities: decoded.map((d) => d.entity), bundles, problems };
}
