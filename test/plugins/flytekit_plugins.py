"""flytekit's side of the plugin interop tests (test/plugins/sqlite-flytekit.test.ts, container-task.test.ts).

Run with the Python that has flytekit 1.16 + pandas + pyarrow (see test/types/python-peer.ts):

  flytekit_plugins.py serialize <out.pb> <db uri> <compressed 0|1> <sd|schema>
      Writes the TaskTemplate of a flytekit SQLite3Task (flyteidl.core.TaskTemplate bytes):
      query "select id, name, score from t where id >= {{ .inputs.min }} and name != '{{.inputs.who}}'",
      inputs min: int, who: str; results typed Annotated[StructuredDataset, kwtypes(...)] (sd) or
      FlyteSchema[kwtypes(...)] (schema), columns id: int, name: str, score: float.
  flytekit_plugins.py execute-from-model <template.pb> <inputs json>
      Runs flytekit's SQLite3TaskExecutor().execute_from_model(template, **inputs) and prints the
      returned DataFrame as JSON records (flytekit's own prints go to stderr).
  flytekit_plugins.py read-results <outputs.pb> <template.pb>
      Reads output "results" of a LiteralMap with flytekit's type engine, typed by the template's
      interface, and prints the DataFrame as JSON records.
  flytekit_plugins.py serialize-container <out.pb>
      Writes the TaskTemplate of a flytekit ContainerTask ("ellipse_area": inputs a, b: float;
      outputs area: float, metadata: str; /var/inputs, /var/outputs, JSON metadata).
"""

import contextlib
import json
import sys
import typing

from flyteidl.core import literals_pb2, tasks_pb2


def _template(path):
    from flytekit.models.task import TaskTemplate

    proto = tasks_pb2.TaskTemplate()
    with open(path, "rb") as f:
        proto.ParseFromString(f.read())
    return TaskTemplate.from_flyte_idl(proto)


def _records(df):
    return df.to_json(orient="records")


def serialize(out, uri, compressed, variant):
    from collections import OrderedDict

    from flytekit import kwtypes
    from flytekit.configuration import Image, ImageConfig, SerializationSettings
    from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task
    from flytekit.tools.translator import get_serializable
    from flytekit.types.schema import FlyteSchema
    from flytekit.types.structured import StructuredDataset

    columns = kwtypes(id=int, name=str, score=float)
    output = (
        typing.Annotated[StructuredDataset, columns] if variant == "sd" else FlyteSchema[columns]
    )
    task = SQLite3Task(
        "flytekit_sqlite_" + variant,
        query_template="select id, name, score from t\n  where id >= {{ .inputs.min }} and name != '{{.inputs.who}}'",
        inputs=kwtypes(min=int, who=str),
        output_schema_type=output,
        task_config=SQLite3Config(uri=uri, compressed=compressed == "1"),
    )
    settings = SerializationSettings(
        image_config=ImageConfig(default_image=Image(name="default", fqn="ghcr.io/example/app", tag="v1"))
    )
    spec = get_serializable(OrderedDict(), settings, task)
    with open(out, "wb") as f:
        f.write(spec.template.to_flyte_idl().SerializeToString())


def execute_from_model(template_path, inputs_json):
    from flytekit.extras.sqlite3.task import SQLite3TaskExecutor

    tt = _template(template_path)
    inputs = json.loads(inputs_json)
    with contextlib.redirect_stdout(sys.stderr):
        df = SQLite3TaskExecutor().execute_from_model(tt, **inputs)
    print(_records(df))


def read_results(outputs_path, template_path):
    import pandas as pd
    from flytekit import FlyteContextManager
    from flytekit.core.type_engine import TypeEngine
    from flytekit.models.literals import LiteralMap
    from flytekit.types.schema import FlyteSchema

    tt = _template(template_path)
    lt = tt.interface.outputs["results"].type
    proto = literals_pb2.LiteralMap()
    with open(outputs_path, "rb") as f:
        proto.ParseFromString(f.read())
    lit = LiteralMap.from_flyte_idl(proto).literals["results"]
    ctx = FlyteContextManager.current_context()
    py_type = TypeEngine.guess_python_type(lt)
    with contextlib.redirect_stdout(sys.stderr):
        value = TypeEngine.to_python_value(ctx, lit, py_type)
        if isinstance(value, FlyteSchema):
            df = value.open().all()
        else:
            df = value.open(pd.DataFrame).all()
    print(_records(df))


def serialize_container(out):
    from collections import OrderedDict

    from flytekit import ContainerTask, kwtypes
    from flytekit.configuration import Image, ImageConfig, SerializationSettings
    from flytekit.tools.translator import get_serializable

    task = ContainerTask(
        name="ellipse_area",
        input_data_dir="/var/inputs",
        output_data_dir="/var/outputs",
        inputs=kwtypes(a=float, b=float),
        outputs=kwtypes(area=float, metadata=str),
        image="ghcr.io/flyteorg/rawcontainers-shell:v2",
        command=["./calculate-ellipse-area.sh", "{{.inputs.a}}", "{{.inputs.b}}", "/var/outputs"],
    )
    settings = SerializationSettings(
        image_config=ImageConfig(default_image=Image(name="default", fqn="ghcr.io/example/app", tag="v1"))
    )
    spec = get_serializable(OrderedDict(), settings, task)
    with open(out, "wb") as f:
        f.write(spec.template.to_flyte_idl().SerializeToString())


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {
        "serialize": serialize,
        "execute-from-model": execute_from_model,
        "read-results": read_results,
        "serialize-container": serialize_container,
    }[cmd](*args)
