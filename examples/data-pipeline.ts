/**
 * A data pipeline with a file and a dataframe: write a CSV, load it into a typed dataframe,
 * summarise it into a record.
 *
 *   npx tsflyte run examples/data-pipeline.ts pipeline --rows 100
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FlyteFile, StructuredDataset, t, task, workflow } from "flytekit-ts";

const Sales = t.dataframe({ region: t.string(), units: t.int(), price: t.float() });
const Summary = t.record(
  { rows: t.int(), totalUnits: t.int(), revenue: t.float(), topRegion: t.string() },
  { name: "Summary" },
);

const REGIONS = ["north", "south", "east", "west"];

/** Writes a CSV file of synthetic sales. */
export const makeCsv = task({ inputs: { rows: t.int() }, outputs: t.file("csv") }, async ({ rows }, ctx) => {
  const lines = ["region,units,price"];
  for (let i = 0; i < rows; i++)
    lines.push(`${REGIONS[i % 4]},${(i * 7) % 13},${(1 + (i % 5) * 0.5).toFixed(2)}`);
  const path = join(ctx.workDir, "sales.csv");
  await writeFile(path, `${lines.join("\n")}\n`);
  return FlyteFile.fromPath(path);
});

/** Parses the CSV into a typed dataframe. */
export const loadCsv = task({ inputs: { csv: t.file("csv") }, outputs: Sales }, async ({ csv }) => {
  const [header, ...lines] = (await csv.text()).trim().split("\n");
  if (header !== "region,units,price") throw new Error(`unexpected header ${header}`);
  return StructuredDataset.fromRows(
    lines.map((l) => {
      const [region, units, price] = l.split(",");
      return { region: region!, units: Number(units), price: Number(price) };
    }),
  );
});

/** Summarises the sales. */
export const summarize = task({ inputs: { sales: Sales }, outputs: Summary }, async ({ sales }) => {
  const rows = await sales.rows();
  const byRegion = new Map<string, number>();
  let totalUnits = 0;
  let revenue = 0;
  for (const r of rows) {
    totalUnits += Number(r.units);
    revenue += Number(r.units) * r.price;
    byRegion.set(r.region, (byRegion.get(r.region) ?? 0) + Number(r.units) * r.price);
  }
  const topRegion = [...byRegion.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
  return { rows: rows.length, totalUnits, revenue: Math.round(revenue * 100) / 100, topRegion };
});

/** CSV file -> dataframe -> summary record. */
export const pipeline = workflow({ inputs: { rows: t.int() }, defaults: { rows: 100 } }, ({ rows }) => {
  const csv = makeCsv({ rows });
  const sales = loadCsv({ csv });
  return summarize({ sales });
});
