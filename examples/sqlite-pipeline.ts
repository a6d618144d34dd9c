/**
 * A SQLite query feeding a TypeScript task. The query runs in the SDK's pre-built image (a
 * SQLite3Task has no code of yours: only its template), the TypeScript task in your project's
 * image. The database is a local file here; on a cluster use an s3:// or https:// URI, or a
 * path inside the image.
 *
 *   npx tsx examples/sqlite-pipeline.ts          # writes the example database, prints its path
 *   npx tsflyte run examples/sqlite-pipeline.ts genreReport --genre Rock --minSeconds 200
 *
 * In containers, each task in its own image, as on a cluster:
 *
 *   npx tsflyte build examples/sqlite-pipeline.ts   # your image, and the SDK's image for the query
 *   npx tsflyte run examples/sqlite-pipeline.ts genreReport --containers --genre Rock \
 *       --image <the default=... reference printed by tsflyte build>
 *
 * The database path is `$SQLITE_PIPELINE_DB`, else `<tmp>/flytekit-ts-examples/music.db`; in
 * container mode the file is mounted read-only at the same path (docs/containers.md).
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SQLite3Task, StructuredDataset, t, task, workflow } from "flytekit-ts";

/** Where the example database is. */
export const DATABASE = process.env.SQLITE_PIPELINE_DB ?? join(tmpdir(), "flytekit-ts-examples", "music.db");

/** The tracks of one genre that last at least `minSeconds`. A quoted placeholder is bound as text. */
export const genreTracks = new SQLite3Task({
  queryTemplate: `
    select Name, ifnull(Composer, 'Unknown') as Composer, Milliseconds, UnitPrice
    from tracks
    where Genre = '{{.inputs.genre}}' and Milliseconds >= {{.inputs.minSeconds}} * 1000
    order by TrackId`,
  inputs: { genre: t.string(), minSeconds: t.int() },
  outputSchema: t.dataframe({
    Name: t.string(),
    Composer: t.string(),
    Milliseconds: t.int(),
    UnitPrice: t.float(),
  }),
  config: { uri: DATABASE },
});

/** Fails when the task runs in another image than the one it declared (test images carry a marker). */
function checkImage(expected: string): void {
  const marker = process.env.FLYTEKIT_TS_IMAGE_MARKER;
  if (process.env.FLYTEKIT_TS_CHECK_IMAGE === "1" && marker !== expected) {
    throw new Error(
      `expected to run in the ${expected} image, but the image marker is ${marker ?? "absent"}`,
    );
  }
}

/** Minutes and tracks per composer (most minutes first), and the longest track. */
export const composerTotals = task(
  {
    inputs: { tracks: genreTracks.outputs.results },
    outputs: {
      totals: t.dataframe({ composer: t.string(), tracks: t.int(), minutes: t.float() }),
      longest: t.string(),
    },
  },
  async ({ tracks }) => {
    checkImage("default");
    const rows = await tracks.rows();
    const by = new Map<string, { tracks: number; ms: number }>();
    for (const r of rows) {
      const c = by.get(r.Composer) ?? { tracks: 0, ms: 0 };
      by.set(r.Composer, { tracks: c.tracks + 1, ms: c.ms + r.Milliseconds });
    }
    const totals = [...by]
      .map(([composer, c]) => ({ composer, tracks: c.tracks, minutes: Math.round(c.ms / 600) / 100 }))
      .sort((a, b) => b.minutes - a.minutes || a.composer.localeCompare(b.composer));
    const longest = rows.reduce<(typeof rows)[number] | undefined>(
      (a, b) => (a === undefined || b.Milliseconds > a.Milliseconds ? b : a),
      undefined,
    );
    return { totals: StructuredDataset.fromRows(totals), longest: longest?.Name ?? "" };
  },
);

/** The report of one genre. */
export const genreReport = workflow(
  { inputs: { genre: t.string(), minSeconds: t.int() }, defaults: { genre: "Rock", minSeconds: 0 } },
  ({ genre, minSeconds }) => {
    const report = composerTotals({ tracks: genreTracks({ genre, minSeconds }).results });
    return { totals: report.totals, longest: report.longest };
  },
);

/** The example's rows: a few tracks of a small music store. */
const TRACKS: [string, string | null, string, number, number][] = [
  ["Stairway to Heaven", "Page, Plant", "Rock", 482_830, 0.99],
  ["Whole Lotta Love", "Page, Plant", "Rock", 334_471, 0.99],
  ["Kashmir", "Page, Plant", "Rock", 508_000, 0.99],
  ["Paranoid Android", "Radiohead", "Rock", 383_000, 1.29],
  ["Bohemian Rhapsody", "Mercury", "Rock", 354_000, 1.29],
  ["Traditional Air", null, "Rock", 125_000, 0.49],
  ["So What", "Davis", "Jazz", 562_000, 0.99],
  ["Take Five", "Desmond", "Jazz", 324_000, 0.99],
  ["Blue in Green", "Davis, Evans", "Jazz", 337_000, 0.99],
  ["Clair de Lune", "Debussy", "Classical", 300_000, 0.79],
];

/** Writes the example database to `path` (replacing it) and returns the path. */
export async function createExampleDatabase(path: string = DATABASE): Promise<string> {
  const { default: sqlite } = (await import("node-sqlite3-wasm")) as unknown as {
    default: {
      Database: new (
        p: string,
      ) => { run(sql: string, values?: unknown[]): void; exec(sql: string): void; close(): void };
    };
  };
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const db = new sqlite.Database(path);
  try {
    db.exec(
      "create table tracks (TrackId integer primary key, Name text not null, Composer text, Genre text not null, Milliseconds integer not null, UnitPrice real not null)",
    );
    for (const row of TRACKS)
      db.run(
        "insert into tracks (Name, Composer, Genre, Milliseconds, UnitPrice) values (?, ?, ?, ?, ?)",
        row,
      );
  } finally {
    db.close();
  }
  return path;
}

// `npx tsx examples/sqlite-pipeline.ts` writes the database.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const existed = existsSync(DATABASE);
  await createExampleDatabase();
  process.stdout.write(`${existed ? "rewrote" : "wrote"} ${DATABASE}\n`);
}
