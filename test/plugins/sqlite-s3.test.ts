// SQLite3Task with its database in s3:// (a private moto server, see test/storage/s3-server.ts):
// fetched through the storage layer, plain and compressed; a missing key is a USER error.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FlyteError } from "../../src/errors.js";
import { t } from "../../src/index.js";
import { SQLite3Task } from "../../src/plugins/sqlite/index.js";
import { storage } from "../../src/storage/storage.js";
import { type S3TestServer, startS3Server } from "../storage/s3-server.js";
import { makeDatabase, PEOPLE_SQL, tempDir, writeZip } from "./helpers.js";

let server: S3TestServer | undefined;
const BUCKET = "sqlite-plugin";
const dir = tempDir("tsflyte-sqlite-s3-");
const db = makeDatabase(join(dir, "people.db"), PEOPLE_SQL);

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket(BUCKET);
  Object.assign(process.env, server.env);
  await import("../../src/storage/s3.js");
  await storage.put(`s3://${BUCKET}/dbs/people.db`, readFileSync(db));
  await storage.put(
    `s3://${BUCKET}/dbs/people.zip`,
    readFileSync(writeZip(join(dir, "people.zip"), { "people.db": readFileSync(db) })),
  );
});

afterAll(async () => {
  await server?.stop();
});

function names(uri: string, compressed = false) {
  return new SQLite3Task({
    name: "names_s3",
    queryTemplate: "select name from people where id <= {{.inputs.max}} order by id",
    inputs: { max: t.int() },
    outputSchema: t.dataframe({ name: t.string() }),
    config: { uri, compressed },
  });
}

describe("SQLite3Task with an s3:// database", () => {
  it("downloads it through the storage layer, plain and zipped", async () => {
    for (const [uri, compressed] of [
      [`s3://${BUCKET}/dbs/people.db`, false],
      [`s3://${BUCKET}/dbs/people.zip`, true],
    ] as const) {
      const out = await names(uri, compressed).run({ max: 2 });
      expect(await out.results.rows(), uri).toEqual([{ name: "ann" }, { name: "bob" }]);
    }
  });

  it("a missing key is SQLITE_DB_NOT_FOUND, a USER error", async () => {
    let err: FlyteError | undefined;
    try {
      await names(`s3://${BUCKET}/dbs/none.db`).run({ max: 1 });
    } catch (e) {
      err = e as FlyteError;
    }
    expect(err?.code).toBe("SQLITE_DB_NOT_FOUND");
    expect(err?.origin).toBe("USER");
  });
});
