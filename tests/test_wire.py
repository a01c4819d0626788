"""The wire format: framing caps, tagged values, escaping, legacy input forms."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox.worker import wire
from grader.sandbox.worker.wire import FrameReader, WireError, decode_result, encode, encode_frame


def _raw_frame(header: dict, payload: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    return wire.PREFIX.pack(len(head), len(payload)) + head + payload


def test_frames_round_trip_byte_by_byte():
    arrays = {"x": np.arange(6, dtype=np.int32).reshape(2, 3), "b": np.array([True, False]),
              "c": np.array([1 + 2j]), "e": np.zeros((0, 4))}
    data = encode_frame({"kind": "result", "n": 1.5}, arrays) + encode_frame({"kind": "end"})
    r = FrameReader()
    got = []
    for i in range(len(data)):
        r.feed(data[i:i + 1])
        got += r.frames()
    assert [h["kind"] for h, _ in got] == ["result", "end"] and got[0][0]["n"] == 1.5
    for k, a in arrays.items():
        assert got[0][1][k].dtype == a.dtype and np.array_equal(got[0][1][k], a)
    assert r.total == len(data)


def test_oversize_message_refused_from_its_prefix():
    frame = encode_frame({"kind": "result"}, {"a": np.zeros(1000)})
    r = FrameReader(max_message=4000)
    with pytest.raises(WireError, match="exceeds the cap"):
        r.feed(frame[:wire.PREFIX.size])  # refused before any of the body arrived
    with pytest.raises(WireError, match="header of"):
        FrameReader(max_header=10).feed(encode_frame({"kind": "x" * 100})[:wire.PREFIX.size])


def test_whole_job_cap():
    frame = encode_frame({"kind": "result"}, {"a": np.zeros(100)})
    r = FrameReader(max_total=2 * len(frame) + 10)
    r.feed(frame)
    r.feed(frame)
    assert len(r.frames()) == 2
    with pytest.raises(WireError, match="in total"):
        r.feed(frame[:wire.PREFIX.size])  # the third frame's declared size is over the job's cap


def test_array_header_lying_about_size_refused_before_allocation():
    # claims a 8 TB array in an 8-byte payload: refused as soon as the header is in
    lie = _raw_frame({"kind": "result", "payload": [["a", "<f8", [10**12]]]}, b"\0" * 8)
    head_end = len(lie) - 8
    r = FrameReader()
    with pytest.raises(WireError, match="larger than the message"):
        r.feed(lie[:head_end])
    short = _raw_frame({"kind": "result", "payload": [["a", "<f8", [2]]]}, b"\0" * 24)
    with pytest.raises(WireError, match="do not fill"):
        FrameReader().feed(short)


@pytest.mark.parametrize("dtype", ["|O", "|V8", "<U3", "|S4", "<M8[s]", "[('a', '<i4')]"])
def test_non_numeric_dtypes_refused(dtype):
    with pytest.raises(WireError, match="dtype"):
        FrameReader().feed(_raw_frame({"payload": [["a", dtype, [1]]]}, b"\0" * 8))


def test_object_arrays_are_not_encoded():
    with pytest.raises(WireError, match="dtype"):
        encode_frame({}, {"a": np.array([object()], dtype=object)})
    arrays: dict = {}
    with pytest.raises(wire.Unencodable, match="numbers only"):
        encode(np.array([object()], dtype=object), arrays)


def test_malformed_headers():
    with pytest.raises(WireError, match="not valid JSON"):
        FrameReader().feed(wire.PREFIX.pack(3, 0) + b"{x}")
    with pytest.raises(WireError, match="not a JSON object"):
        FrameReader().feed(wire.PREFIX.pack(2, 0) + b"[]")
    deep = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(WireError):
        FrameReader().feed(wire.PREFIX.pack(len(deep), 0) + deep)


@pytest.mark.parametrize("value, match", [
    ({"__dl__": "pickle", "data": "x"}, "unknown tag"),
    ({"__dl__": "nd", "key": "a0", "extra": 1}, "fields"),
    ({"__dl__": "nd"}, "fields"),
    ({"__dl__": "nd", "key": "nope"}, "did not send"),
    ({"__dl__": "object", "type": 3, "repr": "x"}, "string"),
    ({"__dl__": "events", "events": [{"kind": "step", "x": [1]}]}, "malformed event"),
    ({"__dl__": "dict", "items": [["a"]]}, "escaped dict item"),
    ({"__dl__": "module", "type": "M", "leaves": [], "params": {"w": [1]}}, "not an array"),
    ({"__dl__": 7}, "unknown tag"),
], ids=["unknown", "extra-field", "missing-field", "missing-array", "bad-type", "bad-event", "bad-escape",
        "bad-param", "non-str-tag"])
def test_unknown_or_forged_tags_refused(value, match):
    with pytest.raises(WireError, match=match):
        decode_result({"outer": [value]}, {"a0": np.zeros(2)})


def test_student_dict_with_the_tag_key_round_trips_as_plain_data():
    student = {"__dl__": "nd", "key": "a0", "nested": {"__dl__": "object", "type": "x", "repr": "y"}}
    arrays: dict = {}
    plain = encode(student, arrays)
    assert plain["__dl__"] == "dict" and arrays == {}
    frame = encode_frame({"value": plain}, arrays)
    r = FrameReader()
    r.feed(frame)
    (header, got_arrays), = r.frames()
    assert decode_result(header["value"], got_arrays) == student


def test_tagged_outputs_decode():
    from grader.sandbox.worker import EventLog

    log = EventLog()
    log.add("zero_grad")
    log.add("step", fresh=True)
    arrays: dict = {}
    plain = encode({"a": np.arange(3.0), "o": object, "ev": log, "t": (1, np.float32(2.5))}, arrays)
    got = decode_result(json.loads(json.dumps(plain)), arrays)
    assert np.array_equal(got["a"], [0, 1, 2]) and got["t"] == [1, 2.5]
    assert got["o"] == wire.Opaque("type", repr(object)) and got["ev"].kinds() == ["zero_grad", "step"]


def test_depth_cap():
    v = 1
    for _ in range(wire.MAX_DEPTH + 5):
        v = [v]
    with pytest.raises(WireError, match="nested too deeply"):
        decode_result(v, {})


plain_data = st.recursive(
    st.none() | st.booleans() | st.integers(-2**62, 2**62) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(["__dl__", "a", "key", "b"]) | st.text(max_size=5),
                                                              kids, max_size=4),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(plain_data)
def test_plain_data_round_trips(value):
    arrays: dict = {}
    plain = encode(value, arrays)
    assert decode_result(json.loads(json.dumps(plain)), arrays) == value


def test_plan_emits_the_tagged_forms():
    """The rubric's typed values become wire tags in the plan; a plain dict with type-key names stays plain."""
    from grader.pipeline.plan import encode_inputs, materialise_steps

    steps = [{"torch_seed": 1},
             {"let": "o", "call": "f", "args": [{"array": [1.0, 2.0]}, {"rng": 5}, {"seed": 3},
                                                {"tensor": [1, 2], "requires_grad": True},
                                                {"data_file": "m.npz"}, {"events": True},
                                                {"dict": {"seed": 1, "lr": 0.1}}, {"__dl__": "exec"}],
              "kwargs": {"opt": {"sgd": {"params": {"var": "m.w"}, "lr": 0.1}}, "loss": {"mse": None}}}]
    arrays: dict = {}
    new = encode_inputs(materialise_steps(steps, {}, seed_offset=10), arrays)
    args = new[1]["args"]
    assert args[0] == {"__dl__": "nd", "key": "i0"} and np.array_equal(arrays["i0"], [1.0, 2.0])
    assert args[1:6] == [{"__dl__": "rng", "seed": 15}, {"__dl__": "seed", "value": 13},
                         {"__dl__": "tensor", "data": [1, 2], "dtype": "float32", "requires_grad": True},
                         {"__dl__": "data_file", "name": "m.npz"}, {"__dl__": "events"}]
    assert args[6] == {"seed": 1, "lr": 0.1}  # plain: the worker never reads it as a seed
    assert args[7] == {"__dl__": "dict", "items": [["__dl__", "exec"]]}  # escaped, never a tag
    assert new[1]["kwargs"] == {"opt": {"__dl__": "sgd", "params": {"__dl__": "var", "path": "m.w"},
                                        "kwargs": {"lr": 0.1}},
                                "loss": {"__dl__": "mse", "kwargs": {}}}
    assert new[0] == {"torch_seed": 11} and wire.array_keys(new) == {"i0"}
    from grader.sandbox.worker import interpreter

    ctx = {"namespace": {"f": lambda *a, **k: a}, "arrays": arrays}
    got = interpreter.run_case({"steps": [{"let": "o", "call": "f", "args": args[6:]}], "returns": "o"}, ctx)
    assert got == ({"seed": 1, "lr": 0.1}, {"__dl__": "exec"})


def test_worker_decoder_refuses_legacy_and_unknown_input_tags():
    from grader.sandbox.worker import interpreter

    ctx = {"namespace": {"f": lambda x: x}, "arrays": {"a": np.ones(2)}}
    case = {"steps": [{"let": "o", "call": "f", "args": [{"__dl__": "nd", "key": "a"}]}], "returns": "o"}
    assert np.array_equal(interpreter.run_case(case, ctx), [1, 1])
    legacy = {"steps": [{"let": "o", "call": "f", "args": [{"rng": 5}]}], "returns": "o"}
    assert interpreter.run_case(legacy, ctx) == {"rng": 5}  # plain data to the worker, never an object
    with pytest.raises(WireError, match="unknown tag"):
        interpreter.run_case({"steps": [{"call": "f", "args": [{"__dl__": "exec", "src": "1"}]}]}, ctx)


def test_worker_fingerprint_covers_every_file(tmp_path, monkeypatch):
    import shutil

    import grader.sandbox as sandbox
    from grader.sandbox import isolation

    fp = sandbox.worker_fingerprint()
    assert len(fp) == 64 and fp == sandbox.worker_fingerprint()
    copy = tmp_path / "worker"
    shutil.copytree(isolation.WORKER_PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sandbox, "WORKER_PACKAGE", copy)
    assert sandbox.worker_fingerprint() == fp
    (copy / "instrument.py").write_text((copy / "instrument.py").read_text() + "\n# changed\n")
    assert sandbox.worker_fingerprint() != fp
