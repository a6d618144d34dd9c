"""Local execution of a chain in flytekit: n calls of a trivial task, each taking the previous
output. Nodes run one after another, so this measures per-node latency.

    python bench/py/chain.py --n 200
"""

from _report import args, emit, timed
from flytekit import task, workflow

opts = args({"n": "200", "warmup": "10"})
n = int(opts["n"])


@task
def inc(x: int) -> int:
    return x + 1


def chain(size):
    def wf(x: int) -> int:
        y = x
        for _ in range(size):
            y = inc(x=y)
        return y

    wf.__name__ = f"chain_{size}"
    wf.__qualname__ = wf.__name__
    compiled = workflow(wf)
    compiled.compile()
    return compiled


# Warm-up: a short chain, so lazy initialisation is not in the timed run.
chain(int(opts["warmup"]))(x=0)

define_ms, wf, define_cpu = timed(lambda: chain(n))
run_ms, result, run_cpu = timed(lambda: wf(x=0))
if result != n:
    raise SystemExit(f"chain gave {result}, expected {n}")

metrics = {
    "defineMs": define_ms,
    "runMs": run_ms,
    "perNodeMs": run_ms / n,
    "defineCpuMs": define_cpu,
    "runCpuMs": run_cpu,
    "perNodeCpuMs": run_cpu / n,
}
emit("chain", metrics, n=n)
