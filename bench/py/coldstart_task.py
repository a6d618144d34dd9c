"""The trivial task of the cold-start bench, run by pyflyte-execute from inputs.pb to outputs.pb
(resolver args: task-module coldstart_task task-name double, from bench/py)."""

from flytekit import task


@task
def double(x: int) -> int:
    return 2 * x
