import { describe, expect, it } from "vitest";
import { BaseTask, FunctionTask, t, WorkflowDef } from "../../src/index.js";

describe("entity classes recognise instances from a second copy of the SDK", () => {
  it("instanceof works across module instances", async () => {
    // A second instance of task.ts (as when a user bundle inlines flytekit-ts).
    const copy = (await import(
      /* @vite-ignore */ `../../src/core/task.ts?copy=${Date.now()}`
    )) as typeof import("../../src/core/task.js");
    expect(copy.FunctionTask).not.toBe(FunctionTask);
    const other = copy.task({ inputs: {}, outputs: t.int() }, () => 1);
    expect(other instanceof BaseTask).toBe(true);
    expect(other instanceof FunctionTask).toBe(true);
    expect(other instanceof WorkflowDef).toBe(false);
    expect({} instanceof BaseTask).toBe(false);
  });
});
