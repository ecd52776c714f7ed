"""Budgets (``--budget``): ``Budget.parse`` on arbitrary text and values; the only outcomes
are a budget of finite positive seconds and/or a positive number of updates, or a one-line
ConfigError; on the command line, exit 2 with one line and nothing written."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from metaplastic.training.budget import Budget

from tests.property._support import HUGE_DIGITS, NASTY_TEXT, check_cli, fast, outcome, py_values, run_cli

UNITS = ["s", "sec", "m", "min", "h", "S", "H", "updates", "update", "-updates", " updates", "-update", "", "ms",
         "d", "x"]
budget_text = st.one_of(
    st.text(max_size=16),
    st.sampled_from(NASTY_TEXT),
    st.tuples(st.sampled_from(["", " ", "-", "+", "0", "00", "1", "2.", ".5", "1.5", "1e3", HUGE_DIGITS, "9" * 400,
                               "\u0663", "\uff11"]),
              st.sampled_from(UNITS)).map("".join),
    st.tuples(st.integers(-5, 10**12), st.sampled_from(UNITS)).map(lambda t: f"{t[0]}{t[1]}"),
)


def _check(value: object) -> None:
    ok, b = outcome(Budget.parse, value)
    if ok:
        assert b.seconds is not None or b.updates is not None
        if b.seconds is not None:
            assert isinstance(b.seconds, float) and 0 < b.seconds < float("inf"), f"{value!r} parsed to {b}"
        if b.updates is not None:
            assert isinstance(b.updates, int) and not isinstance(b.updates, bool) and b.updates >= 1, \
                f"{value!r} parsed to {b}"


@fast(300)
@given(budget_text)
def test_budget_text(value: str) -> None:
    _check(value)


@fast(100)
@given(py_values)
def test_budget_values(value: object) -> None:
    _check(value)


@fast(30)
@given(budget_text)
def test_cli_budget(value: str) -> None:
    """``train --budget VALUE`` with a backend that does not train: exit 2, nothing written."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "run"
        code, stdout, err = run_cli(["train", "--backend", "random", "--tasks", "bandits", "--budget", value,
                                     "--out", out])
        check_cli(code, stdout, err, what=value)
        assert code == 2 and not out.exists()
