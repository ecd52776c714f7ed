"""Hardware profiles as plugins: the built-in profiles and a lab's package register through
the entry-point group ``metaplastic.profiles``; ``metaplastic profiles`` lists them with
their citations; malformed profiles are one-line errors (exit 2) naming the field or the
plugin. Also: ``metaplastic[all]`` brings every optional feature, and a report written
without matplotlib says which extra brings the plots."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from metaplastic.bench import plots
from metaplastic.bench.energy import (PRICED_OPS, PROFILE_DIR, PROFILES, TALLIES, builtin_profiles, installed_profiles,
                                      load_profile)
from metaplastic.core import OpCounts
from metaplastic.errors import ConfigError

from tests.bench._cli import assert_one_line_exit_2, cli
from tests.conftest import write_distribution

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ("cpu-45nm", "gpu-a100", "gpu-h100", "loihi", "truenorth")
DIST = "metaplastic-chipco"

# the module a lab's package would ship: its profile as a dict, a function, a JSON file; and
# the mistakes a plugin can make
PLUGIN_MODULE = textwrap.dedent('''
    import json
    from pathlib import Path

    _OPS = {"macs": 1e-12, "acs": 1e-13, "synaptic_events": 2e-12, "neuron_updates": 3e-12, "synaptic_updates": 4e-12,
            "trace_updates": 0.0, "mem_bytes": 0.0, "spikes": 0.0, "bit_ops": None}

    def _profile(name, **change):
        doc = {"name": name, "description": "ChipCo N1 at 0.8 V", "applies_to": "spiking",
               "energy_per_op_j": dict(_OPS), "notes": {"bit_ops": "no word logic on the cores"},
               "idle_power_w": None, "citations": ["ChipCo N1 datasheet, rev. 2 (2026)"]}
        doc.update(change)
        return doc

    chipco_n1 = _profile("chipco-n1")

    def chipco_fn():
        return _profile("chipco-fn")

    chipco_file = Path(__file__).with_name("chipco-file.json")
    chipco_file.write_text(json.dumps(_profile("chipco-file")))

    bad_citations = {k: v for k, v in _profile("bad-citations").items() if k != "citations"}
    bad_negative = _profile("bad-negative", energy_per_op_j={**_OPS, "macs": -1e-12})
    bad_op = _profile("bad-op", energy_per_op_j={**_OPS, "flops": 1e-12})
    bad_type = _profile("bad-type", applies_to=["spiking"])
    bad_name = _profile("somebody-else")
    not_a_profile = 42

    def raises():
        raise RuntimeError("the calibration table is missing")
''')

GOOD = {"chipco-n1": "chipco_profiles:chipco_n1", "chipco-fn": "chipco_profiles:chipco_fn",
        "chipco-file": "chipco_profiles:chipco_file"}
BAD = {  # entry-point name -> (target, what the one-line error must say)
    "bad-citations": ("chipco_profiles:bad_citations", "lacks citations"),
    "bad-negative": ("chipco_profiles:bad_negative", "energy_per_op_j.macs must be a non-negative number"),
    "bad-op": ("chipco_profiles:bad_op", "unknown operation 'flops'"),
    "bad-type": ("chipco_profiles:bad_type", "applies_to must be 'all' or 'spiking'"),
    "bad-name": ("chipco_profiles:bad_name", "make the entry-point name and the profile's name equal"),
    "bad-object": ("chipco_profiles:not_a_profile", "gives an object of type 'int'"),
    "bad-function": ("chipco_profiles:raises", "RuntimeError: the calibration table is missing"),
    "bad-import": ("chipco_missing_module:profile", "cannot be loaded: import failed"),
}


@pytest.fixture
def profile_site(plugin_site):
    """``plugin_site`` plus a lab's package, ``metaplastic-chipco``, registering profiles."""
    (plugin_site / "chipco_profiles.py").write_text(PLUGIN_MODULE)
    eps = {**GOOD, **{k: v[0] for k, v in BAD.items()}}
    write_distribution(plugin_site, DIST, "0.2.0", {"metaplastic.profiles": eps})
    importlib.invalidate_caches()
    PROFILES.refresh()
    yield plugin_site
    sys.modules.pop("chipco_profiles", None)
    PROFILES.refresh()


# -- the built-in profiles go through the entry points ---------------------------------------------
def test_builtins_resolve_through_entry_points():
    assert builtin_profiles() == sorted(BUILTIN)
    for name in BUILTIN:
        info = PROFILES.info(name)
        assert info.available and info.distribution == "metaplastic"
        assert info.target.startswith("metaplastic.bench.profiles:")
        p = load_profile(name)
        assert p.provider == "built-in" and p.name == name
        assert Path(p.source) == (PROFILE_DIR / f"{name}.json").resolve()  # the JSON file is the profile
    # every shipped JSON file is registered, and nothing else
    assert sorted(f.stem for f in PROFILE_DIR.glob("*.json")) == builtin_profiles()


def test_priced_operations_and_tallies_are_every_opcounts_field():
    fields = [f.name for f in dataclasses.fields(OpCounts)]
    assert sorted(PRICED_OPS + TALLIES) == sorted(fields)
    assert not set(PRICED_OPS) & set(TALLIES)


def test_docs_list_every_priced_operation_and_key():
    doc = (ROOT / "docs" / "profiles.md").read_text()
    for op in PRICED_OPS + TALLIES:
        assert f"`{op}`" in doc, op
    from metaplastic.bench.energy import _KEYS

    for key in _KEYS:
        assert f"`{key}`" in doc, key


def test_the_documented_example_is_a_valid_profile(tmp_path):
    doc = (ROOT / "docs" / "profiles.md").read_text()
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.json").write_text(example)
    p = load_profile(tmp_path / "example.json")
    assert p.name == "chipco-n1" and p.provider == "file" and p.energy_per_op_j["bit_ops"] is None


# -- a lab's package -------------------------------------------------------------------------------
def test_plugin_profiles_resolve(profile_site):
    assert set(GOOD) | set(BAD) | set(BUILTIN) <= set(installed_profiles())
    assert builtin_profiles() == sorted(BUILTIN)  # a plugin's profiles are not built-in
    for name in GOOD:
        p = load_profile(name)
        assert p.name == name and p.provider == f"plugin {DIST} 0.2.0"
        assert p.applies_to == "spiking" and p.citations == ["ChipCo N1 datasheet, rev. 2 (2026)"]
        assert p.energy_per_op_j["macs"] == 1e-12 and p.energy_per_op_j["bit_ops"] is None
    assert load_profile("chipco-file").source.endswith("chipco-file.json")
    assert load_profile("chipco-n1").source == "chipco_profiles:chipco_n1"


@pytest.mark.parametrize("name", sorted(BAD))
def test_broken_plugin_profiles_are_one_line_errors_naming_the_plugin(profile_site, name):
    with pytest.raises(ConfigError) as e:
        load_profile(name)
    msg = str(e.value)
    assert BAD[name][1] in msg and DIST in msg and repr(name) in msg, msg
    assert "\n" not in msg and len(msg) < 600
    assert_one_line_exit_2(*cli("profiles", name), BAD[name][1], DIST)


def test_profiles_json_lists_plugins_with_citations_and_broken_ones_apart(profile_site):
    code, out, err = cli("profiles", "--json")
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)["profiles"]}
    assert rows["loihi"]["source"] == "built-in" and rows["loihi"]["citations"]
    n1 = rows["chipco-n1"]
    assert n1["available"] and n1["source"] == f"plugin {DIST} 0.2.0" and n1["applies_to"] == "spiking"
    assert n1["citations"] == ["ChipCo N1 datasheet, rev. 2 (2026)"] and n1["error"] is None
    bad = rows["bad-citations"]
    assert not bad["available"] and "lacks citations" in bad["error"] and bad["source"] == f"plugin {DIST} 0.2.0"
    code, out, err = cli("profiles")  # the table: every row, the broken ones with their error
    assert code == 0, err
    assert "chipco-n1" in out and "ChipCo N1 datasheet" in out and "bad-citations" in out


def test_a_fresh_process_finds_the_plugin_profile(profile_site):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(profile_site), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "metaplastic", "profiles", "chipco-n1", "loihi", "--json"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["profiles"]
    assert [(r["name"], r["source"]) for r in rows] == [("chipco-n1", f"plugin {DIST} 0.2.0"), ("loihi", "built-in")]


# -- profile files: the schema, one line per violation -----------------------------------------------
def _cpu() -> dict:
    return json.loads((PROFILE_DIR / "cpu-45nm.json").read_text())


def _without(doc: dict, key: str) -> dict:
    return {k: v for k, v in doc.items() if k != key}


@pytest.mark.parametrize("doc, needle", [
    (_without(_cpu(), "citations"), "lacks citations"),
    ({**_cpu(), "citations": []}, "citations is empty"),
    ({**_cpu(), "citations": ["a paper", 3]}, "citations[1] must be a non-empty string"),
    ({**_cpu(), "energy_per_op_j": {**_cpu()["energy_per_op_j"], "macs": -4.6e-12}},
     "energy_per_op_j.macs must be a non-negative number of joules or null"),
    ({**_cpu(), "energy_per_op_j": {**_cpu()["energy_per_op_j"], "flops": 1e-12}}, "unknown operation 'flops'"),
    ({**_cpu(), "energy_per_op_j": {**_cpu()["energy_per_op_j"], "decisions": 1e-12}}, "is a tally, never priced"),
    ({**_cpu(), "energy_per_op_j": {**_cpu()["energy_per_op_j"], "macs": "4.6 pJ"}}, "energy_per_op_j.macs must be"),
    ({**_cpu(), "idle_power_w": "10 W"}, "idle_power_w must be a non-negative number of watts"),
    ({**_cpu(), "applies_to": 1}, "applies_to must be 'all' or 'spiking'"),
    ({**_cpu(), "name": 7}, "name must be a string"),
    ({**_cpu(), "name": "two\nlines"}, "name must be a string"),
    ({**_cpu(), "name": "trailing-newline\n"}, "name must be a string"),
    ({**_cpu(), "description": ["x"]}, "description must be a string or null"),
    ({**_cpu(), "measured_on": 1}, "measured_on must be a string or null"),
    ({**_cpu(), "notes": {"flops": "x"}}, "no priced operation"),
    ({**_cpu(), "notes": {"macs": 1}}, "notes.macs must be a string (or null: no note)"),
    ({**_cpu(), "idle_power": 10.0}, "unknown key 'idle_power' (did you mean 'idle_power_w'?)"),
    ([_cpu()], "a profile is a JSON object"),
    ({**_cpu(), "time_model": 2e-5}, "time_model must be an object"),
    ({**_cpu(), "time_model": {"source": "x", "seconds_per_decison": 1e-6}}, "unknown key 'seconds_per_decison' in time_model"),
    ({**_cpu(), "time_model": {"source": "x", "seconds_per_decision": -1}}, "time_model.seconds_per_decision must be"),
    ({**_cpu(), "time_model": {"source": "x", "seconds_per_op": {"flops": 1e-9}}}, "unknown operation 'flops' in time_model"),
    ({**_cpu(), "time_model": {"source": "x", "seconds_per_op": {"macs": "1 ns"}}}, "time_model.seconds_per_op.macs must be"),
    ({**_cpu(), "time_model": {"source": "x", "bound": "upper"}}, "time_model.bound must be 'lower' or 'estimate'"),
    ({**_cpu(), "time_model": {"seconds_per_decision": 1e-6}}, "time_model.source must cite"),
])
def test_schema_violations_are_one_line_errors_from_the_cli(tmp_path, doc, needle):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=None) as e:
        load_profile(path)
    assert needle in str(e.value) and "\n" not in str(e.value)
    assert_one_line_exit_2(*cli("profiles", str(path)), needle, "mine.json")


def test_a_valid_file_is_listed_as_a_file_and_comments_are_allowed(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({**_cpu(), "name": "my-cpu", "_comment": "measured on our cluster", "description": None,
                                "notes": {"macs": None, "acs": "free"}}))
    p = load_profile(path)
    assert p.description == "" and p.notes == {"acs": "free"} and p.time_per_decision == "measured"
    code, out, err = cli("profiles", str(path), "--json")
    assert code == 0, err
    [row] = json.loads(out)["profiles"]
    assert row["name"] == "my-cpu" and row["source"] == "file" and row["location"] == str(path)


def test_a_path_without_suffix_names_a_profile():
    assert load_profile(Path("loihi")).provider == "built-in"


def test_unknown_names_suggest_and_list_the_installed():
    assert_one_line_exit_2(*cli("profiles", "lohi"), "did you mean 'loihi'?", "metaplastic.profiles", "truenorth")


# -- extras and plots --------------------------------------------------------------------------------
def test_all_extra_brings_every_optional_feature():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    [spec] = extras["all"]
    name, _, rest = spec.partition("[")
    assert name == "metaplastic" and rest.endswith("]")
    in_all = set(rest[:-1].split(","))
    # dev is for working on metaplastic
    expected = set(extras) - {"all", "dev"}
    assert {"plot", "ray", "metaworld"} <= in_all and in_all == expected


def _report() -> dict:
    return {"tasks": "bandits", "backends": {}, "references": {}, "profiles": {}, "headline": {"ratios": {}},
            "meters": {}}


def test_report_says_which_extra_brings_the_plots_when_matplotlib_is_missing(tmp_path, monkeypatch):
    from metaplastic.bench.report import write_report

    monkeypatch.setattr(plots, "pyplot", lambda: None)  # matplotlib is not installed
    assert plots.render_plots({"backends": {"x": {}}}) == {}
    write_report(_report(), tmp_path)
    hint = "plots need matplotlib: pip install 'metaplastic[plot]'"
    assert hint in (tmp_path / "report.md").read_text()
    assert json.loads((tmp_path / "report.json").read_text())["plots_note"] == hint


def test_report_has_no_plot_note_when_matplotlib_is_there(tmp_path):
    pytest.importorskip("matplotlib")
    from metaplastic.bench.report import write_report

    write_report(_report(), tmp_path)
    assert "plots_note" not in json.loads((tmp_path / "report.json").read_text())
    assert "matplotlib" not in (tmp_path / "report.md").read_text()


def test_bench_summary_line_says_how_to_get_plots(tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "pyplot", lambda: None)
    code, out, err = cli("bench", "--backends", "random", "--tasks", "bandits:k=3,n=5", "--n-tasks", "2",
                         "--profiles", "cpu-45nm", "--budget", "1", "--out", str(tmp_path / "r"))
    assert code == 0, err
    last = out.strip().splitlines()[-1]
    assert "0 plots; plots need matplotlib: pip install 'metaplastic[plot]'" in last, last
