// SQLite3Task: definition checks, query compilation and binding, in-process runs (alone and in
// a workflow feeding a TypeScript task) on real database files made with the same engine, the
// SQL injection proof, and the failures a user can cause (missing, non-SQLite or wrongly packed
// databases, rows that do not fit the declared columns), each with its stable code.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { FlyteDefinitionError, type FlyteError, FlyteExecutionError } from "../../src/errors.js";
import { t, task, workflow } from "../../src/index.js";
import { pythonFloat } from "../../src/plugins/number-text.js";
import { compileQuery, normalizeQueryTemplate, SQLite3Task } from "../../src/plugins/sqlite/index.js";
import { countRows, makeDatabase, PEOPLE_SQL, tempDir, writeTarGz, writeZip } from "./helpers.js";

const dir = tempDir("tsflyte-sqlite-");
const db = makeDatabase(join(dir, "people.db"), PEOPLE_SQL);

const PEOPLE = t.dataframe({ id: t.int(), name: t.string(), score: t.float() });

function peopleTask(uri: string, extra: { compressed?: boolean; name?: string } = {}) {
  return new SQLite3Task({
    name: extra.name ?? "people_since",
    queryTemplate:
      "select id, name, score from people where id >= {{.inputs.min}} and name != '{{.inputs.who}}' order by id",
    inputs: { min: t.int(), who: t.string() },
    outputSchema: PEOPLE,
    config: { uri, ...(extra.compressed === undefined ? {} : { compressed: extra.compressed }) },
  });
}

async function failure(p: Promise<unknown>): Promise<FlyteError> {
  try {
    await p;
  } catch (err) {
    return err as FlyteError;
  }
  throw new Error("expected a failure");
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

describe("SQLite3Task definition", () => {
  it("stores flytekit's custom and task type, and normalises the query like flytekit", () => {
    const q = new SQLite3Task({
      name: "q",
      queryTemplate:
        "select id,\n\t name from people\n  where id = {{ .inputs.id }}  -- the one\n and note = 'a  b'",
      inputs: { id: t.int() },
      config: { uri: "s3://bucket/db.sqlite" },
    });
    expect(q.taskType).toBe("sqlite");
    expect(q.getCustom()).toEqual({
      query_template:
        "select id, name from people where id = {{ .inputs.id }} -- the one\n and note = 'a  b'",
      uri: "s3://bucket/db.sqlite",
      compressed: false,
    });
    expect(Object.keys(q.outputs)).toEqual(["results"]);
    // Same text as flytekit's re.sub(r"\s+", " ", q).strip() when there are no comments or spaced literals.
    expect(normalizeQueryTemplate("select *\n  from t\twhere a = {{.inputs.a}}\n")).toBe(
      "select * from t where a = {{.inputs.a}}",
    );
  });

  it("rejects a query naming an input that does not exist, when the task is defined", () => {
    const e = definitionFailure(
      () =>
        new SQLite3Task({
          name: "typo",
          queryTemplate: "select * from people where id = {{.inputs.idd}}",
          inputs: { id: t.int() },
          config: { uri: db },
        }),
    );
    expect(e.code).toBe("SQLITE_QUERY_UNKNOWN_INPUT");
    expect(e.message).toContain("typo");
    expect(e.message).toContain("idd");
    expect(e.fix).toContain("id");
  });

  it("rejects inputs the query does not use, several statements, native parameters and placeholders in identifiers", () => {
    const cases: [string, Record<string, ReturnType<typeof t.int>>, string][] = [
      ["select * from people", { id: t.int() }, "SQLITE_INPUT_UNUSED"],
      ["select 1; drop table people", {}, "SQLITE_QUERY_MULTIPLE_STATEMENTS"],
      ["select * from people where id = ?", {}, "SQLITE_QUERY_NATIVE_PARAMETER"],
      ["select * from people where id = :id", {}, "SQLITE_QUERY_NATIVE_PARAMETER"],
      ["select * from [{{.inputs.id}}]", { id: t.int() }, "SQLITE_PLACEHOLDER_IN_IDENTIFIER"],
      ["select * from people where name = 'open", {}, "SQLITE_QUERY_UNTERMINATED"],
      ["   ", {}, "SQLITE_QUERY_EMPTY"],
    ];
    for (const [queryTemplate, inputs, code] of cases) {
      const e = definitionFailure(
        () => new SQLite3Task({ name: "bad", queryTemplate, inputs, config: { uri: db } }),
      );
      expect(e.code, queryTemplate).toBe(code);
    }
    // A trailing semicolon, a semicolon in a string and comments are fine.
    expect(
      () =>
        new SQLite3Task({ name: "ok", queryTemplate: "select ';' as s -- done;\n;", config: { uri: db } }),
    ).not.toThrow();
  });

  it("rejects a missing uri, a non-boolean compressed, unbindable inputs and a non-dataframe output", () => {
    expect(
      definitionFailure(() => new SQLite3Task({ queryTemplate: "select 1", config: { uri: "" } })).code,
    ).toBe("SQLITE_CONFIG_INVALID");
    expect(
      definitionFailure(
        () => new SQLite3Task({ queryTemplate: "select 1", config: { uri: db, compressed: "yes" as never } }),
      ).code,
    ).toBe("SQLITE_CONFIG_INVALID");
    expect(
      definitionFailure(
        () =>
          new SQLite3Task({
            queryTemplate: "select {{.inputs.xs}}",
            inputs: { xs: t.list(t.int()) },
            config: { uri: db },
          }),
      ).code,
    ).toBe("SQLITE_INPUT_TYPE");
    expect(
      definitionFailure(
        () =>
          new SQLite3Task({ queryTemplate: "select 1", outputSchema: t.int() as never, config: { uri: db } }),
      ).code,
    ).toBe("SQLITE_OUTPUT_SCHEMA");
  });

  it("compiles placeholders to parameters; quoted ones become one text parameter", () => {
    const q = compileQuery(
      "select * from t where a = {{.inputs.a}} and b like '%{{.inputs.b}}%''s' and c = \"{{.inputs.c}}\" /* {{.inputs.a}} */",
      ["a", "b", "c"],
      "t",
    );
    expect(q.sql).toBe("select * from t where a = ? and b like ? and c = ? /* {{.inputs.a}} */");
    expect(q.parameters).toEqual([
      { kind: "value", input: "a" },
      { kind: "text", parts: ["%", { input: "b" }, "%'s"] },
      { kind: "text", parts: [{ input: "c" }] },
    ]);
  });

  it("prints floats in quoted placeholders as Python's repr", () => {
    expect([1, 1.5, 0.0001, 0.00001, 1e16, 1e15, 123456789.125, -2.5e-7].map(pythonFloat)).toEqual([
      "1.0",
      "1.5",
      "0.0001",
      "1e-05",
      "1e+16",
      "1000000000000000.0",
      "123456789.125",
      "-2.5e-07",
    ]);
  });
});

describe("SQLite3Task runs in process", () => {
  it("returns typed rows as a dataframe", async () => {
    const out = await peopleTask(db).run({ min: 1, who: "bob" });
    expect(await out.results.rows()).toEqual([
      { id: 1, name: "ann", score: 1.5 },
      { id: 3, name: "x'; DROP TABLE people; --", score: 3 },
    ]);
  });

  it("feeds a TypeScript task inside a workflow (wf.run)", async () => {
    const people = peopleTask(db, { name: "people_wf" });
    const summarize = task(
      {
        name: "summarize",
        inputs: { df: PEOPLE },
        outputs: { n: t.int(), names: t.string(), total: t.float() },
      },
      async ({ df }) => {
        const rows = await df.rows();
        return {
          n: rows.length,
          names: rows.map((r) => r.name).join("|"),
          total: rows.reduce((s, r) => s + r.score, 0),
        };
      },
    );
    const wf = workflow({ name: "sqlite_wf", inputs: { min: t.int() } }, ({ min }) => {
      const r = summarize({ df: people({ min, who: "nobody" }).results });
      return { n: r.n, names: r.names, total: r.total };
    });
    expect(await wf.run({ min: 2 })).toEqual({ n: 2, names: "bob|x'; DROP TABLE people; --", total: 5.25 });
  });

  it("binds user values as parameters: an injection attempt is data, and the database is unchanged", async () => {
    const before = countRows(db, "people");
    const attack = "x'; DROP TABLE people; --";
    // Quoted placeholder: the whole value is one text parameter.
    const quoted = await peopleTask(db).run({ min: 0, who: attack });
    expect((await quoted.results.rows()).map((r) => r.name)).toEqual(["ann", "bob"]);
    // Unquoted placeholder: bound as a value too.
    const byName = new SQLite3Task({
      name: "by_name",
      queryTemplate: "select id, name, score from people where name = {{.inputs.who}}",
      inputs: { who: t.string() },
      outputSchema: PEOPLE,
      config: { uri: db },
    });
    const hit = await byName.run({ who: attack });
    expect(await hit.results.rows()).toEqual([{ id: 3, name: attack, score: 3 }]);
    const none = await byName.run({ who: "1 or 1=1" });
    expect(await none.results.rows()).toEqual([]);
    // The database still has its table and rows.
    expect(countRows(db, "people")).toBe(before);
  });

  it("binds ints, floats, bools, datetimes, enums and nulls; reads optional, bool and datetime columns", async () => {
    const q = new SQLite3Task({
      name: "typed",
      queryTemplate:
        "select id, joined, active = 1 as active, note from people where score >= {{.inputs.minScore}} and active = {{.inputs.active}} and (note is {{.inputs.note}} or note = {{.inputs.note}}) and name != '{{.inputs.who}}' and datetime(joined) < datetime('{{.inputs.before}}') order by id",
      inputs: {
        minScore: t.float(),
        active: t.bool(),
        note: t.optional(t.string()),
        who: t.enum(["bob", "x"]),
        before: t.datetime(),
      },
      outputSchema: t.dataframe({
        id: t.bigint(),
        joined: t.datetime(),
        active: t.bool(),
        note: t.optional(t.string()),
      }),
      config: { uri: db },
    });
    const out = await q.run({
      minScore: 1,
      active: true,
      note: null,
      who: "bob",
      before: new Date("2025-01-01T00:00:00Z"),
    });
    expect(await out.results.rows()).toEqual([
      { id: 1n, joined: new Date("2024-05-06T07:08:09Z"), active: true, note: null },
      { id: 3n, joined: new Date("2022-12-31T23:59:59.250Z"), active: true, note: null },
    ]);
  });

  it("infers column types when the output declares none", async () => {
    const q = new SQLite3Task({
      name: "untyped",
      queryTemplate: "select id, name, score, note from people order by id",
      config: { uri: db },
    });
    const rows = await (await q.run({})).results.rows();
    expect(rows[1]).toEqual({ id: 2n, name: "bob", score: 2.25, note: "hi" });
    expect(rows[0]!.note).toBeNull();
  });

  it("reads a database packed as .zip, .tar.gz and .gz", async () => {
    const zip = writeZip(join(dir, "people.zip"), { "data/": "", "data/people.db": readFileSync(db) });
    const tgzDir = join(dir, "tgz");
    mkdirSync(tgzDir, { recursive: true });
    copyFileSync(db, join(tgzDir, "people.db"));
    const tgz = await writeTarGz(join(dir, "people.tar.gz"), tgzDir, ["people.db"]);
    const gz = join(dir, "people.db.gz");
    writeFileSync(gz, gzipSync(readFileSync(db)));
    for (const uri of [zip, tgz, gz, `file://${zip}`]) {
      const out = await peopleTask(uri, { compressed: true }).run({ min: 2, who: "" });
      expect(
        (await out.results.rows()).map((r) => r.id),
        uri,
      ).toEqual([2, 3]);
    }
  });

  it("downloads the database over http(s)", async () => {
    const server = await serve((path) => (path === "/people.db" ? readFileSync(db) : undefined));
    try {
      const out = await peopleTask(`${server.url}/people.db`).run({ min: 3, who: "" });
      expect((await out.results.rows()).map((r) => r.id)).toEqual([3]);
      const e = await failure(peopleTask(`${server.url}/missing.db`).run({ min: 1, who: "" }));
      expect(e.code).toBe("SQLITE_DB_NOT_FOUND");
      expect(e.origin).toBe("USER");
    } finally {
      server.close();
    }
  });
});

describe("SQLite3Task failures", () => {
  it("a missing database: SQLITE_DB_NOT_FOUND, a USER error naming the uri", async () => {
    const missing = join(dir, "nope.db");
    const e = await failure(peopleTask(missing).run({ min: 1, who: "" }));
    expect(e).toBeInstanceOf(FlyteExecutionError);
    expect(e.code).toBe("SQLITE_DB_NOT_FOUND");
    expect(e.origin).toBe("USER");
    expect(e.recoverable).toBe(false);
    expect(e.message).toContain(missing);
    expect(e.entity).toBe("people_since");
  });

  it("a file that is not SQLite, empty, or an archive with compressed unset: SQLITE_DB_NOT_SQLITE", async () => {
    const text = join(dir, "notes.txt");
    writeFileSync(text, "just some text, not a database at all");
    const empty = join(dir, "empty.db");
    writeFileSync(empty, "");
    const zip = writeZip(join(dir, "plain.zip"), { "people.db": readFileSync(db) });
    for (const [uri, hint] of [
      [text, "SQLite format 3"],
      [empty, "empty"],
      [zip, "compressed: true"],
    ] as const) {
      const e = await failure(peopleTask(uri).run({ min: 1, who: "" }));
      expect(e.code, uri).toBe("SQLITE_DB_NOT_SQLITE");
      expect(e.origin).toBe("USER");
      expect(e.message).toContain(hint);
    }
  });

  it("compressed wrongly: a plain database, a non-archive, an archive of two files", async () => {
    const plain = await failure(peopleTask(db, { compressed: true }).run({ min: 1, who: "" }));
    expect(plain.code).toBe("SQLITE_ARCHIVE_INVALID");
    expect(plain.fix).toContain("compressed: false");
    const text = join(dir, "notes2.txt");
    writeFileSync(text, "plain text");
    expect((await failure(peopleTask(text, { compressed: true }).run({ min: 1, who: "" }))).code).toBe(
      "SQLITE_ARCHIVE_INVALID",
    );
    const two = writeZip(join(dir, "two.zip"), { "a.db": readFileSync(db), "b.db": readFileSync(db) });
    const e = await failure(peopleTask(two, { compressed: true }).run({ min: 1, who: "" }));
    expect(e.code).toBe("SQLITE_ARCHIVE_FILE_COUNT");
    expect(e.message).toContain("a.db, b.db");
    const notSqlite = writeZip(join(dir, "text.zip"), { "notes.txt": "hello" });
    expect((await failure(peopleTask(notSqlite, { compressed: true }).run({ min: 1, who: "" }))).code).toBe(
      "SQLITE_DB_NOT_SQLITE",
    );
  });

  it("rows that do not fit the declared columns: SQLITE_RESULT_TYPE, SQLITE_RESULT_NULL, SQLITE_RESULT_COLUMNS", async () => {
    const mk = (queryTemplate: string, columns: Parameters<typeof t.dataframe>[0]) =>
      new SQLite3Task({
        name: "fit",
        queryTemplate,
        outputSchema: t.dataframe(columns),
        config: { uri: db },
      }).run({});
    const wrongType = await failure(mk("select name as id from people", { id: t.int() }));
    expect(wrongType.code).toBe("SQLITE_RESULT_TYPE");
    expect(wrongType.message).toContain('row 0, column "id": text "ann"');
    expect(wrongType.fix).toContain("CAST(id AS INTEGER)");
    const real = await failure(mk("select score from people", { score: t.int() }));
    expect(real.code).toBe("SQLITE_RESULT_TYPE");
    const nul = await failure(mk("select note from people order by id", { note: t.string() }));
    expect(nul.code).toBe("SQLITE_RESULT_NULL");
    expect(nul.fix).toContain("t.optional");
    const cols = await failure(mk("select id, name from people", { id: t.int(), score: t.float() }));
    expect(cols.code).toBe("SQLITE_RESULT_COLUMNS");
    expect(cols.message).toContain("missing: score");
    expect(cols.message).toContain("not declared: name");
    const date = await failure(mk("select id as d from people", { d: t.datetime() }));
    expect(date.code).toBe("SQLITE_RESULT_TYPE");
    expect(date.fix).toContain("unixepoch");
    for (const e of [wrongType, real, nul, cols, date]) expect(e.origin).toBe("USER");
  });

  it("a query SQLite rejects: SQLITE_QUERY_FAILED with the SQL (without values)", async () => {
    const q = new SQLite3Task({
      name: "no_table",
      queryTemplate: "select * from nowhere where a = '{{.inputs.secret}}'",
      inputs: { secret: t.string() },
      config: { uri: db },
    });
    const e = await failure(q.run({ secret: "hunter2" }));
    expect(e.code).toBe("SQLITE_QUERY_FAILED");
    expect(e.message).toContain("no such table: nowhere");
    expect(e.message).toContain("select * from nowhere where a = ?");
    expect(e.message).not.toContain("hunter2");
  });

  it("never writes to the database (opened read-only)", async () => {
    const q = new SQLite3Task({ name: "writer", queryTemplate: "delete from people", config: { uri: db } });
    const e = await failure(q.run({}));
    expect(e.code).toBe("SQLITE_QUERY_FAILED");
    expect(e.message).toContain("readonly");
    expect(countRows(db, "people")).toBe(3);
  });
});

interface TestServer {
  url: string;
  close(): void;
}

function serve(files: (path: string) => Uint8Array | undefined): Promise<TestServer> {
  return new Promise((resolve) => {
    const server: Server = createServer((req, res) => {
      const body = files(req.url ?? "");
      if (!body) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    });
  });
}
