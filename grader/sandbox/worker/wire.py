"""The one wire format between the trusted grader and the sandboxed worker.

Values: a *tagged value* is a JSON object whose reserved key ``"__dl__"`` names
the tag, plus exactly that tag's fields. Any other dict is plain data; a result
dict that itself holds ``"__dl__"`` is sent escaped as ``{"__dl__": "dict",
"items": [[k, v], ...]}``, so a student cannot forge a tag.

Frames (sockets and pipes the supervisor created): ``>II`` header length and
payload length, a JSON header, then the raw bytes of the arrays the header
lists under ``"payload"`` as ``[key, dtype, shape]`` (numeric and bool dtypes
only). Every size is checked against its cap before anything is allocated.
No pickle, no npz.
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

import numpy as np

from .instrument import EventLog

TAG = "__dl__"
PREFIX = struct.Struct(">II")
MAX_HEADER = 16 * 2**20
"""Largest JSON header of one frame."""
MAX_MESSAGE = 256 * 2**20
"""Largest frame (header + arrays)."""
MAX_JOB = 1024 * 2**20
"""Bytes one job may send in total."""
MAX_DEPTH = 32
MAX_ITEMS = 100_000
MAX_STR = 2**20
MAX_DIMS = 32
_DTYPE_KINDS = "biufc"

INPUT_TAGS = {"nd": ({"key"}, set()), "rng": ({"seed"}, set()), "seed": ({"value"}, set()),
              "tensor": ({"data"}, {"dtype", "requires_grad"}), "var": ({"path"}, set()),
              "sgd": ({"params"}, {"kwargs"}), "mse": (set(), {"kwargs"}),
              "data_file": ({"name"}, set()), "events": (set(), set()), "dict": ({"items"}, set())}
"""Tag -> (required fields, optional fields) of values sent to the worker."""
OUTPUT_TAGS = {"nd": ({"key"}, set()), "object": ({"type", "repr"}, set()), "events": ({"events"}, set()),
               "module": ({"type", "leaves", "params"}, set()), "dict": ({"items"}, set())}
"""Tag -> (required fields, optional fields) of values sent back by the worker."""


class WireError(ValueError):
    """A frame or a value breaks the wire format (or one of its caps)."""


@dataclass(frozen=True)
class Opaque:
    """A returned object that is not plain data (kept as its type name and repr)."""

    type: str
    repr: str


@dataclass(frozen=True)
class Events:
    """The instrumentation log of one case (training-loop items)."""

    events: tuple[dict, ...]

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]


def check_tag(value: dict, table: dict) -> str:
    """The tag of ``value``, after checking its fields against ``table``."""
    tag = value[TAG]
    if not isinstance(tag, str) or tag not in table:
        raise WireError(f"unknown tag {str(tag)[:40]!r}")
    need, may = table[tag]
    fields = set(value) - {TAG}
    if not need <= fields or not fields <= need | may:
        raise WireError(f"tag {tag!r} with fields {sorted(fields)[:10]} (expected {sorted(need | may)})")
    return tag


# ----------------------------------------------------------------------------
# frames


def _dtype(spec) -> np.dtype:
    try:
        dt = np.dtype(str(spec)[:16])
    except TypeError:
        raise WireError(f"unsupported dtype {str(spec)[:40]!r}") from None
    if dt.kind not in _DTYPE_KINDS or dt.fields is not None or dt.subdtype is not None:
        raise WireError(f"unsupported dtype {dt.str!r} (numbers and bool only)")
    return dt


def _layout(specs, payload_len: int) -> list[tuple[str, np.dtype, tuple, int]]:
    """Check the header's array list against the payload length, before any allocation."""
    if not isinstance(specs, list) or len(specs) > MAX_ITEMS:
        raise WireError("malformed array list")
    out, total = [], 0
    for spec in specs:
        if not (isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str)
                and isinstance(spec[2], list) and len(spec[2]) <= MAX_DIMS
                and all(type(n) is int and n >= 0 for n in spec[2])):
            raise WireError("malformed array description")
        dt = _dtype(spec[1])
        nbytes = math.prod(spec[2]) * dt.itemsize
        total += nbytes
        if total > payload_len:
            raise WireError("the arrays described are larger than the message")
        out.append((spec[0], dt, tuple(spec[2]), nbytes))
    if total != payload_len:
        raise WireError("the arrays described do not fill the message")
    return out


def encode_frame(header: dict, arrays: dict[str, np.ndarray] | None = None) -> bytes:
    """One frame: ``header`` (JSON) plus the raw bytes of ``arrays``."""
    arrays = arrays or {}
    blobs, specs = [], []
    for key, a in arrays.items():
        a = np.ascontiguousarray(a)
        _dtype(a.dtype.str)
        specs.append([key, a.dtype.str, list(a.shape)])
        blobs.append(a.tobytes())
    head = json.dumps({**header, "payload": specs}, allow_nan=True).encode()
    body = b"".join(blobs)
    if len(head) > MAX_HEADER or len(head) + len(body) > MAX_MESSAGE:
        raise WireError(f"message of {(len(head) + len(body)) >> 20} MiB exceeds the cap "
                        f"of {MAX_MESSAGE >> 20} MiB")
    return PREFIX.pack(len(head), len(body)) + head + body


class FrameReader:
    """Incremental, capped decoder of a byte stream of frames.

    ``feed`` bytes as they arrive and collect ``(header, arrays)`` from
    ``frames()``. The header length, the payload length and the arrays' sizes
    are checked against the caps before any buffer is allocated for them.
    """

    def __init__(self, max_message: int = MAX_MESSAGE, max_total: int = MAX_JOB, max_header: int = MAX_HEADER):
        self.max_message, self.max_total, self.max_header = max_message, max_total, max_header
        self.total = 0
        self._buf = bytearray()
        self._need: tuple[int, int] | None = None
        self._head: tuple[dict, list] | None = None
        self._ready: list[tuple[dict, dict]] = []

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        if self.total > self.max_total:
            raise WireError(f"the job sent more than {self.max_total >> 20} MiB in total")
        self._buf += data
        while self._parse_one():
            pass

    def wants(self) -> int:
        """How many bytes the frame being read still needs (at least 1)."""
        if self._need is None:
            return max(1, PREFIX.size - len(self._buf))
        hlen, plen = self._need
        return max(1, plen + (hlen if self._head is None else 0) - len(self._buf))

    def _parse_one(self) -> bool:
        if self._need is None:
            if len(self._buf) < PREFIX.size:
                return False
            hlen, plen = PREFIX.unpack_from(self._buf)
            if hlen > self.max_header:
                raise WireError(f"a message header of {hlen} bytes exceeds the cap of {self.max_header}")
            if hlen + plen > self.max_message:
                raise WireError(f"a message of {(hlen + plen) >> 20} MiB exceeds the cap of "
                                f"{self.max_message >> 20} MiB")
            if self.total - len(self._buf) + PREFIX.size + hlen + plen > self.max_total:
                raise WireError(f"the job sent more than {self.max_total >> 20} MiB in total")
            del self._buf[:PREFIX.size]
            self._need, self._head = (hlen, plen), None
        hlen, plen = self._need
        if self._head is None:
            if len(self._buf) < hlen:
                return False
            header = self._header(bytes(self._buf[:hlen]))
            self._head = (header, _layout(header.pop("payload", []), plen))  # sizes checked first
            del self._buf[:hlen]
        if len(self._buf) < plen:
            return False
        header, layout = self._head
        payload = bytes(self._buf[:plen])
        del self._buf[:plen]
        self._need = self._head = None
        arrays, off = {}, 0
        for key, dt, shape, nbytes in layout:
            arrays[key] = np.frombuffer(payload, dtype=dt, count=math.prod(shape), offset=off).reshape(shape).copy()
            off += nbytes
        self._ready.append((header, arrays))
        return True

    @staticmethod
    def _header(raw: bytes) -> dict:
        try:
            header = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise WireError(f"a message header is not valid JSON ({type(exc).__name__})") from None
        if not isinstance(header, dict):
            raise WireError("a message header is not a JSON object")
        return header

    def frames(self) -> list[tuple[dict, dict]]:
        out, self._ready = self._ready, []
        return out


def read_frame(fd_read, reader: FrameReader | None = None) -> tuple[dict, dict]:
    """Block until one whole frame arrived on ``fd_read(n) -> bytes`` (EOFError at the end)."""
    reader = reader or FrameReader()
    while True:
        ready = reader.frames()
        if ready:
            if len(ready) > 1:
                reader._ready = ready[1:]
            return ready[0]
        chunk = fd_read(min(reader.wants(), 2**20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        reader.feed(chunk)


# ----------------------------------------------------------------------------
# values: worker -> trusted


class Unencodable(Exception):
    """The value cannot be sent back as plain data."""


ENCODE_DEPTH = 8
ENCODE_ITEMS = 10_000


def encode(obj, arrays: dict, depth: int = 0):
    """Encode a returned ``obj`` as JSON-able data, arrays moved into ``arrays`` by key."""
    if depth > ENCODE_DEPTH:
        raise Unencodable("result nested too deeply")
    if obj is None:
        return None
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, str):
        if len(obj) > MAX_STR:
            raise Unencodable(f"a string of {len(obj)} characters")
        return str.__str__(obj)
    if isinstance(obj, int):
        return int(obj) if abs(obj) < 2**63 else float(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, np.generic):
        return encode(obj.item(), arrays, depth)
    if isinstance(obj, np.ndarray):
        return _array(obj, arrays)
    if isinstance(obj, EventLog):
        return {TAG: "events", "events": [_plain_event(e) for e in list(obj)[:1_000_000]]}
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(obj, torch.Tensor):
            return _array(obj.detach().cpu().resolve_conj().resolve_neg().numpy(), arrays)
        if isinstance(obj, torch.nn.Module):
            return _module(obj, arrays)
        if isinstance(obj, torch.Size):
            return [int(v) for v in obj]
    if isinstance(obj, (list, tuple)):
        if len(obj) > ENCODE_ITEMS:
            try:
                return _array(np.asarray(obj, dtype=float), arrays)
            except (TypeError, ValueError):
                raise Unencodable(f"a list of {len(obj)} items") from None
        return [encode(v, arrays, depth + 1) for v in list(obj)]
    if isinstance(obj, dict):
        items = [(str(k), encode(v, arrays, depth + 1)) for k, v in list(obj.items())[:ENCODE_ITEMS]]
        if any(k == TAG for k, _ in items):
            return {TAG: "dict", "items": [[k, v] for k, v in items]}
        return dict(items)
    return {TAG: "object", "type": str(type(obj).__name__)[:200], "repr": _safe_repr(obj)}


def _plain_event(e) -> dict:
    return {str(k): v for k, v in dict(e).items() if v is None or type(v) in (bool, int, float, str)}


def _array(a, arrays):
    a = np.asarray(a)
    if type(a) is not np.ndarray:
        a = np.array(a, copy=True).view(np.ndarray)
    if a.dtype.kind not in _DTYPE_KINDS or a.dtype.fields is not None:
        try:
            a = a.astype(float)
        except (TypeError, ValueError):
            raise Unencodable(f"an array of dtype {a.dtype} (numbers only)") from None
    key = f"a{len(arrays)}"
    arrays[key] = np.ascontiguousarray(a)
    return {TAG: "nd", "key": key}


def _module(mod, arrays):
    leaves = []
    for name, sub in mod.named_modules():
        if next(sub.children(), None) is None:  # a leaf (the root too, if it has no children)
            info = {"name": str(name), "type": type(sub).__name__}
            for pname in ("weight", "bias"):
                p = getattr(sub, pname, None)
                info[pname] = [int(n) for n in p.shape] if hasattr(p, "shape") else None
            leaves.append(info)
    params = {str(n): _array(p.detach().cpu().numpy(), arrays) for n, p in mod.named_parameters()}
    return {TAG: "module", "type": type(mod).__name__, "leaves": leaves, "params": params}


def _safe_repr(obj, limit=200):
    try:
        r = str(repr(obj))
    except BaseException as exc:  # noqa: BLE001 - a __repr__ that raises must not crash the worker
        r = f"<{type(obj).__name__} (repr raised {type(exc).__name__})>"
    return r[:limit]


# ----------------------------------------------------------------------------
# values: decoding on the trusted side


def decode_result(plain, arrays: dict[str, np.ndarray]):
    """Inverse of :func:`encode` on the trusted side: arrays in place, tags decoded.

    Raises :class:`WireError` for an unknown tag, unexpected fields, a missing
    array, or a value beyond the depth, item or string caps.
    """
    return _decode_out(plain, arrays, 0)


def _decode_out(v, arrays, depth):
    if depth > MAX_DEPTH:
        raise WireError("result nested too deeply")
    if v is None or type(v) in (bool, int, float):
        return v
    if type(v) is str:
        if len(v) > MAX_STR:
            raise WireError("a string in the result is too long")
        return v
    if type(v) is list:
        if len(v) > MAX_ITEMS:
            raise WireError("a list in the result is too long")
        return [_decode_out(x, arrays, depth + 1) for x in v]
    if type(v) is not dict:
        raise WireError(f"unexpected {type(v).__name__} in a result")
    if len(v) > MAX_ITEMS:
        raise WireError("a dict in the result is too long")
    if TAG not in v:
        return {_key(k): _decode_out(x, arrays, depth + 1) for k, x in v.items()}
    tag = check_tag(v, OUTPUT_TAGS)
    if tag == "nd":
        key = v["key"]
        if not isinstance(key, str) or key not in arrays:
            raise WireError(f"the result refers to an array {str(key)[:40]!r} it did not send")
        return arrays[key]
    if tag == "object":
        return Opaque(_short(v["type"], 200), _short(v["repr"], 2000))
    if tag == "events":
        evs = v["events"]
        if type(evs) is not list or len(evs) > 1_000_000:
            raise WireError("malformed event log")
        return Events(tuple(_event(e) for e in evs))
    if tag == "module":
        leaves = v["leaves"]
        if type(leaves) is not list or len(leaves) > MAX_ITEMS or type(v["params"]) is not dict:
            raise WireError("malformed module")
        return {"__module__": _short(v["type"], 200), "leaves": [_leaf(x) for x in leaves],
                "params": {_key(k): _decode_nd(p, arrays) for k, p in v["params"].items()}}
    items = v["items"]  # "dict": escaped plain data
    if type(items) is not list or len(items) > MAX_ITEMS:
        raise WireError("malformed escaped dict")
    out = {}
    for pair in items:
        if type(pair) is not list or len(pair) != 2:
            raise WireError("malformed escaped dict item")
        out[_key(pair[0])] = _decode_out(pair[1], arrays, depth + 1)
    return out


def _decode_nd(p, arrays):
    if type(p) is not dict or p.get(TAG) != "nd":
        raise WireError("a module parameter is not an array")
    return _decode_out(p, arrays, 0)


def _key(k):
    if type(k) is not str or len(k) > 10_000:
        raise WireError("a dict key in the result is not a short string")
    return k


def _short(s, n):
    if type(s) is not str:
        raise WireError("expected a string in the result")
    return s[:n]


def _event(e):
    if type(e) is not dict or len(e) > 64 or not all(type(k) is str and (x is None or type(x) in (bool, int, float, str))
                                                     for k, x in e.items()):
        raise WireError("malformed event")
    if type(e.get("kind")) is not str:
        raise WireError("an event without a kind")
    return dict(e)


def _leaf(x):
    if type(x) is not dict or set(x) - {"name", "type", "weight", "bias"}:
        raise WireError("malformed module leaf")
    for k in ("name", "type"):
        _short(x.get(k), 200)
    for k in ("weight", "bias"):
        w = x.get(k)
        if w is not None and not (type(w) is list and len(w) <= MAX_DIMS and all(type(n) is int for n in w)):
            raise WireError("malformed module leaf shape")
    return dict(x)


def array_keys(value, found: set | None = None) -> set:
    """Keys of every ``nd`` input referenced in ``value`` (a call)."""
    found = set() if found is None else found
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            if v.get(TAG) == "nd":
                found.add(v.get("key"))
            else:
                stack.extend(v.values())
    return found
