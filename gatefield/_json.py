"""One JSON encoder for every result the package writes.

:func:`encode` turns results into plain JSON values: a dataclass becomes the
dict of its fields (a field declared with ``metadata={"json": False}`` is left
out; a class may define ``to_json`` to choose its own shape), an
:class:`~gatefield.numerics.solution.Estimate` becomes ``{"mean", "stderr"}``,
an enum its value, arrays lists, a complex number ``[re, im]`` and every
non-finite float ``null``, so that the output is always valid JSON
(``json.dumps(..., allow_nan=False)`` holds).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math

import numpy as np

__all__ = ["encode", "dumps"]


def _number(x: float):
    return x if math.isfinite(x) else None


def encode(obj):
    """``obj`` as plain JSON values (see the module docstring)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, enum.Enum):
        return encode(obj.value)
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        return _number(float(obj))
    if isinstance(obj, (complex, np.complexfloating)):
        return [_number(float(obj.real)), _number(float(obj.imag))]
    if isinstance(obj, np.ndarray):
        return [encode(v) for v in obj.tolist()] if obj.ndim else encode(obj.item())
    if isinstance(obj, dict):
        return {str(k): encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [encode(v) for v in obj]
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        return encode(to_json())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.metadata.get("json", True)}
    return str(obj)


def dumps(obj, indent: int | None = 2) -> str:
    """``json.dumps`` of :func:`encode` (never NaN or Infinity tokens)."""
    return json.dumps(encode(obj), indent=indent, allow_nan=False)
