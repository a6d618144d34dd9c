/**
 * Propeller's substitutions in a task container's command and args: `{{.input}}`,
 * `{{.outputPrefix}}`, `{{.rawOutputDataPrefix}}`, `{{.checkpointOutputPrefix}}`,
 * `{{.prevCheckpointPrefix}}`, `{{.taskTemplatePath}}`, `{{.inputPrefix}}`,
 * `{{.perRetryUniqueKey}}`, `{{.namespace}}` and, for raw containers, `{{.inputs.<name>}}`.
 * Names ignore case, the leading `.` may be `$`, spaces are allowed inside the braces. Anything
 * else between braces is left as it is (as propeller does).
 */
import type { Literal } from "../../types/literals.js";

/** The values propeller substitutes for one task attempt. */
export interface TemplateVars {
  /** `{{.input}}`: the inputs LiteralMap file. */
  input: string;
  /** `{{.inputPrefix}}`: the folder of the inputs file. */
  inputPrefix: string;
  /** `{{.outputPrefix}}`: where outputs.pb / error.pb / futures.pb go. */
  outputPrefix: string;
  /** `{{.rawOutputDataPrefix}}`: where large data goes. */
  rawOutputDataPrefix: string;
  /** `{{.checkpointOutputPrefix}}`: where this attempt writes its checkpoint. */
  checkpointOutputPrefix: string;
  /** `{{.prevCheckpointPrefix}}`: the previous attempt's checkpoint, or `""`. */
  prevCheckpointPrefix: string;
  /** `{{.taskTemplatePath}}`: the TaskTemplate file. */
  taskTemplatePath: string;
  /** `{{.perRetryUniqueKey}}`. */
  perRetryUniqueKey: string;
  /** `{{.namespace}}`. */
  namespace: string;
  /** The inputs, for `{{.inputs.<name>}}`. */
  inputs?: Readonly<Record<string, Literal>>;
}

const PATTERN = /\{\{\s*[.$]([A-Za-z]+)(?:\.([^}\s]+))?\s*\}\}/g;

const KEYS: Record<string, keyof Omit<TemplateVars, "inputs">> = {
  input: "input",
  inputprefix: "inputPrefix",
  outputprefix: "outputPrefix",
  rawoutputdataprefix: "rawOutputDataPrefix",
  checkpointoutputprefix: "checkpointOutputPrefix",
  prevcheckpointprefix: "prevCheckpointPrefix",
  tasktemplatepath: "taskTemplatePath",
  perretryuniquekey: "perRetryUniqueKey",
  namespace: "namespace",
};

/** Substitutes propeller's variables in one argument. */
export function substitute(arg: string, vars: TemplateVars): string {
  return arg.replace(PATTERN, (whole, name: string, sub: string | undefined) => {
    const key = name.toLowerCase();
    if (sub !== undefined) {
      if (key !== "inputs") return whole;
      const lit = vars.inputs?.[sub];
      return lit === undefined ? whole : literalText(lit);
    }
    const k = KEYS[key];
    return k === undefined ? whole : vars[k];
  });
}

/** Substitutes every argument. */
export function substituteAll(args: readonly string[], vars: TemplateVars): string[] {
  return args.map((a) => substitute(a, vars));
}

/** A literal as propeller writes it into a command line: primitives as text, blobs and datasets as their URI. */
export function literalText(lit: Literal): string {
  const v = lit.value;
  if (v.case === "collection") return `[${v.value.literals.map(literalText).join(",")}]`;
  if (v.case === "map")
    return `{${Object.entries(v.value.literals)
      .map(([k, l]) => `${k}:${literalText(l)}`)
      .join(",")}}`;
  if (v.case !== "scalar") return "";
  const s = v.value.value;
  switch (s.case) {
    case "primitive": {
      const p = s.value.value;
      switch (p.case) {
        case "integer":
          return p.value.toString();
        case "floatValue":
          return String(p.value);
        case "stringValue":
          return p.value;
        case "boolean":
          return p.value ? "true" : "false";
        case "datetime": {
          const ms = Number(p.value.seconds) * 1000 + Math.floor(p.value.nanos / 1e6);
          return new Date(ms).toISOString();
        }
        case "duration":
          return `${Number(p.value.seconds) + p.value.nanos / 1e9}s`;
        default:
          return "";
      }
    }
    case "blob":
      return s.value.uri;
    case "structuredDataset":
      return s.value.uri;
    case "union":
      return s.value.value ? literalText(s.value.value) : "";
    default:
      return "";
  }
}
