/**
 * Propeller's substitutions in a task container's command and args: `{{.input}}`,
 * `{{.outputPrefix}}`, `{{.rawOutputDataPrefix}}`, `{{.checkpointOutputPrefix}}`,
 * `{{.prevCheckpointPrefix}}`, `{{.taskTemplatePath}}`, `{{.inputPrefix}}`,
 * `{{.perRetryUniqueKey}}`, `{{.namespace}}` and `{{.inputs.<name>}}` (the input's text, written
 * by the one renderer of the plugins, `renderInput`). Names ignore case, the leading `.` may be
 * `$`, spaces are allowed inside the braces. Anything else between braces is left as it is (as
 * propeller does); so are `{{.inputs.<name>}}` placeholders of a task without inputs. A
 * placeholder naming a missing input, or an input propeller cannot write (a map, a union, a
 * dataframe), fails with `CONTAINER_INPUT_MISSING` / `CONTAINER_PLACEHOLDER_TYPE`.
 */
import { renderInput } from "../../plugins/input-placeholders.js";
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
  /** The task, named in errors. */
  entity?: string;
}

const PATTERN = /\{\{\s*[.$]([A-Za-z]+)(?:\.([^}\s]+))?\s*\}\}/g;

const KEYS: Record<string, keyof Omit<TemplateVars, "inputs" | "entity">> = {
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
  const inputs = vars.inputs ?? {};
  const hasInputs = Object.keys(inputs).length > 0;
  return arg.replace(PATTERN, (whole, name: string, sub: string | undefined) => {
    const key = name.toLowerCase();
    if (sub !== undefined) {
      if (key !== "inputs" || !hasInputs) return whole;
      return renderInput(sub, inputs, vars.entity);
    }
    const k = KEYS[key];
    return k === undefined ? whole : vars[k];
  });
}

/** Substitutes every argument. */
export function substituteAll(args: readonly string[], vars: TemplateVars): string[] {
  return args.map((a) => substitute(a, vars));
}
