/**
 * An entity's source file comes from the stack of its definition, formatted only when asked for
 * (formatting, with source maps, cost more than the rest of defining a task), with the same
 * result as before.
 */
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { t, task, workflow } from "../../src/index.js";

it("formats no stack while defining entities and wiring workflows; sourceFile formats one, once", () => {
  const original = Error.prepareStackTrace;
  let formatted = 0;
  Error.prepareStackTrace = (err, frames) => {
    formatted++;
    return original ? original(err, frames) : `${err}\n${frames.map((f) => `    at ${f}`).join("\n")}`;
  };
  try {
    const double = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x * 2);
    const inc = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x + 1);
    const wf = workflow({ inputs: { x: t.int() } }, ({ x }) => ({ y: inc({ x: double({ x }) }) }));
    expect(formatted).toBe(0);

    const here = fileURLToPath(import.meta.url);
    expect(double.sourceFile).toBe(here);
    expect(formatted).toBe(1);
    expect(double.sourceFile).toBe(here);
    expect(formatted).toBe(1);
    // unnamed (no loader, no name): the fallback name is the module of the defining file
    expect(wf.sourceFile).toBe(here);
    expect(wf.name).toMatch(/^test\.core\.entity-source\.test\.entity-\d+$/);
  } finally {
    Error.prepareStackTrace = original;
  }
});

it("names the call in binding errors by the target's fallback name", () => {
  const needsX = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x);
  expect(() => workflow({}, () => ({ y: needsX({} as never) }))).toThrow(
    expect.objectContaining({
      code: "BINDING_MISSING",
      entity: expect.stringMatching(/-> test\.core\.entity-source\.test\.entity-\d+$/),
    }),
  );
});
