"""The hardware profiles shipped with metaplastic, as entry-point targets.

The JSON files in this folder are the profiles (the single source of truth). Each name
below is the path of one, and ``pyproject.toml`` registers it in the entry-point group
``metaplastic.profiles`` exactly as a lab's package registers its own chip's profile
(``loihi = "metaplastic.bench.profiles:loihi"``; see docs/profiles.md).

Example:
    >>> loihi.name
    'loihi.json'
    >>> from metaplastic.bench.energy import load_profile
    >>> p = load_profile("loihi")
    >>> p.source == str(loihi), p.provider
    (True, 'built-in')
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["cpu_45nm", "gpu_a100", "gpu_h100", "loihi", "truenorth"]

_HERE = Path(__file__).resolve().parent

cpu_45nm = _HERE / "cpu-45nm.json"
gpu_a100 = _HERE / "gpu-a100.json"
gpu_h100 = _HERE / "gpu-h100.json"
loihi = _HERE / "loihi.json"
truenorth = _HERE / "truenorth.json"
