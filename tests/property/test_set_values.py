"""``--set KEY=VALUE``: ``params.coerce`` against each built-in backend's ``config_params``,
and ``metaplastic.make(name, **{key: value})`` (building is lazy and cheap: nothing is
trained); the only outcomes are a learner or a one-line ConfigError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metaplastic
from metaplastic.core import Configurable
from metaplastic.params import Param, coerce

from tests.property._support import check_cli, fast, outcome, py_values, run_cli, texts

BUILTIN = sorted(i.name for i in metaplastic.backends() if i.available and i.distribution == "metaplastic")
REQUIRES = {i.name: i.capabilities.requires for i in metaplastic.backends() if i.capabilities is not None}


def _given(name: str) -> dict:
    """What a backend requires to be built (``capabilities.requires``): a small network for ``net``."""
    from metaplastic.spiking import SpikingNet

    values = {"net": SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=0.5, dv=0.5)}
    return {key: values[key] for key in REQUIRES.get(name, ())}


def _declared(name: str) -> tuple[Param, ...]:
    learner = metaplastic.make(name, **_given(name))
    assert isinstance(learner, Configurable), f"{name} declares no config_params"
    return tuple(learner.config_params)


DECLARED = {name: _declared(name) for name in BUILTIN}


def _keys(name: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([p.name for p in DECLARED[name]]), st.text(max_size=6),
                     st.sampled_from(["SEED", " seed", "seed ", "algo_", "__class__", "self"]))


@pytest.mark.parametrize("name", BUILTIN)
@fast(60)
@given(data=st.data())
def test_coerce_text_values(name: str, data) -> None:
    """What ``--set`` hands on: text."""
    key = data.draw(_keys(name), label="key")
    value = data.draw(texts, label="value")
    ok, got = outcome(coerce, f"backend {name}", DECLARED[name], {key: value})
    if ok:
        param = {p.name: p for p in DECLARED[name]}[key]
        assert isinstance(got[key], param.type), f"{key}={value!r} coerced to {got[key]!r}, not a {param.type.__name__}"


@pytest.mark.parametrize("name", BUILTIN)
@fast(40)
@given(data=st.data())
def test_make_with_one_value(name: str, data) -> None:
    """What a script passes to ``make``: any Python value."""
    key = data.draw(_keys(name), label="key")
    value = data.draw(py_values, label="value")
    outcome(metaplastic.make, name, **{**_given(name), key: value})


set_items = st.one_of(
    st.tuples(st.one_of(st.sampled_from(["seed", "name", "self", "algo", "ties", "epsilon", "c", "greedy", " seed"]),
                        st.text(max_size=6)),
              st.one_of(texts, st.text(max_size=8))).map("=".join),
    st.text(max_size=12),
)


@fast(60)
@given(set_items, st.sampled_from(["random", "greedy", "ucb1"]))
def test_cli_set(item: str, backend: str) -> None:
    """``train --set ITEM`` with a backend that does not train: exit 2 (a malformed item, an
    unknown key, a bad value, or no meta-training), one line, nothing written."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "run"
        code, stdout, err = run_cli(["train", "--backend", backend, "--tasks", "bandits", "--budget", "1",
                                     "--out", out, "--set", item])
        check_cli(code, stdout, err, what=item)
        assert code == 2 and not out.exists()
