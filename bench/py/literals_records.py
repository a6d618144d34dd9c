"""Literal conversion of a list of dataclasses (int, float, str and List[str] fields) in
flytekit, both ways, timed separately. flytekit 1.14+ writes each as a msgpack Binary literal.

    python bench/py/literals_records.py --n 100000
"""

from dataclasses import dataclass
from typing import List

from _convert import round_trip
from _report import args, emit


@dataclass
class Item:
    id: int
    score: float
    name: str
    tags: List[str]


opts = args({"n": "100000", "warmup": "1000"})
n = int(opts["n"])
types = {"items": List[Item]}


def values(size):
    return [Item(id=i, score=i * 0.5, name=f"item-{i}", tags=["a", f"t{i % 10}", f"u{i % 7}"]) for i in range(size)]


round_trip(types, {"items": values(int(opts["warmup"]))})  # warm-up
items = values(n)
timings, back, size = round_trip(types, {"items": items})
if len(back["items"]) != n or back["items"][-1] != items[-1]:
    raise SystemExit("round trip changed the records")
emit("literals-records", timings, n=n, bytes=size)
