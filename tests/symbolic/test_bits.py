"""Bit-packed fact tables: packing round-trips and the coverage kernel agrees with numpy."""

from __future__ import annotations

import numpy as np
import pytest

from metaplastic.symbolic.bits import coverage, mismatches, pack, unpack


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_pack_round_trip(n):
    bits = np.random.default_rng(n).random((7, n)) < 0.5
    assert np.array_equal(unpack(pack(bits), n), bits)


def test_coverage_and_mismatches_agree_with_numpy():
    rng = np.random.default_rng(0)
    table = rng.random((130, 70)) < 0.6
    must = rng.random((20, 70)) < 0.03
    must_not = (rng.random((20, 70)) < 0.03) & ~must
    want = np.all(table[None] >= must[:, None], axis=2) & ~np.any(table[None] & must_not[:, None], axis=2)
    got = coverage(pack(table), pack(must), pack(must_not))
    assert np.array_equal(unpack(got, 130), want)
    observed = rng.random(130) < 0.5
    assert np.array_equal(mismatches(got, pack(observed[None])[0]), (want != observed).sum(axis=1))
