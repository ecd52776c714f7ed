"""What counts as success in an env's ``info``, once for both trial loops: ``info["success"]``
greater than 0 (Meta-World sets 0.0 or 1.0), in a batched env's info only where its mask
``info["_success"]`` is set.

Example:
    >>> success_flag({"success": 1.0}), success_flag({})
    (True, False)
    >>> success_flags({"success": [0.0, 1.0, 1.0], "_success": [True, True, False]}, 3).tolist()
    [False, True, False]
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["success_flag", "success_flags"]


def success_flag(info: Any) -> bool:
    """Whether one env's ``info`` (after a step) says success."""
    return isinstance(info, dict) and "success" in info and float(info["success"]) > 0


def success_flags(info: Any, n: int) -> np.ndarray:
    """``(n,)`` whether each lane of a batched env's ``info`` says success (all False when it
    has no ``"success"``)."""
    if not isinstance(info, dict) or "success" not in info:
        return np.zeros(n, dtype=bool)
    return (np.asarray(info["success"], dtype=float) > 0) & np.asarray(info.get("_success", True), dtype=bool)
