/**
 * Hello world: two tasks and a workflow.
 *
 *   npx tsflyte run examples/hello-world.ts helloWorld --name Flyte
 */
import { t, task, workflow } from "flytekit-ts";

/** Builds a greeting. */
export const greet = task(
  { inputs: { name: t.string() }, outputs: t.string(), description: "Says hello." },
  async ({ name }) => `Hello, ${name}!`,
);

/** Counts the characters of a text. */
export const count = task({ inputs: { text: t.string() }, outputs: t.int() }, ({ text }) => text.length);

/** Greets someone and measures the greeting. */
export const helloWorld = workflow(
  { inputs: { name: t.string() }, defaults: { name: "world" } },
  ({ name }) => {
    const greeting = greet({ name });
    const length = count({ text: greeting });
    return { greeting, length };
  },
);
