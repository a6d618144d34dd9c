/**
 * The tsconfig.json tsx applies to a module, as far as compiling it the same way needs: the
 * nearest one from the working directory (tsx's choice), its compiler options, and whether its
 * `files`/`include`/`exclude` cover a file. Configurations this cannot follow exactly (`extends`,
 * `paths` aliases, `TSX_TSCONFIG_PATH`) come back as a `reason`, and the caller leaves the
 * module to tsx.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";

/** A tsconfig.json, read. */
export interface Tsconfig {
  /** Its folder. */
  readonly dir: string;
  /** Its text (part of the compiled modules' cache key). */
  readonly raw: string;
  readonly compilerOptions: Record<string, unknown>;
  readonly include: readonly string[] | undefined;
  readonly exclude: readonly string[] | undefined;
  readonly files: readonly string[] | undefined;
}

/** The tsconfig found (or none), or why it cannot be followed. */
export interface FoundTsconfig {
  readonly config: Tsconfig | undefined;
  readonly reason: string | undefined;
}

let found: FoundTsconfig | undefined;

/** Copies JSON text; outside strings, `skip(i)` returns where to go on (`i` keeps the character). */
function scan(text: string, skip: (i: number) => number): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
      continue;
    }
    const next = skip(i);
    if (next === i) out += text[i];
    else i = next - 1;
  }
  return out;
}

/** tsconfig's dialect (comments, trailing commas) to JSON. */
export function jsoncToJson(text: string): string {
  const noComments = scan(text, (i) => {
    if (text[i] !== "/") return i;
    if (text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      return end === -1 ? text.length : end;
    }
    if (text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      return end === -1 ? text.length : end + 2;
    }
    return i;
  });
  const trailingComma = /,\s*[}\]]/y;
  return scan(noComments, (i) => {
    trailingComma.lastIndex = i;
    return trailingComma.test(noComments) ? i + 1 : i;
  });
}

/** The tsconfig.json tsx would use: the nearest from the working directory, read once. */
export function findTsconfig(): FoundTsconfig {
  if (found) return found;
  found = { config: undefined, reason: undefined };
  if (process.env.TSX_TSCONFIG_PATH) {
    found = { config: undefined, reason: "TSX_TSCONFIG_PATH is set" };
    return found;
  }
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const file = join(dir, "tsconfig.json");
    if (existsSync(file)) {
      found = read(file);
      return found;
    }
    if (dirname(dir) === dir) return found;
  }
}

function read(file: string): FoundTsconfig {
  try {
    const raw = readFileSync(file, "utf8");
    const json = JSON.parse(jsoncToJson(raw)) as Record<string, unknown>;
    const compilerOptions = (json.compilerOptions ?? {}) as Record<string, unknown>;
    if (json.extends !== undefined || compilerOptions.paths !== undefined)
      return { config: undefined, reason: `${file} uses extends or paths` };
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
    const config = {
      dir: dirname(file),
      raw,
      compilerOptions,
      include: list(json.include),
      exclude: list(json.exclude),
      files: list(json.files),
    };
    return { config, reason: undefined };
  } catch {
    return { config: undefined, reason: `${file} cannot be parsed` };
  }
}

/**
 * Whether tsx applies `config` to `file`: `true`, `false`, or `undefined` when that depends on
 * glob patterns (or the output folder), which this does not evaluate.
 */
export function tsconfigApplies(config: Tsconfig, file: string): boolean | undefined {
  const under = (p: string) => {
    const base = resolve(config.dir, p);
    return file === base || file.startsWith(base + sep);
  };
  const globby = (l: readonly string[] | undefined) => (l ?? []).some((p) => /[*?]/.test(p));
  if (globby(config.include) || globby(config.exclude) || globby(config.files)) return undefined;
  if (config.files?.some((p) => resolve(config.dir, p) === file)) return true;
  if (config.exclude?.some(under)) return false;
  const outDir = config.compilerOptions.outDir;
  if (typeof outDir === "string" && under(outDir)) return undefined;
  if (config.include === undefined) return config.files === undefined ? under(".") : false;
  return config.include.some(under);
}
