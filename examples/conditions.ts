/**
 * Conditional branches: pick a task by comparing inputs and outputs.
 *
 *   npx tsflyte run examples/conditions.ts classify --x 0.3
 */
import { conditional, t, task, workflow } from "flytekit-ts";

export const square = task({ inputs: { x: t.float() }, outputs: t.float() }, ({ x }) => x * x);
export const double = task({ inputs: { x: t.float() }, outputs: t.float() }, ({ x }) => 2 * x);
export const negate = task({ inputs: { x: t.float() }, outputs: t.float() }, ({ x }) => -x);

/** Squares fractions, doubles numbers above one, negates the rest; fails on exactly 42. */
export const classify = workflow({ inputs: { x: t.float() } }, ({ x }) => {
  return conditional("range")
    .if(x.gte(0).and(x.lt(1)))
    .then(() => square({ x }))
    .elif(x.gte(1).and(x.neq(42)))
    .then(() => double({ x }))
    .elif(x.lt(0))
    .then(() => negate({ x }))
    .else()
    .fail("42 is not a number to classify");
});

export const isEven = task({ inputs: { n: t.int() }, outputs: t.bool() }, ({ n }) => n % 2 === 0);
export const half = task({ inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => n / 2);
export const triplePlusOne = task({ inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => 3 * n + 1);

/** One Collatz step: the branch reads the output of an earlier task. */
export const collatzStep = workflow({ inputs: { n: t.int() } }, ({ n }) => {
  const even = isEven({ n });
  return conditional("parity")
    .if(even.isTrue())
    .then(() => half({ n }))
    .else()
    .then(() => triplePlusOne({ n }));
});
