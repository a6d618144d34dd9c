/**
 * `SQLite3TaskExecutor`: runs a SQLite3Task's template (ours or flytekit's): reads
 * `custom {query_template, uri, compressed}`, binds the inputs as query parameters, fetches and
 * opens the database, runs the query, and returns `results` as a dataframe.
 */
import { FlyteExecutionError } from "../../errors.js";
import type { TaskTemplate } from "../../proto/gen/flyteidl/core/tasks_pb.js";
import { type LiteralMap, literalMap } from "../../types/literals.js";
import { type ExecutorContext, ShimTaskExecutor, templateCustom, templateName } from "../shim-executor.js";
import { fetchDatabase, runQuery } from "./database.js";
import { bindParameters, compileQuery } from "./query.js";
import { resultsLiteral } from "./results.js";

/** The name of the SQLite3Task's only output (as in flytekit). */
export const RESULTS_OUTPUT = "results";

/** The `custom` struct of a SQLite3Task template (flytekit's keys). */
export interface SQLite3Custom {
  query_template: string;
  uri: string;
  compressed: boolean;
}

/** Reads and checks a template's `custom`; throws `SQLITE_TEMPLATE_INVALID`. */
export function sqliteCustom(template: TaskTemplate): SQLite3Custom {
  const c = templateCustom(template);
  const bad = (what: string) =>
    new FlyteExecutionError("SQLITE_TEMPLATE_INVALID", `the template's custom.${what}`, {
      entity: templateName(template),
      origin: "SYSTEM",
      fix: "serialize the SQLite3Task again (custom must hold query_template, uri and compressed)",
    });
  if (typeof c.query_template !== "string") throw bad("query_template is not a string");
  if (typeof c.uri !== "string" || c.uri === "") throw bad("uri is not a non-empty string");
  if (c.compressed !== undefined && c.compressed !== null && typeof c.compressed !== "boolean")
    throw bad("compressed is not a boolean");
  return { query_template: c.query_template, uri: c.uri, compressed: c.compressed === true };
}

/** Runs SQLite3Task templates (flytekit's `SQLite3TaskExecutor`). */
export class SQLite3TaskExecutor extends ShimTaskExecutor {
  async executeFromModel(
    template: TaskTemplate,
    inputs: LiteralMap,
    ctx: ExecutorContext,
  ): Promise<LiteralMap> {
    const entity = templateName(template);
    const custom = sqliteCustom(template);
    const inputNames = Object.keys(template.interface?.inputs?.variables ?? {});
    // The definition checks again (USER errors): the template may come from flytekit or by hand.
    const query = compileQuery(custom.query_template, inputNames, entity);
    const output = template.interface?.outputs?.variables[RESULTS_OUTPUT]?.type;
    if (!output) {
      throw new FlyteExecutionError(
        "SQLITE_TEMPLATE_INVALID",
        `the template has no output "${RESULTS_OUTPUT}"`,
        {
          entity,
          origin: "SYSTEM",
          fix: "serialize the SQLite3Task again",
        },
      );
    }
    const params = bindParameters(query, inputs, entity);
    const path = await fetchDatabase(custom.uri, custom.compressed, ctx.workDir, entity);
    const rows = await runQuery(path, query.sql, params, entity);
    return literalMap({ [RESULTS_OUTPUT]: await resultsLiteral(output, rows, ctx, entity) });
  }
}
