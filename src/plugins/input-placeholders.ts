/**
 * `{{.inputs.<name>}}` placeholders: how pre-built and raw container tasks refer to their inputs
 * in text (a SQL query, a URL, a command line). Matching follows Flyte: case-insensitive, spaces
 * allowed inside the braces, `.` or `$` before `inputs`.
 */
import { FlyteDefinitionError } from "../errors.js";

/** One placeholder found in a text. */
export interface InputPlaceholder {
  /** The input's name. */
  readonly name: string;
  /** Where the placeholder starts in the text. */
  readonly start: number;
  /** Where it ends (exclusive). */
  readonly end: number;
}

/** Matches `{{.inputs.name}}`, `{{ .Inputs.name }}`, `{{$inputs.name}}`. */
export const INPUT_PLACEHOLDER = /\{\{\s*[.$]inputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/gi;

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
