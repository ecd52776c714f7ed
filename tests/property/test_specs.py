"""Task specs (``name:key=value,...``): ``params.parse_spec`` and ``metaplastic.make_tasks``
on arbitrary text and on near-valid specs of every family ``metaplastic tasks --json``
lists; the only outcomes are a distribution or a one-line ConfigError. A built
distribution is not sampled (a valid ``mdp:n_states=1000,n_actions=1000`` would allocate
gigabytes: resource limits are Must 8)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

import metaplastic
from metaplastic.errors import ConfigError
from metaplastic.params import format_spec, parse_spec

from tests.property._support import NASTY_TEXT, check_cli, fast, outcome, py_values, run_cli, texts


def _families() -> dict[str, list[str]]:
    code, out, err = run_cli(["tasks", "--json"])
    assert code == 0, err
    return {t["name"]: [p["name"] for p in t.get("params", [])] for t in json.loads(out)["tasks"] if t["available"]}


FAMILIES = _families()
spec_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(NASTY_TEXT),
    st.text(alphabet="abk=,:nd 0129.-_eé", max_size=30),
    st.lists(st.sampled_from([*FAMILIES, ":", ",", "=", "k", "n", "5", " ", "-1", "1e9", "nan"]), max_size=8).map("".join),
)


@fast(300)
@given(spec_text)
def test_parse_spec_arbitrary_text(spec: str) -> None:
    ok, got = outcome(parse_spec, spec)
    if ok:
        name, values = got
        assert isinstance(name, str) and name and all(isinstance(v, str) and v for v in values.values())
        assert parse_spec(format_spec(name, values)) == (name, values), "format_spec does not invert parse_spec"


@fast(40)
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=8), st.lists(st.text(max_size=3), max_size=2)))
def test_parse_spec_not_a_string(spec: object) -> None:
    ok, _ = outcome(parse_spec, spec)
    assert not ok


@fast(200)
@given(spec_text)
def test_make_tasks_arbitrary_text(spec: str) -> None:
    outcome(metaplastic.make_tasks, spec)


@st.composite
def near_valid_specs(draw) -> str:
    """A family's name with some of its declared keys (and a stranger now and then), each
    given a hostile value."""
    family = draw(st.sampled_from(sorted(FAMILIES)))
    declared = FAMILIES[family]
    keys = draw(st.lists(st.one_of(st.sampled_from(declared or ["k"]), st.sampled_from(["K", "x", "n_", "_", "é"])),
                         max_size=4, unique=True))
    items = [f"{k}={draw(texts)}" for k in keys]
    sep = draw(st.sampled_from([",", ", ", " , "]))
    return family + (":" + sep.join(items) if items else draw(st.sampled_from(["", ":", " "])))


@fast(300)
@given(near_valid_specs())
def test_make_tasks_near_valid_specs(spec: str) -> None:
    ok, got = outcome(metaplastic.make_tasks, spec)
    if ok:
        assert got.name in FAMILIES


@fast(200)
@given(st.sampled_from(sorted(FAMILIES)), st.data())
def test_make_tasks_keyword_values(family: str, data) -> None:
    """Parameters passed as Python values (what a script passes): any type, any size."""
    key = data.draw(st.sampled_from(FAMILIES[family] or ["k"]), label="key")
    value = data.draw(py_values, label="value")
    outcome(metaplastic.make_tasks, family, **{key: value})


@fast(40)
@given(near_valid_specs())
def test_cli_task_spec(spec: str) -> None:
    """On the command line (``train --backend random``: the spec is checked, then refused
    because random does not train): exit 2, one line, nothing written."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "run"
        code, stdout, err = run_cli(["train", "--backend", "random", "--tasks", spec, "--budget", "1", "--out", out])
        check_cli(code, stdout, err, what=spec)
        assert code == 2
        assert not out.exists(), f"a refused train command wrote {out}"


def test_spec_errors_are_config_errors() -> None:
    """The error type callers may catch."""
    for bad in ("", ":", "bandits:", "bandits:k", "bandits:k=1,k=2", "9x"):
        ok, err = outcome(parse_spec, bad)
        assert not ok and isinstance(err, ConfigError)
