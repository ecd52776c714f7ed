"""Energy models, profiles, meters, adaptation measures and the bench report."""

import json
import subprocess
import sys

import numpy as np
import pytest

import metaplastic
from metaplastic.bench.adaptation import episodes_to_fraction, normalized
from metaplastic.bench.energy import builtin_profiles, load_profile, model_energy
from metaplastic.bench.meters import RaplMeter
from metaplastic.core import OpCounts
from metaplastic.errors import ConfigError


def test_builtin_profiles_cover_the_issue_list():
    assert {"cpu-45nm", "gpu-a100", "gpu-h100", "loihi", "truenorth"} <= set(builtin_profiles())
    for name in builtin_profiles():
        p = load_profile(name)
        assert p.citations and p.energy_per_op_j


def test_dynamic_energy_is_counts_times_constants():
    ops = OpCounts(macs=100, acs=40, synaptic_events=40, neuron_updates=20, spikes=5, synaptic_updates=0,
                   mem_bytes=800, decisions=2)
    cpu = model_energy(ops, load_profile("cpu-45nm"), spiking=True)
    assert cpu.dynamic_j == pytest.approx((100 * 4.6 + 40 * 0.9 + 20 * 10.1 + 800 * 2.5) * 1e-12 / 2)
    loihi = model_energy(ops, load_profile("loihi"), spiking=True)
    assert loihi.dynamic_j == pytest.approx((100 * 23.6 + 40 * 23.6 + 20 * 52 + 5 * 29) * 1e-12 / 2)
    h100 = model_energy(ops, load_profile("gpu-h100"), spiking=False)
    assert h100.dynamic_j == pytest.approx((100 * 20.8 + 40 * 10.4 + 20 * 52.0) * 1e-12 / 2)
    assert cpu.static_j is None and "not modelled" in cpu.note


def test_profiles_say_where_they_do_not_apply():
    dense = model_energy(OpCounts(macs=10, decisions=1), load_profile("loihi"), spiking=False)
    assert not dense.applicable and dense.total_j is None and "not applicable" in dense.note
    plastic = model_energy(OpCounts(synaptic_events=10, synaptic_updates=5, decisions=1), load_profile("truenorth"),
                           spiking=True)
    assert not plastic.applicable and "synaptic_updates" in plastic.note


def test_static_part_needs_idle_power_and_time(tmp_path):
    doc = json.loads(load_profile("cpu-45nm").source and open(load_profile("cpu-45nm").source).read())
    doc["idle_power_w"] = 10.0
    (tmp_path / "mine.json").write_text(json.dumps(doc))
    mine = load_profile(tmp_path / "mine.json")
    ops = OpCounts(macs=1000, decisions=1)
    e = model_energy(ops, mine, spiking=False, seconds_per_decision=2e-6, time_source="measured")
    assert e.static_j == pytest.approx(2e-5)
    assert e.total_j == pytest.approx(e.dynamic_j + 2e-5)
    assert e.as_dict()["parts"] == "dynamic+static"
    no_time = model_energy(ops, mine, spiking=False)
    assert no_time.static_j is None and no_time.as_dict()["parts"].startswith("dynamic only")


@pytest.mark.parametrize("content, match", [
    ("{", "not valid JSON"),
    ('{"name": "x"}', "lacks energy_per_op_j"),
    ('{"name": "x", "citations": [], "energy_per_op_j": {"macs": -1}}', "non-negative"),
    ('{"name": "x", "citations": [], "energy_per_op_j": {"flops": 1}}', "unknown operation"),
    ('{"name": "x", "citations": [], "energy_per_op_j": {"macs": 1e-12}}', "lacks acs"),
])
def test_bad_profiles_get_one_line_errors(tmp_path, content, match):
    (tmp_path / "bad.json").write_text(content)
    with pytest.raises(ConfigError, match=match):
        load_profile(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="unknown hardware profile"):
        load_profile("tpu-v9")


def test_rapl_meter_reads_counters(tmp_path):
    d = tmp_path / "intel-rapl:0"
    d.mkdir()
    (d / "energy_uj").write_text("1000000")
    m = RaplMeter(root=str(tmp_path))
    assert m.available and m.read_j() == pytest.approx(1.0)
    joules, seconds, calls = m.measure(lambda: (d / "energy_uj").write_text("3000000"), min_seconds=0.0)
    assert joules == pytest.approx(2.0) and calls == 1


def test_adaptation_measures():
    assert normalized(7.0, 5.0, 9.0) == 0.5
    assert normalized(1.0, 2.0, 2.0) is None
    rand, ref = np.array([-1.0, -1.0, -1.0]), np.array([0.0, 1.0, 1.0])
    assert episodes_to_fraction(np.array([-1.0, 0.9, 1.0]), rand, ref) == 2  # closes 95% of the gap at episode 2
    assert episodes_to_fraction(np.array([-1.0, -1.0, -1.0]), rand, ref) is None


def test_bench_report_has_the_contract_keys(tmp_path):
    from metaplastic.bench.report import write_report
    from metaplastic.bench.runner import BenchConfig, run_bench

    cfg = BenchConfig(backends=["random", "numba"], tasks="bandits:k=3,n=5", budget="2", n_tasks=30,
                      latency_decisions=60, throughput_decisions=5)
    report = run_bench(cfg, progress=False)
    write_report(report, tmp_path)
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["schema"] == "metaplastic.bench.report" and doc["schema_version"] == 1
    nb = doc["backends"]["numba"]
    assert nb["trial_return"]["kind"] == "measured" and nb["latency_s"]["unit"] == "s"
    assert 0 < nb["latency_s"]["p50"] <= nb["latency_s"]["p99"]
    assert set(nb["energy_per_decision_j"]) == set(builtin_profiles())
    assert nb["energy_per_decision_j"]["loihi"] > 0  # joules, modelled
    assert nb["energy"]["loihi"]["kind"] == "modelled" and nb["energy"]["loihi"]["unit"] == "J"
    assert doc["backends"]["random"]["energy_per_decision_j"]["loihi"] is None  # not spiking: not applicable
    assert len(nb["per_episode"]["mean"]) == 5 and nb["ood_trial_return"]["split"] == "ood"
    assert all(not m["available"] or m["reason"] == "" for m in doc["meters"].values())
    md = (tmp_path / "report.md").read_text()
    assert "| numba |" in md and "## Modelled energy per decision" in md
    if doc.get("plots"):
        for name in doc["plots"].values():
            assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_bench_cli_rejects_bad_input_without_writing(tmp_path):
    out = tmp_path / "report"
    learner = metaplastic.make("numba", hidden=4)
    learner.ensure_net(metaplastic.make_tasks("bandits:k=3,n=5"))
    learner.save(tmp_path / "numba-run")
    for args, needle in ((["--backends", "nope"], "nope"), (["--run", "torch=" + str(tmp_path / "missing")], "does not exist"),
                         (["--backends", "random", "--run", "random=" + str(tmp_path / "numba-run")], "trained with backend"),
                         (["--backends", "random", "--profiles", "tpu-v9"], "tpu-v9")):
        proc = subprocess.run([sys.executable, "-m", "metaplastic", "bench", "--tasks", "bandits:k=3,n=5", "--out",
                               str(out), *args], capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert needle in proc.stderr and "Traceback" not in proc.stderr
        assert not out.exists()


@pytest.mark.parametrize("key, value, match", [
    ("notes", " ", "notes must be an object"),
    ("notes", 3, "notes must be an object"),
    ("citations", None, "citations must be a list"),
    ("citations", 7, "citations must be a list"),
    ("citations", "one source", "citations must be a list"),
    ("idle_power_w", 10**400, "idle_power_w must be a non-negative number"),
    ("applies_to", ["all"], "applies_to must be 'all' or 'spiking'"),
])
def test_malformed_profile_fields_get_one_line_errors(tmp_path, key, value, match):
    doc = json.loads(open(load_profile("cpu-45nm").source).read())
    doc[key] = value
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=match) as e:
        load_profile(tmp_path / "bad.json")
    assert "\n" not in str(e.value) and "\r" not in str(e.value)


def test_null_notes_are_no_notes(tmp_path):
    doc = json.loads(open(load_profile("cpu-45nm").source).read())
    doc["notes"] = None
    (tmp_path / "mine.json").write_text(json.dumps(doc))
    assert load_profile(tmp_path / "mine.json").notes == {}


@pytest.mark.parametrize("name, match", [
    ("9" * 5000, "unknown hardware profile '999"),
    ("0.\r", r"'0.\\r': cannot read the profile file"),
    ("a\x00b.json", "cannot read the profile file"),
])
def test_odd_profile_names_get_one_line_errors(name, match):
    with pytest.raises(ConfigError, match=match) as e:
        load_profile(name)
    assert "\n" not in str(e.value) and "\r" not in str(e.value) and len(str(e.value)) < 500


def test_profile_written_before_bit_ops_loads_and_cannot_price_them(tmp_path):
    """A profile from before ``bit_ops`` existed still loads; bit operations read as work it
    cannot execute (never priced at zero)."""
    doc = json.loads(load_profile("cpu-45nm").source and open(load_profile("cpu-45nm").source).read())
    del doc["energy_per_op_j"]["bit_ops"]
    (tmp_path / "old.json").write_text(json.dumps(doc))
    old = load_profile(tmp_path / "old.json")
    assert old.energy_per_op_j["bit_ops"] is None
    assert model_energy(OpCounts(macs=10, decisions=1), old, spiking=False).applicable
    assert not model_energy(OpCounts(bit_ops=10, decisions=1), old, spiking=False).applicable
    priced = model_energy(OpCounts(bit_ops=10, decisions=1), load_profile("cpu-45nm"), spiking=False)
    assert priced.dynamic_j == pytest.approx(10 * 2e-13)
