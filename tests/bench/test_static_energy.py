"""Static energy: idle power × the time of a decision on the device, measured there or
modelled by the profile's cited time model; measured energy at batch 1 and batched."""

import pytest

from metaplastic.bench import runner
from metaplastic.bench.energy import load_profile, model_energy
from metaplastic.bench.meters import Meter
from metaplastic.bench.report import markdown
from metaplastic.core import OpCounts

SPIKING = OpCounts(neuron_updates=2 * 128, synaptic_events=2700, spikes=45, macs=600, decisions=1)


def test_loihi_static_part_is_idle_power_times_the_modelled_time():
    loihi = load_profile("loihi")
    e = model_energy(SPIKING, loihi, spiking=True)
    m = loihi.time_model
    expected_s = (m.seconds_per_decision + 256 * m.seconds_per_op["neuron_updates"]
                  + 2700 * m.seconds_per_op["synaptic_events"] + 45 * m.seconds_per_op["spikes"]
                  + 600 * m.seconds_per_op["macs"])
    assert e.seconds_per_decision == pytest.approx(expected_s)
    assert e.static_j == pytest.approx(loihi.idle_power_w * expected_s)
    assert e.time_kind == "modelled (lower bound)" and "SANA-FE" in e.note
    assert e.total_j == pytest.approx(e.dynamic_j + e.static_j)


def test_more_work_takes_longer_on_loihi():
    loihi = load_profile("loihi")
    small = model_energy(SPIKING, loihi, spiking=True)
    two = model_energy(SPIKING + SPIKING, loihi, spiking=True)  # the same work per decision, twice
    assert two.seconds_per_decision == pytest.approx(small.seconds_per_decision)
    double = OpCounts(neuron_updates=512, synaptic_events=5400, spikes=90, macs=1200, decisions=1)
    assert model_energy(double, loihi, spiking=True).seconds_per_decision > small.seconds_per_decision


def test_a_measured_time_takes_precedence_over_the_model():
    h100 = load_profile("gpu-h100")
    ops = OpCounts(macs=60_000, decisions=1)
    modelled = model_energy(ops, h100, spiking=False)
    assert modelled.time_kind.startswith("modelled") and modelled.seconds_per_decision == pytest.approx(2e-5)
    measured = model_energy(ops, h100, spiking=False, seconds_per_decision=1e-4, time_source="measured p50")
    assert measured.time_kind == "measured" and measured.static_j == pytest.approx(h100.idle_power_w * 1e-4)


def test_profiles_without_a_cited_idle_power_stay_dynamic_only():
    for name in ("cpu-45nm", "truenorth"):
        e = model_energy(SPIKING, load_profile(name), spiking=True)
        assert e.static_j is None and e.as_dict()["parts"].startswith("dynamic only")
        assert load_profile(name).idle_power_source  # says why


def test_every_built_in_static_constant_is_cited():
    for name in ("loihi", "gpu-h100", "gpu-a100"):
        p = load_profile(name)
        assert p.idle_power_w and p.idle_power_source and p.time_model.source
        assert len(p.citations) >= 2


class FakeMeter(Meter):
    """A cumulative counter advancing 1 mJ per call of the clock: what a meter reads."""

    name = "rapl"
    available = True
    reason = ""

    def __init__(self):
        self.j = 0.0

    def read_j(self):
        self.j += 1e-3
        return self.j


def test_bench_measures_energy_at_batch_1_and_batched(monkeypatch):
    monkeypatch.setattr(runner, "available_meters", lambda: {"rapl": FakeMeter()})
    cfg = runner.BenchConfig(backends=["random"], tasks="bandits:k=3,n=5", n_tasks=20, latency_decisions=50,
                             throughput_batch=8, throughput_decisions=5, profiles=["cpu-45nm", "loihi"])
    report = runner.run_bench(cfg, progress=False)
    m = report["backends"]["random"]["energy_measured"]["rapl"]
    assert m["available"] and m["j_per_decision"] > 0 and m["j_per_decision_batch8"] > 0
    assert m["j_per_decision_batch8"] != m["j_per_decision"]
    md = markdown(report)
    assert "at batch 8" in md and "| backend | profile | dynamic | static | total |" in md


def test_the_bench_row_reports_its_time_source():
    cfg = runner.BenchConfig(backends=["random"], tasks="bandits:k=3,n=5", n_tasks=20, latency_decisions=50,
                             throughput_decisions=5, profiles=["cpu-45nm", "gpu-h100"])
    report = runner.run_bench(cfg, progress=False)
    e = report["backends"]["random"]["energy"]
    assert e["cpu-45nm"]["time_kind"] == "measured"  # its latency here is the time on that profile
    assert e["gpu-h100"]["time_kind"] == "modelled (lower bound)" and e["gpu-h100"]["static_j"] > 0


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.skipif(not _cuda(), reason="no CUDA device on this machine")
def test_on_a_gpu_the_time_is_measured_there_and_nvml_meters_both_batches():
    import torch

    cfg = runner.BenchConfig(backends=["torch"], tasks="bandits:k=3,n=5", budget="3", n_tasks=20,
                             latency_decisions=100, throughput_batch=16, throughput_decisions=20,
                             profiles=["gpu-h100", "gpu-a100"])
    report = runner.run_bench(cfg, progress=False)
    row = report["backends"]["torch"]
    assert row["device"].startswith("cuda")
    name = torch.cuda.get_device_name()
    for prof, word in (("gpu-h100", "H100"), ("gpu-a100", "A100")):
        kind = row["energy"][prof]["time_kind"]
        assert kind == ("measured" if word in name else "modelled (lower bound)"), (prof, name, kind)
    nvml = row["energy_measured"]["nvml"]
    if report["meters"]["nvml"]["available"]:
        assert nvml["j_per_decision"] > 0 and nvml["j_per_decision_batch16"] > 0
