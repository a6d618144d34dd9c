/**
 * A map task: one task over a list of inputs, in parallel (Flyte ArrayNode).
 *
 *   npx tsflyte run examples/map-task.ts sumOfSquares --xs '[1,2,3,4]'
 */
import { mapTask, t, task, workflow } from "flytekit-ts";

export const square = task({ inputs: { x: t.int() }, outputs: t.int(), retries: 1 }, ({ x }) => x * x);

export const sum = task({ inputs: { xs: t.list(t.int()) }, outputs: t.int() }, ({ xs }) =>
  xs.reduce((a, b) => a + b, 0),
);

/** Squares every item with a map task, then sums. */
export const sumOfSquares = workflow({ inputs: { xs: t.list(t.int()) } }, ({ xs }) => {
  const squares = mapTask(square, { concurrency: 4 })({ x: xs });
  return sum({ xs: squares });
});
