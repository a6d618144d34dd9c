/**
 * `tsflyte inspect <package.tgz|dir>`: lists what a package holds (ours or flytekit's): each
 * entity's kind and name; for tasks the type, image(s) and interface; for workflows the node
 * count and sub-workflows; for launch plans the workflow and schedule. Problems (corrupt archive,
 * wrong entry names, undecodable entries, missing references) are listed with their codes and
 * make the exit code 1. `--json` prints the whole summary as JSON.
 */
import type { Command } from "commander";
import { type PackageEntity, type PackageSummary, readPackage } from "../../serialize/package-reader.js";

function iface(vars: Record<string, string> | undefined): string {
  const entries = Object.entries(vars ?? {});
  return entries.length === 0 ? "()" : `(${entries.map(([k, t]) => `${k}: ${t}`).join(", ")})`;
}

function entityLines(e: PackageEntity): string[] {
  const head = `${e.file}  ${e.kind} ${e.name}`;
  if (e.kind === "task") {
    return [
      head,
      `    type ${e.taskType}; image ${e.images?.join(", ") || "(none)"}`,
      `    ${iface(e.inputs)} -> ${iface(e.outputs)}`,
    ];
  }
  if (e.kind === "workflow") {
    const subs =
      e.subWorkflows && e.subWorkflows.length > 0 ? `; sub-workflows ${e.subWorkflows.join(", ")}` : "";
    return [
      head,
      `    ${e.nodes} node${e.nodes === 1 ? "" : "s"}${subs}`,
      `    ${iface(e.inputs)} -> ${iface(e.outputs)}`,
    ];
  }
  return [head, `    workflow ${e.workflow}${e.schedule ? `; schedule ${e.schedule}` : ""}`];
}

/** The summary as text for people. */
export function formatSummary(s: PackageSummary): string {
  const lines = [
    `${s.path} (${s.format}): ${s.entities.length} entit${s.entities.length === 1 ? "y" : "ies"}`,
  ];
  for (const e of s.entities) lines.push(...entityLines(e));
  for (const b of s.bundles) lines.push(`${b.file}  code bundle, ${b.size} bytes`);
  return `${lines.join("\n")}\n`;
}

/** Registers `tsflyte inspect`. */
export function register(program: Command): void {
  program
    .command("inspect")
    .description("List what a package (.tgz, .tar or folder of .pb files) holds, and what is wrong with it.")
    .argument("<package>", "a package file or folder")
    .option("--json", "print the summary as JSON")
    .action(async (path: string, flags: { json?: boolean }) => {
      const summary = await readPackage(path);
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        process.stdout.write(formatSummary(summary));
        for (const p of summary.problems)
          process.stderr.write(`problem [${p.code}]${p.file ? ` ${p.file}` : ""}: ${p.message}\n`);
      }
      if (summary.problems.length > 0) process.exitCode = 1;
    });
}
