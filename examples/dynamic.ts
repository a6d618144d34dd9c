/**
 * A dynamic workflow: the graph depends on an input value, so it is built at run time.
 *
 *   npx tsflyte run examples/dynamic.ts fibonacciWorkflow --n 10
 */
import { type Bindable, dynamic, t, task, workflow } from "flytekit-ts";

export const add = task({ inputs: { a: t.int(), b: t.int() }, outputs: t.int() }, ({ a, b }) => a + b);

/** Builds a chain of n additions: fib(n). */
export const fibonacci = dynamic({ inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => {
  let a: Bindable<number> = 0;
  let b: Bindable<number> = 1;
  for (let i = 0; i < n; i++) {
    const next: Bindable<number> = add({ a, b });
    a = b;
    b = next;
  }
  return a;
});

export const fibonacciWorkflow = workflow({ inputs: { n: t.int() } }, ({ n }) => fibonacci({ n }));
