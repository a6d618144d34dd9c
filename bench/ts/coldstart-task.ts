/**
 * The trivial task of the cold-start bench, run by `tsflyte-execute` from `inputs.pb` to
 * `outputs.pb` (resolver args `task-module bench/ts/coldstart-task task-name double`). It imports
 * `flytekit-ts` as user code does, so it gets the same copy of the SDK as the entrypoint.
 */
import { t, task } from "flytekit-ts";

export const double = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => 2 * x);
