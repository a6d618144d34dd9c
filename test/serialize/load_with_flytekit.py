"""Loads the .pb entries of a package folder with flytekit (Python) and prints one JSON line each.

Usage: python load_with_flytekit.py <folder of NN_name_K.pb files>...

Each entry is parsed with the flyteidl Python classes, turned into flytekit's models
(``TaskSpec.from_flyte_idl``, ``WorkflowSpec.from_flyte_idl``, ``LaunchPlan.from_flyte_idl``),
promoted to flytekit's remote entities (``FlyteTask`` / ``FlyteWorkflow`` / ``FlyteLaunchPlan``,
which walk every node, branch and array node), and its interface types are mapped to Python
types with ``TypeEngine.guess_python_type``. Any failure is printed as ``{"file", "error"}``.
"""

import json
import os
import re
import sys
import traceback

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flytekit.core.type_engine import TypeEngine
from flytekit.models import launch_plan as launch_plan_models
from flytekit.models import task as task_models
from flytekit.models.admin import workflow as workflow_models
from flytekit.remote.entities import FlyteLaunchPlan, FlyteTask, FlyteWorkflow


def types_of(variable_map):
    return {k: str(TypeEngine.guess_python_type(v.type)) for k, v in variable_map.items()}


def main(folder):
    files = sorted(f for f in os.listdir(folder) if re.match(r"^\d+_.+_[123]\.pb$", f))
    tasks = {}
    launch_plans = {}
    for f in files:
        kind = f[-4]
        data = open(os.path.join(folder, f), "rb").read()
        try:
            if kind == "1":
                pb = task_pb2.TaskSpec()
                pb.ParseFromString(data)
                spec = task_models.TaskSpec.from_flyte_idl(pb)
                t = FlyteTask.promote_from_model(spec.template)
                tasks[spec.template.id] = t
                c = spec.template.container
                out = {
                    "kind": "task",
                    "name": spec.template.id.name,
                    "type": spec.template.type,
                    "image": c.image if c else None,
                    "args": list(c.args) if c else None,
                    "retries": spec.template.metadata.retries.retries,
                    "inputs": types_of(spec.template.interface.inputs),
                    "outputs": types_of(spec.template.interface.outputs),
                }
            elif kind == "2":
                pb = workflow_pb2.WorkflowSpec()
                pb.ParseFromString(data)
                spec = workflow_models.WorkflowSpec.from_flyte_idl(pb)
                subs = {s.id: s for s in spec.sub_workflows}
                wf = FlyteWorkflow.promote_from_model(spec.template, sub_workflows=subs, tasks=tasks, node_launch_plans=launch_plans)
                out = {
                    "kind": "workflow",
                    "name": spec.template.id.name,
                    "nodes": len(wf.flyte_nodes),
                    "sub_workflows": sorted(s.id.name for s in spec.sub_workflows),
                    "failure_node": spec.template.failure_node.id if spec.template.failure_node else None,
                    "inputs": types_of(spec.template.interface.inputs),
                    "outputs": types_of(spec.template.interface.outputs),
                }
            else:
                pb = launch_plan_pb2.LaunchPlan()
                pb.ParseFromString(data)
                lp = launch_plan_models.LaunchPlan.from_flyte_idl(pb)
                flp = FlyteLaunchPlan.promote_from_model(lp.id, lp.spec)
                launch_plans[lp.id] = lp.spec
                sched = lp.spec.entity_metadata.schedule
                out = {
                    "kind": "launchPlan",
                    "name": lp.id.name,
                    "workflow": flp.workflow_id.name,
                    "schedule": (sched.cron_schedule.schedule if sched and sched.cron_schedule else (sched.rate.value if sched and sched.rate else None)),
                    "defaults": sorted(lp.spec.default_inputs.parameters.keys()),
                    "fixed": sorted(lp.spec.fixed_inputs.literals.keys()),
                }
            out["file"] = f
            out["folder"] = folder
            print(json.dumps(out, sort_keys=True))
        except Exception as e:  # noqa: BLE001 - reported to the test
            print(json.dumps({"folder": folder, "file": f, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}))


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        main(arg)
