"""The framed protocol between the host and a worker: numbers only, never pickles.

A frame is ``MAGIC`` (4 bytes), the length of a JSON header (4 bytes, big-endian), the
header, then the raw bytes of each array it lists. The header is a JSON object with an
``"op"`` string, an optional ``"meta"`` object of plain JSON values (numbers, strings,
lists) and ``"arrays"``: ``[[name, dtype, shape], ...]``; each array's bytes follow in
that order, C-contiguous, in the dtype named (a numpy dtype string of a bool, integer or
float type; object dtypes are refused). Runs on Python 3.10 with numpy < 2 and on the host.

Example:
    >>> import io, numpy as np
    >>> buf = io.BytesIO()
    >>> write_frame(buf, "step", {"x": np.arange(3.0)}, {"steps": 2})
    >>> _ = buf.seek(0)
    >>> op, arrays, meta = read_frame(buf)
    >>> op, arrays["x"].tolist(), meta
    ('step', [0.0, 1.0, 2.0], {'steps': 2})
"""

import json
import struct

import numpy as np

MAGIC = b"MPF1"
MAX_HEADER = 1 << 20            # bytes of JSON header a reader accepts
MAX_ARRAY = 1 << 31             # bytes of one array a reader accepts
KINDS = "biuf"                  # bool, signed, unsigned, float


class FrameError(Exception):
    """A malformed frame or a closed stream (one line)."""


def _read_exactly(stream, n):
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            raise FrameError(f"stream closed after {got} of {n} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_frame(stream, op, arrays=None, meta=None):
    """Write one frame (and flush)."""
    arrays = arrays or {}
    listed, blobs = [], []
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        if a.dtype.kind not in KINDS:
            raise FrameError(f"array {name!r} has dtype {a.dtype}; frames carry bool, int and float arrays only")
        listed.append([str(name), a.dtype.str, list(a.shape)])
        blobs.append(a.tobytes())
    header = json.dumps({"op": str(op), "meta": meta or {}, "arrays": listed}, allow_nan=False).encode()
    stream.write(b"".join([MAGIC, struct.pack(">I", len(header)), header, *blobs]))
    stream.flush()


def read_frame(stream):
    """``(op, arrays, meta)`` of the next frame; :class:`FrameError` on anything malformed."""
    head = _read_exactly(stream, 8)
    if head[:4] != MAGIC:
        raise FrameError(f"bad frame magic {head[:4]!r}")
    (size,) = struct.unpack(">I", head[4:])
    if size > MAX_HEADER:
        raise FrameError(f"frame header of {size} bytes exceeds {MAX_HEADER}")
    try:
        header = json.loads(_read_exactly(stream, size).decode())
        op, meta, listed = header["op"], header.get("meta", {}), header["arrays"]
    except (ValueError, KeyError, TypeError) as e:
        raise FrameError(f"bad frame header ({type(e).__name__})") from None
    if not isinstance(op, str) or not isinstance(meta, dict) or not isinstance(listed, list):
        raise FrameError("bad frame header (types)")
    arrays = {}
    for entry in listed:
        try:
            name, dtype, shape = entry
            dt = np.dtype(dtype)
            shape = tuple(int(s) for s in shape)
        except (ValueError, TypeError) as e:
            raise FrameError(f"bad array entry in frame header ({type(e).__name__})") from None
        if dt.kind not in KINDS or any(s < 0 for s in shape):
            raise FrameError(f"array {name!r}: dtype {dt} or shape {shape} not allowed")
        nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        if nbytes > MAX_ARRAY:
            raise FrameError(f"array {name!r} of {nbytes} bytes exceeds {MAX_ARRAY}")
        arrays[str(name)] = np.frombuffer(_read_exactly(stream, nbytes), dtype=dt).reshape(shape).copy()
    return op, arrays, meta
