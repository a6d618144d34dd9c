/**
 * A raw container task: a shell command in an image with no SDK (and no Node) inside. Inputs and
 * outputs travel as files (Flyte's copilot contract); runs in container mode.
 *
 *   npx tsflyte run examples/raw-container.ts areaTimesTwo --a 3 --b 4 --containers
 */
import { ContainerTask, t, task, workflow } from "flytekit-ts";

/** Multiplies two integers in a shell, in a Python-only image. */
export const area = new ContainerTask({
  name: "examples.raw-container.area",
  image: process.env.RAW_CONTAINER_IMAGE ?? "localhost/flytekit-ts/python-flytekit:3.11",
  command: [
    "sh",
    "-c",
    "test ! -x /usr/bin/node && echo $(( {{.inputs.a}} * {{.inputs.b}} )) > /var/outputs/area",
  ],
  inputs: { a: t.int(), b: t.int() },
  outputs: { area: t.int() },
});

export const double = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => 2 * x);

export const areaTimesTwo = workflow({ inputs: { a: t.int(), b: t.int() } }, ({ a, b }) =>
  double({ x: area({ a, b }).area }),
);
