"""What every flytekit bench script prints: one JSON line with its own timings (milliseconds,
measured in process, so interpreter start-up and imports are not in them) and its peak memory.
bench/run.mjs reads the last line of stdout."""

import json
import resource
import sys
import time


def args(defaults):
    """Arguments of a bench script: --n 1000, --warmup 10, --out /tmp/x."""
    out = dict(defaults)
    argv = sys.argv[1:]
    i = 0
    while i < len(argv):
        if argv[i].startswith("--") and i + 1 < len(argv):
            out[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            i += 1
    return out


def timed(fn):
    """(wall milliseconds, value, CPU milliseconds) of calling fn. CPU time is user + system of
    the whole process, which a busy machine disturbs less."""
    cpu = time.process_time()
    started = time.perf_counter()
    value = fn()
    wall = (time.perf_counter() - started) * 1000.0
    return wall, value, (time.process_time() - cpu) * 1000.0


def emit(workload, metrics, **extra):
    """Prints the result line: metrics in milliseconds, plus peak RSS in MB."""
    import flytekit

    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux
    line = {
        "side": "flytekit",
        "workload": workload,
        "metrics": metrics,
        "maxRssMb": max_rss_mb,
        "python": sys.version.split()[0],
        "flytekit": flytekit.__version__,
    }
    line.update(extra)
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
