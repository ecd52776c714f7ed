"""Hardware profiles: ``bench.energy.load_profile`` on arbitrary JSON, on a built-in profile
with one value changed, removed or added, on non-JSON bytes, and on arbitrary names; the
only outcomes are a profile whose amounts are finite and non-negative, or a one-line
ConfigError."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from metaplastic.bench.energy import PROFILE_DIR, builtin_profiles, load_profile

from tests.property._support import NASTY_TEXT, dumps, fast, mutated_bytes, mutated_json, outcome, scratch

BUILTIN = {name: json.loads((PROFILE_DIR / f"{name}.json").read_text()) for name in builtin_profiles()}
KEYS = sorted({k for doc in BUILTIN.values() for k in doc} | {"energy_per_op_j", "notes", "citations"})

contents = st.tuples(st.sampled_from(sorted(BUILTIN)), st.sampled_from(["json", "bytes"])).flatmap(
    lambda t: mutated_json(BUILTIN[t[0]], KEYS).map(dumps) if t[1] == "json" else mutated_bytes(dumps(BUILTIN[t[0]])))


def _check(ok: bool, profile) -> None:
    if ok:
        for op, joules in profile.energy_per_op_j.items():
            assert joules is None or (isinstance(joules, float) and math.isfinite(joules) and joules >= 0), (op, joules)
        assert profile.idle_power_w is None or (math.isfinite(profile.idle_power_w) and profile.idle_power_w >= 0)
        assert profile.applies_to in ("all", "spiking")
        assert all(isinstance(c, str) for c in profile.citations)


@fast(300)
@given(contents)
def test_profile_file(content: bytes) -> None:
    with scratch() as d:
        path = d / "profile.json"
        path.write_bytes(content)
        _check(*outcome(load_profile, path))
        _check(*outcome(load_profile, str(path)))


@fast(100)
@given(st.one_of(st.text(max_size=20), st.sampled_from(NASTY_TEXT), st.sampled_from(sorted(BUILTIN)),
                 st.text(max_size=10).map(lambda s: s + ".json")))
def test_profile_name(name: str) -> None:
    """A built-in name, or a path that does not exist or is not a profile."""
    _check(*outcome(load_profile, name))
