"""Reads the initializers (the trained weights) of an exported text-lm model.onnx without the
`onnx` package: a minimal protobuf reader for ModelProto.graph.initializer (float32 and
int64 tensors, raw_data or packed fields). Used to re-export a shipped pack's graph in a new
layout from the very same weights (reexport.py), with no retraining."""
from __future__ import annotations

import struct

import numpy as np


def _varint(b: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if not c & 0x80:
            return result, i
        shift += 7


def _fields(b: bytes):
    """(field number, wire type, value) for each field of one message; value is an int for
    varints, bytes for length-delimited fields."""
    i, n = 0, len(b)
    while i < n:
        key, i = _varint(b, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
        elif wire == 1:
            v, i = b[i:i + 8], i + 8
        elif wire == 2:
            ln, i = _varint(b, i)
            v, i = b[i:i + ln], i + ln
        elif wire == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError(f"protobuf wire type {wire} not supported")
        yield field, wire, v


def _packed_varints(b: bytes) -> list[int]:
    out, i = [], 0
    while i < len(b):
        v, i = _varint(b, i)
        out.append(v)
    return out


def _tensor(b: bytes) -> tuple[str, np.ndarray]:
    dims: list[int] = []
    dtype, name, raw = 1, "", None
    floats: list[float] = []
    ints: list[int] = []
    for f, w, v in _fields(b):
        if f == 1:
            dims += _packed_varints(v) if w == 2 else [v]
        elif f == 2:
            dtype = v
        elif f == 8:
            name = v.decode()
        elif f == 9:
            raw = v
        elif f == 4:
            floats += list(struct.unpack(f"<{len(v)//4}f", v)) if w == 2 else [struct.unpack("<f", v)[0]]
        elif f == 7:
            ints += _packed_varints(v) if w == 2 else [v]
    np_type = {1: np.float32, 7: np.int64, 6: np.int32}.get(dtype)
    if np_type is None:
        raise ValueError(f"initializer {name}: data type {dtype} not supported")
    if raw is not None:
        arr = np.frombuffer(raw, dtype=np_type).copy()
    elif dtype == 1:
        arr = np.array(floats, dtype=np.float32)
    else:
        arr = np.array([(x - (1 << 64)) if x >= 1 << 63 else x for x in ints], dtype=np_type)
    return name, arr.reshape(dims)


def read_initializers(path: str) -> dict[str, np.ndarray]:
    data = open(path, "rb").read()
    graph = next(v for f, _, v in _fields(data) if f == 7)
    return dict(_tensor(v) for f, _, v in _fields(graph) if f == 5)


if __name__ == "__main__":
    import sys
    for k, v in read_initializers(sys.argv[1]).items():
        print(k, v.dtype, list(v.shape))
