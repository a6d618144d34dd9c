"""Literal conversion of a pandas DataFrame (3 columns int/float/str) to a StructuredDataset
literal (parquet through pyarrow, under the local raw data prefix) and back, in flytekit.

    python bench/py/literals_dataframe.py --n 100000
"""

import pandas as pd
from _convert import round_trip
from _report import args, emit
from flytekit import kwtypes
from typing_extensions import Annotated

opts = args({"n": "100000", "warmup": "1000"})
n = int(opts["n"])
Frame = Annotated[pd.DataFrame, kwtypes(id=int, score=float, name=str)]
types = {"df": Frame}


def frame(size):
    return pd.DataFrame(
        {
            "id": list(range(size)),
            "score": [i * 0.5 for i in range(size)],
            "name": [f"name-{i}" for i in range(size)],
        }
    )


round_trip(types, {"df": frame(int(opts["warmup"]))})  # warm-up
df = frame(n)
timings, back, size = round_trip(types, {"df": df})
if len(back["df"]) != n or back["df"]["name"].iloc[-1] != df["name"].iloc[-1]:
    raise SystemExit("round trip changed the dataframe")
emit("literals-dataframe", timings, n=n, bytes=size)
