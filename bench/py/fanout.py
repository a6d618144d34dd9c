"""Local execution of a fan-out/fan-in workflow in flytekit: n calls of a trivial task, their
outputs gathered into one list for a reducer task. Per-node overhead = run time / n.

    python bench/py/fanout.py --n 1000
"""

from typing import List

from _report import args, emit, timed
from flytekit import task, workflow

opts = args({"n": "1000", "warmup": "10"})
n = int(opts["n"])


@task
def square(x: int) -> int:
    return x * x


@task
def total(xs: List[int]) -> int:
    return sum(xs)


def fan_out(size):
    # flytekit compiles the workflow when it is decorated: the loop runs once, at compile time.
    def wf() -> int:
        return total(xs=[square(x=i) for i in range(size)])

    wf.__name__ = f"fanout_{size}"
    wf.__qualname__ = wf.__name__
    compiled = workflow(wf)
    compiled.compile()
    return compiled


def expected(size):
    return sum(i * i for i in range(size))


# Warm-up: a small workflow, so lazy initialisation is not in the timed run.
fan_out(int(opts["warmup"]))()

define_ms, wf, define_cpu = timed(lambda: fan_out(n))
run_ms, result, run_cpu = timed(lambda: wf())
if result != expected(n):
    raise SystemExit(f"fan-out gave {result}, expected {expected(n)}")

metrics = {
    "defineMs": define_ms,
    "runMs": run_ms,
    "perNodeMs": run_ms / n,
    "defineCpuMs": define_cpu,
    "runCpuMs": run_cpu,
    "perNodeCpuMs": run_cpu / n,
}
emit("fanout", metrics, n=n)
