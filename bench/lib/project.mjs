/**
 * Generates the project of the `package` bench twice, as flytekit-ts and as flytekit code:
 * `modules` modules, each with `tasksPerModule` tasks and one workflow chaining them (500 tasks
 * and 50 workflows by default). The two projects define the same entities.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const pad = (n, w) => String(n).padStart(w, "0");

/** Writes `<dir>/ts` (a module per file, `flytekit-ts` linked in node_modules) and `<dir>/py` (package `benchproj`). */
export function generateProjects(dir, repoRoot, { modules = 50, tasksPerModule = 10 } = {}) {
  const tsDir = join(dir, "ts");
  const pyDir = join(dir, "py");
  const pyPkg = join(pyDir, "benchproj");
  mkdirSync(join(tsDir, "node_modules"), { recursive: true });
  mkdirSync(pyPkg, { recursive: true });
  symlinkSync(repoRoot, join(tsDir, "node_modules", "flytekit-ts"), "dir");
  writeFileSync(
    join(tsDir, "package.json"),
    `${JSON.stringify({ name: "bench-project", type: "module", private: true })}\n`,
  );
  writeFileSync(join(pyPkg, "__init__.py"), "");
  const tsFiles = [];
  for (let m = 0; m < modules; m++) {
    const mod = `wf_${pad(m, 2)}`;
    const names = Array.from({ length: tasksPerModule }, (_, i) => `t_${pad(m, 2)}_${pad(i, 2)}`);
    const ts = ['import { t, task, workflow } from "flytekit-ts";', ""];
    const py = ["from flytekit import task, workflow", ""];
    names.forEach((name, i) => {
      ts.push(
        `export const ${name} = task(`,
        `  { inputs: { x: t.int(), label: t.string() }, outputs: { y: t.int(), label: t.string() }, retries: ${i % 3} },`,
        `  ({ x, label }) => ({ y: x + ${i}, label: \`\${label}-${i}\` }),`,
        ");",
        "",
      );
      py.push(
        `@task(retries=${i % 3})`,
        `def ${name}(x: int, label: str) -> typing.NamedTuple("Out", [("y", int), ("label", str)]):`,
        `    return x + ${i}, f"{label}-${i}"`,
        "",
        "",
      );
    });
    ts.push(
      `export const pipeline_${pad(m, 2)} = workflow({ inputs: { x: t.int(), label: t.string() } }, ({ x, label }) => {`,
    );
    ts.push(`  let out = ${names[0]}({ x, label });`);
    for (const name of names.slice(1)) ts.push(`  out = ${name}({ x: out.y, label: out.label });`);
    ts.push("  return { y: out.y, label: out.label };", "});", "");
    py.push("@workflow", `def pipeline_${pad(m, 2)}(x: int, label: str) -> typing.Tuple[int, str]:`);
    py.push(`    out = ${names[0]}(x=x, label=label)`);
    for (const name of names.slice(1)) py.push(`    out = ${name}(x=out.y, label=out.label)`);
    py.push("    return out.y, out.label", "");
    writeFileSync(join(tsDir, `${mod}.ts`), ts.join("\n"));
    writeFileSync(join(pyPkg, `${mod}.py`), ["import typing", "", ...py].join("\n"));
    tsFiles.push(`${mod}.ts`);
  }
  return {
    tsDir,
    pyDir,
    tsFiles,
    pyPackage: "benchproj",
    tasks: modules * tasksPerModule,
    workflows: modules,
  };
}
