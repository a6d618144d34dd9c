"""Literal conversion of a list of integers (List[int]) in flytekit, both ways, timed separately.

    python bench/py/literals_ints.py --n 1000000
"""

from typing import List

from _convert import round_trip
from _report import args, emit

opts = args({"n": "1000000", "warmup": "1000"})
n = int(opts["n"])
types = {"xs": List[int]}


def values(size):
    return [i * 7919 for i in range(size)]


round_trip(types, {"xs": values(int(opts["warmup"]))})  # warm-up
xs = values(n)
timings, back, size = round_trip(types, {"xs": xs})
if back["xs"] != xs:
    raise SystemExit("round trip changed the list")
emit("literals-ints", timings, n=n, bytes=size)
