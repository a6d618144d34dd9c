"""The conversion round trip the literal benches time, as a flytekit task's inputs take it:
values -> LiteralMap (TypeEngine.dict_to_literal_map) -> protobuf bytes (SerializeToString),
then bytes -> LiteralMap (FromString, from_flyte_idl) -> values (TypeEngine.literal_map_to_kwargs).
Each step is timed on its own."""

from flyteidl.core import literals_pb2
from flytekit.core.context_manager import FlyteContextManager
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import LiteralMap

from _report import timed


def round_trip(types, values):
    """(timings in ms, values read back) of one round trip of values through types."""
    ctx = FlyteContextManager.current_context()
    to_literal_ms, lm, to_literal_cpu = timed(lambda: TypeEngine.dict_to_literal_map(ctx, values, types))
    encode_ms, data, encode_cpu = timed(lambda: lm.to_flyte_idl().SerializeToString())
    decode_ms, decoded, decode_cpu = timed(lambda: LiteralMap.from_flyte_idl(literals_pb2.LiteralMap.FromString(data)))
    from_literal_ms, back, from_literal_cpu = timed(lambda: TypeEngine.literal_map_to_kwargs(ctx, decoded, types))
    timings = {
        "toLiteralMs": to_literal_ms,
        "encodeMs": encode_ms,
        "decodeMs": decode_ms,
        "fromLiteralMs": from_literal_ms,
        "toMs": to_literal_ms + encode_ms,
        "fromMs": decode_ms + from_literal_ms,
        "toCpuMs": to_literal_cpu + encode_cpu,
        "fromCpuMs": decode_cpu + from_literal_cpu,
    }
    return timings, back, len(data)
