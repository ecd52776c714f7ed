"""One rl2-plastic training step: forward and backward of a spiking policy through a trial.

A 128-neuron CUBA-LIF policy with 2 sub-steps plays 10 decisions (a bandits:k=5,n=10
trial) on 512 lanes with gradients, then back-propagates, for:

* ``static``: no plasticity (algorithm ``rl2``), the floor;
* ``dense``: one learning rate per synapse, the plasticity state as per-lane ``N × N``
  tensors (what the snntorch backend recorded through autograd before the history form);
* ``history-full``: one rate per synapse, the state as a spike history (``plastic_rank=0``);
* ``history-rank4``: rates of rank 4 (the default ``plastic_rank``).

Run: ``.venv/bin/python -m pytest benchmarks/test_plastic_training_step.py -o addopts= --benchmark-only``
"""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("snntorch")

from gymnasium import spaces  # noqa: E402

from metaplastic.spiking.snn_policy import SpikingActorCritic  # noqa: E402

LANES, NEURONS, DECISIONS = 512, 128, 10


def _trial(pol: SpikingActorCritic, x: torch.Tensor, dense: bool) -> None:
    pol.zero_grad()
    with torch.set_grad_enabled(not dense):  # initial_state picks the dense form without gradients
        state = pol.initial_state(LANES)
    out = 0.0
    for t in range(DECISIONS):
        logits, value, state = pol.step(x[t], state)
        out = out + logits.logsumexp(-1).sum() + value.sum()
    out.backward()


@pytest.mark.benchmark(group="rl2-plastic-training-step")
@pytest.mark.parametrize("form", ["static", "dense", "history-full", "history-rank4"])
def test_plastic_training_step(benchmark, form):
    torch.manual_seed(0)
    pol = SpikingActorCritic(9, spaces.Discrete(5), neurons=NEURONS, substeps=2, plastic=form != "static",
                             reward_index=7, plastic_rank=4 if form == "history-rank4" else 0)
    x = torch.rand(DECISIONS, LANES, 9)
    benchmark.pedantic(_trial, args=(pol, x, form == "dense"), rounds=3, iterations=1, warmup_rounds=1)
    # the step timed is a training step: every parameter that shapes the trial got a finite
    # gradient, and the plasticity rates got one when there are rates
    grads = {name: p.grad for name, p in pol.named_parameters()}
    assert all(g is None or torch.isfinite(g).all() for g in grads.values())
    assert any(g is not None and g.abs().sum() > 0 for g in grads.values()), "backward reached no parameter"
    plastic = [g for name, g in grads.items() if name.startswith("lr_")]
    if form in ("history-full", "history-rank4"):
        assert plastic and any(g is not None and g.abs().sum() > 0 for g in plastic), "no gradient for the rates"
