#!/usr/bin/env python3
"""Regenerate the flytekit golden files under test/fixtures/flytekit/.

These goldens are what the real flytekit (Python) writes; flytekit-ts reads them in its
tests and must write values that decode to the same messages.

Run it with a Python environment holding flytekit 1.16.x, pandas and pyarrow, e.g.:

    python3 -m venv /tmp/fk-research-venv
    /tmp/fk-research-venv/bin/pip install "flytekit==1.16.31" pandas pyarrow
    /tmp/fk-research-venv/bin/python scripts/goldens/make_flytekit_goldens.py

It writes (all relative to test/fixtures/flytekit/):
  literals/<name>.literal.pb / <name>.type.pb  (flyteidl core.Literal / core.LiteralType)
  literals/<name>.literal.json / <name>.type.json  (protobuf JSON of the same, for humans)
  literals/index.json  (one entry per case: python type, python value as JSON-ish text, notes)
  literals/*.parquet  (the parquet file behind the structured dataset literal)
  packages/goldens.tgz  (output of `pyflyte package`), packages/goldens/<entry>.json (each entry as JSON)
  packages/goldens.entries.json  (entry names in the tgz)
  packages/serialization-context.json  (the _F_SS_C value of the dynamic task, raw and decoded)
  packages/goldens-fast.tgz + goldens-fast.summary.json  (`pyflyte package --copy all`: args, bundle)
  execute/<case>/inputs.pb, outputs.pb | error.pb | futures.pb, plus .json renderings and case.json
      (a real pyflyte-execute / pyflyte-map-execute run with the args from the packaged template)
  versions.json  (versions of the tools that produced all this)

literals/*.pb and execute/*/inputs.pb are written here with deterministic serialization (sorted
map keys); outputs.pb, error.pb, futures.pb and the package entries are flytekit's own bytes,
copied verbatim (map entry order in them may differ from run to run, and error.pb carries a
timestamp and a traceback). Tests should compare decoded messages, not bytes.
"""

import base64
import dataclasses
import datetime
import enum
import fnmatch
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import typing
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "test" / "fixtures" / "flytekit"
VENV_BIN = Path(sys.executable).parent
IMAGE = "ghcr.io/example/goldens:v1"
# A fixed scratch dir: flytekit records the source root of the package in _F_SS_C, so a fixed
# path keeps the goldens stable from run to run.
WORK = Path(tempfile.gettempdir()) / "fk-goldens-work"

# The pyflyte package / execute runs must not see any user config of this machine.
os.environ.pop("FLYTECTL_CONFIG", None)
os.environ["FLYTE_SDK_LOGGING_LEVEL"] = "40"

from flytekit.types.directory import FlyteDirectory  # noqa: E402
from flytekit.types.file import FlyteFile  # noqa: E402
from flytekit.types.structured import StructuredDataset  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from google.protobuf.message import Message  # noqa: E402


def pb_bytes(msg: Message) -> bytes:
    return msg.SerializeToString(deterministic=True)


def pb_json(msg: Message) -> str:
    return json_format.MessageToJson(msg, indent=2, sort_keys=True) + "\n"


def write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)


# --------------------------------------------------------------------------------------
# 1. Literals
# --------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Inner:
    a: int
    b: str


@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: str
    tags: typing.List[str]
    inner: typing.Optional[Inner]


@dataclasses.dataclass
class Rich:
    """Flyte types and other non-JSON types inside a dataclass."""

    f: FlyteFile
    d: FlyteDirectory
    sd: StructuredDataset
    when: datetime.datetime
    dur: datetime.timedelta
    color: Color
    m: typing.Dict[str, float]
    u: typing.Union[int, str]


def make_literals() -> list[dict]:
    import pandas as pd
    from flytekit import FlyteContextManager, kwtypes
    from flytekit.core.type_engine import TypeEngine

    lit_dir = OUT / "literals"
    if lit_dir.exists():
        shutil.rmtree(lit_dir)
    lit_dir.mkdir(parents=True)

    ctx = FlyteContextManager.current_context()
    utc = datetime.timezone.utc
    sd_local_dir = WORK / "sd"

    df = pd.DataFrame(
        {
            "a": pd.Series([1, 2, 3], dtype="int64"),
            "b": pd.Series(["x", "y", "z"], dtype="object"),
            "c": pd.Series([1.5, 2.5, -0.25], dtype="float64"),
        }
    )
    df_json = {"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [1.5, 2.5, -0.25]}

    point = Point(x=3, y=4.5, label="p1", tags=["a", "b"], inner=Inner(a=7, b="in"))
    point_none = Point(x=-1, y=0.0, label="", tags=[], inner=None)

    csv_file = FlyteFile[typing.TypeVar("csv")]
    rich = Rich(
        f=FlyteFile("s3://my-bucket/f.txt"),
        d=FlyteDirectory("s3://my-bucket/d"),
        sd=StructuredDataset(uri="s3://my-bucket/sd", file_format="parquet"),
        when=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc),
        dur=datetime.timedelta(seconds=90.5),
        color=Color.RED,
        m={"a": 1.0, "b": 2},
        u="s",
    )
    rich_json = {
        "f": "s3://my-bucket/f.txt",
        "d": "s3://my-bucket/d",
        "sd": {"uri": "s3://my-bucket/sd", "file_format": "parquet"},
        "when": "2024-01-02T03:04:05+00:00",
        "dur": {"seconds": 90.5},
        "color": "red",
        "m": {"a": 1.0, "b": 2},
        "u": "s",
    }

    # name, python type, value, JSON-ish rendering of the value, notes
    cases: list[tuple[str, typing.Any, typing.Any, typing.Any, str]] = [
        ("int", int, 42, 42, ""),
        ("int_negative", int, -(2**40), -(2**40), "beyond int32"),
        ("float", float, 3.25, 3.25, ""),
        ("str", str, "hello, flyte ✓", "hello, flyte ✓", "non-ASCII included"),
        ("bool", bool, True, True, ""),
        (
            "datetime",
            datetime.datetime,
            datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=utc),
            "2024-05-06T07:08:09.123456+00:00",
            "timezone-aware UTC",
        ),
        (
            "timedelta",
            datetime.timedelta,
            datetime.timedelta(hours=1, minutes=2, seconds=3, microseconds=500000),
            {"seconds": 3723.5},
            "",
        ),
        ("date", datetime.date, datetime.date(2024, 5, 6), "2024-05-06", "written as DATETIME at midnight"),
        ("none", type(None), None, None, ""),
        ("list_int", typing.List[int], [1, 2, 3], [1, 2, 3], ""),
        ("list_list_int", typing.List[typing.List[int]], [[1], [2, 3]], [[1], [2, 3]], ""),
        ("dict_str_int", typing.Dict[str, int], {"a": 1, "b": 2}, {"a": 1, "b": 2}, ""),
        ("dict_untyped", dict, {"a": 1, "b": [1, 2], "c": {"d": "e"}}, {"a": 1, "b": [1, 2], "c": {"d": "e"}}, "plain dict"),
        ("enum", Color, Color.GREEN, "green", "class Color(Enum): RED='red', GREEN='green'"),
        ("dataclass", Point, point, dataclasses.asdict(point), "Point{x:int,y:float,label:str,tags:List[str],inner:Optional[Inner{a:int,b:str}]}"),
        ("dataclass_inner_none", Point, point_none, dataclasses.asdict(point_none), "same Point type, inner=None"),
        (
            "dataclass_rich",
            Rich,
            rich,
            rich_json,
            "Rich{f:FlyteFile,d:FlyteDirectory,sd:StructuredDataset,when:datetime,dur:timedelta,color:Color,m:Dict[str,float],u:Union[int,str]}",
        ),
        (
            "list_dataclass",
            typing.List[Inner],
            [Inner(a=1, b="one"), Inner(a=2, b="two")],
            [{"a": 1, "b": "one"}, {"a": 2, "b": "two"}],
            "each element its own msgpack Binary",
        ),
        ("optional_int_value", typing.Optional[int], 5, 5, ""),
        ("optional_int_none", typing.Optional[int], None, None, ""),
        ("union_int_str_int", typing.Union[int, str], 7, 7, ""),
        ("union_int_str_str", typing.Union[int, str], "seven", "seven", ""),
        ("bytes", bytes, b"\x00\x01binary", None, "no dedicated transformer: see notes in index"),
        (
            "flytefile",
            FlyteFile,
            FlyteFile("s3://my-bucket/data/file.txt"),
            "s3://my-bucket/data/file.txt",
            "remote path: passed through without upload",
        ),
        (
            "flytefile_csv",
            csv_file,
            csv_file("s3://my-bucket/data/table.csv"),
            "s3://my-bucket/data/table.csv",
            "FlyteFile[TypeVar('csv')]",
        ),
        (
            "flytedirectory",
            FlyteDirectory,
            FlyteDirectory("s3://my-bucket/data/dir"),
            "s3://my-bucket/data/dir",
            "remote path: passed through without upload",
        ),
        (
            "sd_pandas",
            pd.DataFrame,
            df,
            df_json,
            "python type pandas.DataFrame; uri rewritten to a fixed value, parquet file saved beside",
        ),
        (
            "sd_annotated",
            typing.Annotated[StructuredDataset, kwtypes(a=int, b=str, c=float)],
            "SD",  # built below, needs a uri
            df_json,
            "Annotated[StructuredDataset, kwtypes(a=int, b=str, c=float)] from StructuredDataset(dataframe=df, uri=...)",
        ),
    ]

    index = []
    for name, py_type, value, json_value, notes in cases:
        if name == "sd_annotated":
            value = StructuredDataset(dataframe=df, uri=str(sd_local_dir / "annotated"))
        entry: dict[str, typing.Any] = {"name": name, "python_type": repr(py_type), "value": json_value, "notes": notes}
        try:
            lt = TypeEngine.to_literal_type(py_type)
            lv = TypeEngine.to_literal(ctx, value, py_type, lt)
        except Exception as e:  # noqa: BLE001 - record what flytekit does
            entry["error"] = f"{type(e).__name__}: {e}"
            index.append(entry)
            continue
        lt_pb = lt.to_flyte_idl()
        lv_pb = lv.to_flyte_idl()
        if name.startswith("sd_"):
            # Save the parquet the literal points at, and pin the uri for stable goldens.
            src = Path(lv_pb.scalar.structured_dataset.uri)
            entry["original_uri"] = "<local temp dir>" if src.is_absolute() else str(src)
            files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
            entry["parquet_files"] = []
            for i, f in enumerate(files):
                dest = lit_dir / f"{name}.{i}.parquet"
                shutil.copyfile(f, dest)
                entry["parquet_files"].append({"fixture": dest.name, "original_name": f.name})
            lv_pb.scalar.structured_dataset.uri = f"s3://my-bucket/goldens/{name}"
        if name == "bytes":
            entry["transformer"] = type(TypeEngine.get_transformer(bytes)).__name__
            # <raw output prefix>/<random dir>/<name derived from the content>
            entry["original_uri"] = re.sub(r"^.*/raw/[0-9a-f]+/", "<raw-output-prefix>/<random>/", lv_pb.scalar.blob.uri)
            lv_pb.scalar.blob.uri = "s3://my-bucket/goldens/bytes.pickle"
        if lv_pb.HasField("scalar") and lv_pb.scalar.HasField("binary"):
            entry["binary_tag"] = lv_pb.scalar.binary.tag
            entry["binary_hex"] = lv_pb.scalar.binary.value.hex()
            import msgpack

            entry["binary_msgpack_decoded"] = msgpack.unpackb(lv_pb.scalar.binary.value, strict_map_key=False)
        write(lit_dir / f"{name}.literal.pb", pb_bytes(lv_pb))
        write(lit_dir / f"{name}.type.pb", pb_bytes(lt_pb))
        write(lit_dir / f"{name}.literal.json", pb_json(lv_pb))
        write(lit_dir / f"{name}.type.json", pb_json(lt_pb))
        entry["files"] = {"literal": f"{name}.literal.pb", "type": f"{name}.type.pb"}
        # Round trip through flytekit (using the stored, uri-pinned proto is not possible for
        # remote uris, so only for scalars/collections that do not touch storage).
        if not name.startswith(("sd_", "flyte", "bytes", "dataclass_rich")):
            from flytekit.models.literals import Literal

            back = TypeEngine.to_python_value(ctx, Literal.from_flyte_idl(lv_pb), py_type)
            entry["roundtrip_ok"] = back == value
        index.append(entry)

    write(lit_dir / "index.json", json.dumps(index, indent=2, ensure_ascii=False, default=str) + "\n")
    return index


# --------------------------------------------------------------------------------------
# 2. A small flytekit project, packaged with `pyflyte package`
# --------------------------------------------------------------------------------------

PROJECT_FILES = {
    "goldens_wf/__init__.py": "",
    "goldens_wf/example.py": '''
import dataclasses
import datetime
import functools
import typing

from flytekit import (
    CronSchedule,
    LaunchPlan,
    Resources,
    Secret,
    conditional,
    dynamic,
    map_task,
    task,
    workflow,
)
from flytekit.exceptions.user import FlyteRecoverableException


@dataclasses.dataclass
class Inner:
    a: int
    b: str


@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: str
    tags: typing.List[str]
    inner: typing.Optional[Inner]


@task(
    requests=Resources(cpu="500m", mem="256Mi"),
    limits=Resources(cpu="1", mem="512Mi"),
    retries=2,
    timeout=datetime.timedelta(minutes=10),
    cache=True,
    cache_version="1",
    interruptible=True,
    environment={"MY_ENV": "hello"},
    secret_requests=[Secret(group="my-group", key="my-key")],
)
def configured(a: int, b: str) -> str:
    return f"{b}{a}"


@task
def trivial(a: int, b: str) -> typing.Tuple[int, str]:
    return a + 1, b.upper()


@task
def move_point(p: Point, dx: int) -> Point:
    return Point(x=p.x + dx, y=p.y, label=p.label, tags=p.tags + ["moved"], inner=p.inner)


@task
def fail_value_error(a: int) -> int:
    if a >= 0:
        raise ValueError(f"bad value {a}")
    return a


@task
def fail_recoverable(a: int) -> int:
    if a >= 0:
        raise FlyteRecoverableException(f"try again {a}")
    return a


@task(enable_deck=True)
def with_deck(a: int) -> int:
    return a


@task
def square(x: int) -> int:
    return x * x


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def double(x: int) -> int:
    return 2 * x


@task
def negate(x: int) -> int:
    return -x


@workflow
def simple_wf(a: int, b: str = "x") -> str:
    return configured(a=a, b=b)


@workflow
def map_wf(xs: typing.List[int]) -> typing.List[int]:
    return map_task(square)(x=xs)


@workflow
def map_wf_opts(xs: typing.List[int], y: int) -> typing.List[typing.Optional[int]]:
    return map_task(functools.partial(add, b=y), concurrency=2, min_success_ratio=0.5)(a=xs)


@dynamic
def dyn(n: int) -> int:
    total = 0
    for i in range(n):
        total = add(a=total, b=i)
    return total


@workflow
def dyn_wf(n: int = 3) -> int:
    return dyn(n=n)


@workflow
def branch_wf(x: int) -> int:
    return (
        conditional("test")
        .if_(x > 10)
        .then(double(x=x))
        .elif_((x < 0) & (x > -100))
        .then(negate(x=x))
        .else_()
        .fail("x out of range")
    )


@workflow
def branch_mid_wf(x: int) -> int:
    y = square(x=x)
    r = conditional("mid").if_(y >= 100).then(double(x=y)).else_().then(negate(x=y))
    return add(a=r, b=x)


@workflow
def chain_wf(a: int, b: str, kickoff: datetime.datetime) -> typing.Tuple[int, str]:
    s = configured(a=a, b=b)
    o1, o2 = trivial(a=a, b=s)
    return square(x=o1), o2


cron_lp = LaunchPlan.get_or_create(
    workflow=chain_wf,
    name="cron_lp",
    default_inputs={"b": "default-b"},
    fixed_inputs={"a": 5},
    schedule=CronSchedule(schedule="0 * * * *", kickoff_time_input_arg="kickoff"),
)
''',
}


def make_fast_package(project: Path) -> None:
    """`pyflyte package --copy all`: the fast-registration form of the same project."""
    from flyteidl.admin import task_pb2

    pkg_dir = OUT / "packages"
    tgz = pkg_dir / "goldens-fast.tgz"
    run(
        [str(VENV_BIN / "pyflyte"), "--pkgs", "goldens_wf", "package", "--image", IMAGE, "--copy", "all"]
        + ["--output", str(tgz), "--force"],
        cwd=project,
    )
    summary: dict[str, typing.Any] = {"entries": [], "task_args": {}, "bundles": {}, "ss_contexts": {}}
    with tarfile.open(tgz, "r:gz") as tf:
        for member in tf.getmembers():
            if not member.isfile():
                continue
            summary["entries"].append(member.name)
            data = tf.extractfile(member).read()
            if member.name.endswith(".tar.gz"):
                with tarfile.open(fileobj=__import__("io").BytesIO(data), mode="r:gz") as inner:
                    summary["bundles"][member.name] = [
                        {"name": m.name, "size": m.size, "mtime": m.mtime, "uid": m.uid, "gid": m.gid, "mode": oct(m.mode)}
                        for m in inner.getmembers()
                    ]
                continue
            msg = entry_message(member.name, data)
            if isinstance(msg, task_pb2.TaskSpec) and msg.template.HasField("container"):
                summary["task_args"][msg.template.id.name] = list(msg.template.container.args)
                for kv in msg.template.container.env:
                    if kv.key == "_F_SS_C":
                        summary["ss_contexts"][msg.template.id.name] = decode_ss_context(kv.value)
    summary["entries"].sort()
    write(pkg_dir / "goldens-fast.summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")


def run(cmd: list[str], cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(cwd)
    if env:
        full_env.update(env)
    p = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def entry_message(name: str, data: bytes) -> Message:
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

    kind = name.rsplit("_", 1)[-1].split(".")[0]
    cls = {"1": task_pb2.TaskSpec, "2": workflow_pb2.WorkflowSpec, "3": launch_plan_pb2.LaunchPlan}[kind]
    m = cls()
    m.ParseFromString(data)
    return m


def decode_ss_context(value: str) -> dict:
    return json.loads(gzip.decompress(base64.b64decode(value)).decode("utf-8"))


def make_package(project: Path) -> dict:
    from flyteidl.admin import task_pb2

    pkg_dir = OUT / "packages"
    if pkg_dir.exists():
        shutil.rmtree(pkg_dir)
    pkg_dir.mkdir(parents=True)
    tgz = pkg_dir / "goldens.tgz"
    run(
        [
            str(VENV_BIN / "pyflyte"),
            "--pkgs",
            "goldens_wf",
            "package",
            "--image",
            IMAGE,
            "--image",
            "other=ghcr.io/example/other:v2",
            "--output",
            str(tgz),
            "--force",
        ],
        cwd=project,
    )
    entries_dir = pkg_dir / "goldens"
    ss_contexts = {}
    names = []
    templates = {}
    with tarfile.open(tgz, "r:gz") as tf:
        for member in tf.getmembers():
            if not member.isfile():
                continue
            data = tf.extractfile(member).read()
            names.append(member.name)
            msg = entry_message(member.name, data)
            write(entries_dir / (member.name[: -len(".pb")] + ".json"), pb_json(msg))
            if isinstance(msg, task_pb2.TaskSpec) and msg.template.HasField("container"):
                templates[msg.template.id.name] = {
                    "args": list(msg.template.container.args),
                    "env": {kv.key: kv.value for kv in msg.template.container.env},
                }
                for kv in msg.template.container.env:
                    if kv.key == "_F_SS_C":
                        ss_contexts[msg.template.id.name] = {
                            "raw": kv.value,
                            "json_text": gzip.decompress(base64.b64decode(kv.value)).decode("utf-8"),
                            "decoded": decode_ss_context(kv.value),
                        }
    write(pkg_dir / "goldens.entries.json", json.dumps(sorted(names), indent=2) + "\n")
    write(pkg_dir / "serialization-context.json", json.dumps(ss_contexts, indent=2, sort_keys=True) + "\n")
    return {"entries": names, "ss_contexts": ss_contexts, "templates": templates}


# --------------------------------------------------------------------------------------
# 3. pyflyte-execute runs (inputs.pb -> outputs.pb / error.pb / futures.pb)
# --------------------------------------------------------------------------------------


def literal_map(values: dict[str, tuple[typing.Any, typing.Any]]):
    from flytekit import FlyteContextManager
    from flytekit.core.type_engine import TypeEngine
    from flytekit.models.literals import LiteralMap

    ctx = FlyteContextManager.current_context()
    return LiteralMap(
        {k: TypeEngine.to_literal(ctx, v, t, TypeEngine.to_literal_type(t)) for k, (v, t) in values.items()}
    ).to_flyte_idl()


def make_execute(project: Path, templates: dict[str, dict]) -> list[dict]:
    from flyteidl.core import dynamic_job_pb2, errors_pb2, literals_pb2

    ex_dir = OUT / "execute"
    if ex_dir.exists():
        shutil.rmtree(ex_dir)
    ex_dir.mkdir(parents=True)

    sys.path.insert(0, str(project))
    from goldens_wf.example import Inner as WInner  # type: ignore
    from goldens_wf.example import Point as WPoint  # type: ignore

    # Container args are taken from the templates `pyflyte package` wrote, with propeller's
    # template variables substituted by local paths, as propeller would do on a cluster.
    cases = [
        ("trivial", "goldens_wf.example.trivial", {"a": (41, int), "b": ("abc", str)}, {}),
        (
            "dataclass",
            "goldens_wf.example.move_point",
            {
                "p": (WPoint(x=1, y=2.5, label="pt", tags=["t"], inner=WInner(a=1, b="i")), WPoint),
                "dx": (10, int),
            },
            {},
        ),
        ("value_error", "goldens_wf.example.fail_value_error", {"a": (3, int)}, {}),
        ("recoverable_error", "goldens_wf.example.fail_recoverable", {"a": (4, int)}, {}),
        (
            "value_error_fail_on_error",
            "goldens_wf.example.fail_value_error",
            {"a": (3, int)},
            {"FLYTE_FAIL_ON_ERROR": "true"},
        ),
        ("deck", "goldens_wf.example.with_deck", {"a": (1, int)}, {}),
        ("dynamic", "goldens_wf.example.dyn", {"n": (3, int)}, {}),
        # One sub-task of a map task (ArrayNode): the whole list goes in, the index comes from the env.
        (
            "map_index1",
            "goldens_wf.example.map_square_*-arraynode",
            {"x": ([2, 3, 4], typing.List[int])},
            {"BATCH_JOB_ARRAY_INDEX_VAR_NAME": "MY_ARRAY_INDEX", "MY_ARRAY_INDEX": "1"},
        ),
        # A map task with a bound (scalar, partial) input and an index offset.
        (
            "map_bound_offset",
            "goldens_wf.example.map_add_*-arraynode",
            {"a": ([10, 20, 30], typing.List[int]), "b": (5, int)},
            {
                "BATCH_JOB_ARRAY_INDEX_VAR_NAME": "MY_ARRAY_INDEX",
                "MY_ARRAY_INDEX": "1",
                "BATCH_JOB_ARRAY_INDEX_OFFSET": "1",
            },
        ),
    ]
    results = []
    for case, task_pattern, inputs, env in cases:
        task_name = next(n for n in templates if fnmatch.fnmatch(n, task_pattern))
        d = ex_dir / case
        d.mkdir()
        work = WORK / "execute" / case
        out_prefix = work / "out"
        raw_prefix = work / "raw"
        out_prefix.mkdir(parents=True)
        raw_prefix.mkdir(parents=True)
        inputs_pb = literal_map(inputs)
        write(d / "inputs.pb", pb_bytes(inputs_pb))
        write(d / "inputs.json", pb_json(inputs_pb))
        shutil.copyfile(d / "inputs.pb", work / "inputs.pb")
        subst = {
            "{{.input}}": str(work / "inputs.pb"),
            "{{.outputPrefix}}": str(out_prefix),
            "{{.rawOutputDataPrefix}}": str(raw_prefix),
            "{{.checkpointOutputPrefix}}": str(work / "checkpoint"),
            "{{.prevCheckpointPrefix}}": '""',
        }
        args = [subst.get(a, a) for a in templates[task_name]["args"]]
        cmd = [str(VENV_BIN / args[0]), *args[1:]]
        full_env = {
            "FLYTE_INTERNAL_EXECUTION_PROJECT": "flytesnacks",
            "FLYTE_INTERNAL_EXECUTION_DOMAIN": "development",
            "FLYTE_INTERNAL_EXECUTION_ID": "goldenexec",
            "FLYTE_INTERNAL_TASK_PROJECT": "flytesnacks",
            "FLYTE_INTERNAL_TASK_DOMAIN": "development",
            "FLYTE_INTERNAL_TASK_NAME": task_name,
            "FLYTE_INTERNAL_TASK_VERSION": "v1",
            "FLYTE_ATTEMPT_NUMBER": "0",
            # The container env of the template (e.g. _F_SS_C of a dynamic task), as on a cluster.
            **templates[task_name]["env"],
            **env,
        }
        p = run(cmd, cwd=project, env=full_env, check=False)
        produced = {
            str(f.relative_to(out_prefix)): f.stat().st_size
            for f in sorted(out_prefix.rglob("*"))
            if f.is_file()
        }
        rec = {
            "case": case,
            "task": task_name,
            "argv": [Path(cmd[0]).name, *[a.replace(str(work), "<work>") for a in cmd[1:]]],
            "env": env,
            "exit_code": p.returncode,
            "files_in_output_prefix": produced,  # name -> size in bytes
        }
        for fname, cls in (
            ("outputs.pb", literals_pb2.LiteralMap),
            ("error.pb", errors_pb2.ErrorDocument),
            ("futures.pb", dynamic_job_pb2.DynamicJobSpec),
        ):
            f = out_prefix / fname
            if f.exists():
                m = cls()
                m.ParseFromString(f.read_bytes())
                shutil.copyfile(f, d / fname)
                write(d / (fname[: -len(".pb")] + ".json"), pb_json(m))
                if fname == "error.pb":
                    e = m.error
                    rec["error"] = {
                        "code": e.code,
                        "kind": errors_pb2.ContainerError.Kind.Name(e.kind),
                        "origin": __import__("flyteidl.core.execution_pb2", fromlist=["x"]).ExecutionError.ErrorKind.Name(
                            e.origin
                        ),
                        "message_first_line": e.message.splitlines()[0] if e.message else "",
                        "timestamp_set": e.HasField("timestamp"),
                        "worker": e.worker,
                    }
        for extra in produced:
            if extra.endswith(".html"):
                rec.setdefault("html_files", []).append(extra)
        write(d / "case.json", json.dumps(rec, indent=2) + "\n")
        results.append(rec)
    return results


def main() -> None:
    import flytekit
    import google.protobuf
    import pandas
    import pyarrow
    from importlib.metadata import version

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    OUT.mkdir(parents=True, exist_ok=True)
    project = WORK / "project"
    for rel, text in PROJECT_FILES.items():
        write(project / rel, text.lstrip("\n"))

    make_literals()
    pkg = make_package(project)
    make_fast_package(project)
    make_execute(project, pkg["templates"])

    versions = {
        "flytekit": flytekit.__version__,
        "flyteidl": version("flyteidl"),
        "protobuf": google.protobuf.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "mashumaro": version("mashumaro"),
        "msgpack": version("msgpack"),
        "python": sys.version.split()[0],
        "image": IMAGE,
    }
    write(OUT / "versions.json", json.dumps(versions, indent=2) + "\n")
    shutil.rmtree(WORK, ignore_errors=True)
    print(f"goldens written under {OUT}")


if __name__ == "__main__":
    main()
