/**
 * `{{.inputs.<name>}}` placeholders: how pre-built and raw container tasks refer to their inputs
 * in text (a SQL query, a URL, a command line). Matching follows Flyte: case-insensitive, spaces
 * allowed inside the braces, `.` or `$` before `inputs`.
 *
 * In a container's command and args, propeller replaces them with the input's text
 * ({@link renderInputPlaceholders}, flyteplugins' `template.go`); container-mode local runs and
 * `ContainerTask` use this one renderer.
 */
import { FlyteDefinitionError, FlyteExecutionError } from "../errors.js";
import type { Literal, LiteralMap } from "../types/literals.js";
import { goDuration, goTimestamp } from "./copilot.js";
import { goFloatV } from "./number-text.js";

/** One placeholder found in a text. */
export interface InputPlaceholder {
  /** The input's name. */
  readonly name: string;
  /** Where the placeholder starts in the text. */
  readonly start: number;
  /** Where it ends (exclusive). */
  readonly end: number;
}

/** Matches `{{.inputs.name}}`, `{{ .Inputs.name }}`, `{{$inputs.name}}` (names as identifiers). */
export const INPUT_PLACEHOLDER = /\{\{\s*[.$]inputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/gi;

/**
 * Propeller's pattern for command lines: any name up to `}` or a space (`[^}\s]+`), so
 * `{{.inputs.a-b}}` is a placeholder there (naming an input that cannot exist).
 */
export const COMMAND_INPUT_PLACEHOLDER = /\{\{\s*[.$]inputs\.([^}\s]+)\s*\}\}/gi;

/** The placeholders of a text, in order. */
export function findInputPlaceholders(text: string): InputPlaceholder[] {
  const out: InputPlaceholder[] = [];
  for (const m of text.matchAll(INPUT_PLACEHOLDER)) {
    out.push({ name: m[1]!, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/**
 * Checks that every placeholder names a declared input; throws `PLACEHOLDER_UNKNOWN_INPUT`
 * (a `FlyteDefinitionError`, prefixed with `codePrefix`) naming the entity, the placeholder and
 * the declared inputs.
 */
export function checkPlaceholderNames(
  text: string,
  inputs: readonly string[],
  entity: string,
  what: string,
  codePrefix: string,
): InputPlaceholder[] {
  const found = findInputPlaceholders(text);
  const known = new Set(inputs);
  for (const p of found) {
    if (!known.has(p.name)) {
      throw new FlyteDefinitionError(
        `${codePrefix}_UNKNOWN_INPUT`,
        `${what} refers to {{.inputs.${p.name}}}, but the task has no input "${p.name}"`,
        {
          entity,
          fix: `declare "${p.name}" in inputs, or use one of: ${inputs.join(", ") || "(no inputs declared)"}`,
        },
      );
    }
  }
  return found;
}

function unrenderable(name: string, what: string, entity: string | undefined): FlyteExecutionError {
  return new FlyteExecutionError(
    "CONTAINER_PLACEHOLDER_TYPE",
    `input "${name}" (${what}) cannot be written into a command line, as propeller cannot`,
    {
      ...(entity === undefined ? {} : { entity }),
      origin: "USER",
      fix: "refer only to primitives, files, directories or lists of them in the command line",
    },
  );
}

/**
 * One input literal as propeller writes it into a command line (flyteplugins' `serializeLiteral`):
 * integers in decimal, floats as Go's `%v` (`0.5`, `1e+06`), booleans `true`/`false`, datetimes
 * RFC 3339 with nanoseconds (`2024-05-06T07:08:09.12Z`), strings as they are, files, directories
 * and schemas by their URI, lists as `[a,b]`. Everything else (maps, unions, dataframes, records,
 * none) fails with `CONTAINER_PLACEHOLDER_TYPE`, as propeller fails the task.
 * One difference: durations are written as Go durations (`1h30m0s`), where propeller writes the
 * protobuf message's text form, whose spacing Go varies on purpose.
 */
export function renderInputLiteral(lit: Literal, name: string, entity?: string): string {
  if (lit.value.case === "collection")
    return `[${lit.value.value.literals.map((l) => renderInputLiteral(l, name, entity)).join(",")}]`;
  if (lit.value.case !== "scalar") throw unrenderable(name, lit.value.case ?? "empty", entity);
  const s = lit.value.value.value;
  switch (s.case) {
    case "primitive": {
      const p = s.value.value;
      switch (p.case) {
        case "integer":
          return p.value.toString();
        case "boolean":
          return String(p.value);
        case "datetime":
          return goTimestamp(p.value);
        case "duration":
          return goDuration(p.value);
        case "floatValue":
          return goFloatV(p.value);
        case "stringValue":
          return p.value;
        default:
          throw unrenderable(name, "empty primitive", entity);
      }
    }
    case "blob":
    case "schema":
      return s.value.uri;
    default:
      throw unrenderable(name, s.case ?? "empty scalar", entity);
  }
}

/**
 * Replaces `{{.inputs.<name>}}` in a command line with the inputs' text, as propeller does
 * ({@link renderInputLiteral}). A placeholder naming no input fails with `CONTAINER_INPUT_MISSING`;
 * when the task has no inputs at all the text is left as it is (propeller's rule).
 */
export function renderInputPlaceholders(
  args: readonly string[],
  inputs: LiteralMap,
  entity?: string,
): string[] {
  if (Object.keys(inputs.literals).length === 0) return [...args];
  return args.map((arg) =>
    arg.replace(COMMAND_INPUT_PLACEHOLDER, (_m, name: string) => renderInput(name, inputs.literals, entity)),
  );
}

/** The text of one input for `{{.inputs.<name>}}`; `CONTAINER_INPUT_MISSING` when there is none. */
export function renderInput(
  name: string,
  inputs: Readonly<Record<string, Literal>>,
  entity?: string,
): string {
  const lit = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
  if (!lit) {
    throw new FlyteExecutionError("CONTAINER_INPUT_MISSING", `requested input is not found [${name}]`, {
      ...(entity === undefined ? {} : { entity }),
      origin: "USER",
      fix: `declare and pass an input "${name}", or correct the placeholder {{.inputs.${name}}}`,
    });
  }
  return renderInputLiteral(lit, name, entity);
}
