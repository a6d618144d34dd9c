/**
 * SQLite query templates: `select * from t where id > {{.inputs.n}} and name = '{{.inputs.who}}'`.
 *
 * A user value never changes the statement's structure: every placeholder becomes a bound
 * parameter (`?`), never text spliced into the SQL.
 * - A placeholder in the SQL itself is bound as the input's value (INTEGER, REAL, TEXT, NULL;
 *   booleans as 1/0, datetimes as text).
 * - A placeholder inside a quoted literal (`'...'` or `"..."`) turns the whole literal into one
 *   parameter bound as TEXT: the literal's text with each placeholder replaced by the value as
 *   flytekit prints it (`str(value)` in Python: `True`, `1.0`, `2024-05-06 07:08:09+00:00`).
 *   So `'%{{.inputs.q}}%'` is bound as `%<q>%`, and `x'; DROP TABLE t; --` stays a string.
 * - Placeholders in comments are ignored; in `[...]` or backtick identifiers they are an
 *   error (a value cannot name a table or column).
 *
 * flytekit splices `str(value)` into the text instead: for values without quotes or SQL
 * syntax both give the same rows. The template is stored as flytekit stores it: runs of
 * whitespace collapsed to one space and trimmed (here only outside quotes and comments, and a
 * `--` comment keeps its line break, so normalising never changes what the query means).
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { describeValue, FlyteDefinitionError, FlyteExecutionError } from "../../errors.js";
import type { Literal, LiteralMap } from "../../types/literals.js";
import { INPUT_PLACEHOLDER } from "../input-placeholders.js";
import { pythonFloat } from "../number-text.js";

type SegmentKind = "code" | "string" | "dquoted" | "identifier" | "lineComment" | "blockComment";

interface Segment {
  readonly kind: SegmentKind;
  readonly text: string;
}

/** A value bound to a `?` of the compiled SQL. */
export type QueryParameter =
  | { readonly kind: "value"; readonly input: string }
  | { readonly kind: "text"; readonly parts: readonly (string | { readonly input: string })[] };

/** A query template compiled to SQL with `?` parameters. */
export interface CompiledQuery {
  /** The normalised template (what the task stores in `custom.query_template`). */
  readonly template: string;
  /** The SQL handed to SQLite, one `?` per parameter. */
  readonly sql: string;
  /** What each `?` is bound to, in order. */
  readonly parameters: readonly QueryParameter[];
  /** The inputs the template refers to (comments included). */
  readonly inputs: ReadonlySet<string>;
}

/** Values SQLite binds. */
export type SqlValue = number | bigint | string | Uint8Array | null;

function definitionError(code: string, message: string, entity: string, fix: string): FlyteDefinitionError {
  return new FlyteDefinitionError(code, message, { entity, fix });
}

/** Splits SQL into code, quoted literals, identifiers and comments. */
function segments(sql: string, entity: string): Segment[] {
  const out: Segment[] = [];
  let code = "";
  let i = 0;
  const flush = () => {
    if (code) out.push({ kind: "code", text: code });
    code = "";
  };
  const closing = (open: string, close: string, kind: SegmentKind, doubled: boolean) => {
    let j = i + 1;
    for (;;) {
      const k = sql.indexOf(close, j);
      if (k === -1) {
        throw definitionError(
          "SQLITE_QUERY_UNTERMINATED",
          `the query template has an unterminated ${open}...${close} starting at character ${i}`,
          entity,
          `close it with ${close}`,
        );
      }
      if (doubled && sql[k + 1] === close) {
        j = k + 2;
        continue;
      }
      flush();
      out.push({ kind, text: sql.slice(i, k + close.length) });
      i = k + close.length;
      return;
    }
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'") closing("'", "'", "string", true);
    else if (c === '"') closing('"', '"', "dquoted", true);
    else if (c === "`") closing("`", "`", "identifier", true);
    else if (c === "[") closing("[", "]", "identifier", false);
    else if (c === "-" && sql[i + 1] === "-") {
      const k = sql.indexOf("\n", i);
      const end = k === -1 ? sql.length : k + 1;
      flush();
      out.push({ kind: "lineComment", text: sql.slice(i, end) });
      i = end;
    } else if (c === "/" && sql[i + 1] === "*") {
      const k = sql.indexOf("*/", i + 2);
      const end = k === -1 ? sql.length : k + 2; // SQLite accepts a comment that runs to the end
      flush();
      out.push({ kind: "blockComment", text: sql.slice(i, end) });
      i = end;
    } else {
      code += c;
      i++;
    }
  }
  flush();
  return out;
}

/** flytekit's normalisation (`re.sub(r"\s+", " ", q).strip()`), applied outside literals and comments only. */
export function normalizeQueryTemplate(query: string, entity = "SQLite3Task"): string {
  return segments(query, entity)
    .map((s) => (s.kind === "code" ? s.text.replace(/\s+/g, " ") : s.text))
    .join("")
    .trim();
}

const NATIVE_PARAMETER = /(^|[^A-Za-z0-9_$])(\?\d*|[:@$][A-Za-z_])/;

/**
 * Compiles a query template: checks it (one statement, no native `?`/`:name` parameters, no
 * placeholder naming an unknown input, every input used) and turns placeholders into parameters.
 * Throws `FlyteDefinitionError` with codes `SQLITE_QUERY_*` naming `entity`.
 */
export function compileQuery(template: string, inputNames: readonly string[], entity: string): CompiledQuery {
  if (typeof template !== "string" || template.trim() === "") {
    throw definitionError(
      "SQLITE_QUERY_EMPTY",
      `the query template is ${describeValue(template)}`,
      entity,
      'write a query, e.g. queryTemplate: "select * from t where id = {{.inputs.id}}"',
    );
  }
  const normalized = normalizeQueryTemplate(template, entity);
  const known = new Set(inputNames);
  const used = new Set<string>();
  const parameters: QueryParameter[] = [];
  const use = (name: string) => {
    if (!known.has(name)) {
      throw definitionError(
        "SQLITE_QUERY_UNKNOWN_INPUT",
        `the query template refers to {{.inputs.${name}}}, but the task has no input "${name}"`,
        entity,
        `declare "${name}" in inputs, or use one of: ${inputNames.join(", ") || "(no inputs declared)"}`,
      );
    }
    used.add(name);
  };
  let sql = "";
  let ended = false;
  for (const seg of segments(normalized, entity)) {
    const placeholders = [...seg.text.matchAll(INPUT_PLACEHOLDER)];
    if (seg.kind === "lineComment" || seg.kind === "blockComment") {
      for (const m of placeholders) use(m[1]!);
      sql += seg.text;
      continue;
    }
    if (ended && seg.text.trim() !== "") {
      throw definitionError(
        "SQLITE_QUERY_MULTIPLE_STATEMENTS",
        `the query template holds more than one statement (text after ";": ${describeValue(seg.text.trim())})`,
        entity,
        "run one statement per task (SQLite runs only the first)",
      );
    }
    if (seg.kind === "identifier") {
      if (placeholders.length > 0) {
        throw definitionError(
          "SQLITE_PLACEHOLDER_IN_IDENTIFIER",
          `{{.inputs.${placeholders[0]![1]}}} stands inside the identifier ${seg.text}; values are bound as parameters and cannot name tables or columns`,
          entity,
          "write the table or column name in the query, and use placeholders only where a value goes",
        );
      }
      sql += seg.text;
      continue;
    }
    if (seg.kind === "string" || seg.kind === "dquoted") {
      if (placeholders.length === 0) {
        sql += seg.text;
        continue;
      }
      const quote = seg.text[0]!;
      const body = seg.text.slice(1, -1);
      const parts: (string | { input: string })[] = [];
      let last = 0;
      for (const m of body.matchAll(INPUT_PLACEHOLDER)) {
        use(m[1]!);
        if (m.index > last) parts.push(body.slice(last, m.index).replaceAll(quote + quote, quote));
        parts.push({ input: m[1]! });
        last = m.index + m[0].length;
      }
      if (last < body.length) parts.push(body.slice(last).replaceAll(quote + quote, quote));
      parameters.push({ kind: "text", parts });
      sql += "?";
      continue;
    }
    // SQL code: placeholders become parameters; native parameters and a second statement are errors.
    let last = 0;
    let text = "";
    for (const m of placeholders) {
      use(m[1]!);
      text += seg.text.slice(last, m.index) + "?";
      parameters.push({ kind: "value", input: m[1]! });
      last = m.index + m[0].length;
    }
    text += seg.text.slice(last);
    const bare = seg.text.replace(INPUT_PLACEHOLDER, " ");
    const native = NATIVE_PARAMETER.exec(bare);
    if (native) {
      throw definitionError(
        "SQLITE_QUERY_NATIVE_PARAMETER",
        `the query template uses the SQLite parameter ${describeValue(native[2])}, which nothing binds`,
        entity,
        "refer to inputs with {{.inputs.<name>}}",
      );
    }
    const semi = text.indexOf(";");
    if (semi !== -1) {
      if (text.slice(semi + 1).trim() !== "") {
        throw definitionError(
          "SQLITE_QUERY_MULTIPLE_STATEMENTS",
          `the query template holds more than one statement (text after ";": ${describeValue(text.slice(semi + 1).trim())})`,
          entity,
          "run one statement per task (SQLite runs only the first)",
        );
      }
      ended = true;
    }
    sql += text;
  }
  const unused = inputNames.filter((n) => !used.has(n));
  if (unused.length > 0) {
    throw definitionError(
      "SQLITE_INPUT_UNUSED",
      `input${unused.length > 1 ? "s" : ""} ${unused.map((u) => `"${u}"`).join(", ")} ${unused.length > 1 ? "are" : "is"} not used by the query template`,
      entity,
      `refer to ${unused.map((u) => `{{.inputs.${u}}}`).join(", ")} in the query, or remove the input (flytekit fails such a task when it runs)`,
    );
  }
  return { template: normalized, sql, parameters, inputs: used };
}

// ---- values ----

function unwrap(literal: Literal): Literal {
  let l = literal;
  while (
    l.value.case === "scalar" &&
    l.value.value.value.case === "union" &&
    l.value.value.value.value.value
  ) {
    l = l.value.value.value.value.value;
  }
  return l;
}

/** Python's `str()` of a UTC datetime as flytekit reads it: `2024-05-06 07:08:09[.123456]+00:00`. */
export function pythonDatetime(ts: Timestamp): string {
  const ms = Number(ts.seconds) * 1000;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ts.seconds);
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const micros = Math.floor(ts.nanos / 1000);
  const frac = micros > 0 ? `.${String(micros).padStart(6, "0")}` : "";
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac}+00:00`;
}

function unsupported(name: string, literal: Literal, entity: string): FlyteExecutionError {
  const s = literal.value.case === "scalar" ? literal.value.value.value : undefined;
  const kind =
    s?.case === "primitive" ? (s.value.value.case ?? "empty") : (s?.case ?? literal.value.case ?? "empty");
  return new FlyteExecutionError(
    "SQLITE_INPUT_UNSUPPORTED",
    `input "${name}" is a ${kind} literal, which a query cannot bind`,
    {
      entity,
      origin: "USER",
      fix: "use int, float, string, bool, datetime or enum inputs (optionally optional)",
    },
  );
}

/** The value SQLite binds for an input placed in the SQL itself. */
function sqlValue(name: string, literal: Literal, entity: string): SqlValue {
  const l = unwrap(literal);
  if (l.value.case !== "scalar") throw unsupported(name, literal, entity);
  const s = l.value.value.value;
  if (s.case === "noneType") return null;
  if (s.case !== "primitive") throw unsupported(name, literal, entity);
  const p = s.value.value;
  switch (p.case) {
    case "integer":
      return p.value;
    case "floatValue":
      return p.value;
    case "stringValue":
      return p.value;
    case "boolean":
      return p.value ? 1 : 0;
    case "datetime":
      return pythonDatetime(p.value);
    default:
      throw unsupported(name, literal, entity);
  }
}

/** The text of an input placed inside a quoted literal: Python's `str(value)`, as flytekit splices it. */
function sqlText(name: string, literal: Literal, entity: string): string {
  const l = unwrap(literal);
  if (l.value.case !== "scalar") throw unsupported(name, literal, entity);
  const s = l.value.value.value;
  if (s.case === "noneType") return "None";
  if (s.case !== "primitive") throw unsupported(name, literal, entity);
  const p = s.value.value;
  switch (p.case) {
    case "integer":
      return String(p.value);
    case "floatValue":
      return pythonFloat(p.value);
    case "stringValue":
      return p.value;
    case "boolean":
      return p.value ? "True" : "False";
    case "datetime":
      return pythonDatetime(p.value);
    default:
      throw unsupported(name, literal, entity);
  }
}

/** The values of a compiled query's parameters, from the task's input literals. */
export function bindParameters(query: CompiledQuery, inputs: LiteralMap, entity: string): SqlValue[] {
  const get = (name: string): Literal => {
    const lit = inputs.literals[name];
    if (!lit) {
      throw new FlyteExecutionError("SQLITE_INPUT_MISSING", `input "${name}" has no value`, {
        entity,
        origin: "USER",
        fix: `pass "${name}"`,
      });
    }
    return lit;
  };
  return query.parameters.map((p) =>
    p.kind === "value"
      ? sqlValue(p.input, get(p.input), entity)
      : p.parts
          .map((part) => (typeof part === "string" ? part : sqlText(part.input, get(part.input), entity)))
          .join(""),
  );
}
