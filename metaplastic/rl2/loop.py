"""The RL² outer loop (Duan et al. 2016; Wang et al. 2016), shared by every recurrent
policy: sample a batch of training tasks, play one trial on each, update by A2C with GAE
through the whole trial, repeat until the budget is spent.

Reproducible and resumable through the shared outer loop
(:func:`~metaplastic.training.outer.run_outer_loop`), whose state holds the policy and its
optimizer; the entropy bonus and the learning rate follow its schedule fraction (progress
in updates, never wall time). An update whose loss or gradient norm is not finite raises
:class:`~metaplastic.errors.TrainingDiverged` before the optimizer steps, and parameters
that are not finite after the step raise it before any callback sees the update.

Example:
    >>> import torch, metaplastic
    >>> from metaplastic.dense.gru import GRUActorCritic
    >>> from metaplastic.runtime.encoding import TrialInputEncoder
    >>> from metaplastic.training.state import TrainState
    >>> tasks = metaplastic.make_tasks("bandits:k=2,n=3")
    >>> pol = GRUActorCritic(TrialInputEncoder(tasks.observation_space, tasks.action_space).size, tasks.action_space, hidden=4)
    >>> state = TrainState(seed=0, params=pol, optimizer=torch.optim.Adam(pol.parameters()))
    >>> train_rl2(state, tasks, budget=2, settings=RL2Settings(batch_tasks=4), show_progress=False).progress.updates
    2
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np
import torch

from metaplastic.nn.activity import require_activity
from metaplastic.nn.finite import check_step, nonfinite_parameters
from metaplastic.rl2.a2c import a2c_loss
from metaplastic.rl2.params import RL2Settings
from metaplastic.rl2.rollout import collect_trials
from metaplastic.runtime.encoding import TrialInputEncoder
from metaplastic.training.divergence import lr_hint
from metaplastic.training.budget import Budget
from metaplastic.training.outer import run_outer_loop
from metaplastic.training.params import lr_at
from metaplastic.training.state import TrainState

__all__ = ["train_rl2"]


def _warm_up(policy: Any, encoder: TrialInputEncoder, tasks: Any, settings: Any, device: Any) -> None:
    """One throwaway forward and backward pass of a full batch on a copy of ``policy``,
    before the budget's clock starts: under a time budget the first update's cost fixes
    the schedule horizon, and torch's first-call costs (allocations, thread pools) would
    make it far too short. The policy, the optimizer and every update's randomness (drawn
    from ``(seed, update)``) are untouched, so results do not change."""
    warm = copy.deepcopy(policy)
    rng = np.random.default_rng(0)
    task_list = tasks.sample(settings.batch_tasks, seed=0, split="train")
    batch = collect_trials(warm, encoder, tasks, task_list, tasks.episodes_per_trial, rng=rng, env_seed=0, device=device)
    a2c_loss(batch.logp, batch.values, batch.entropy, batch.rewards, batch.mask, gamma=settings.gamma,
             lam=settings.gae_lambda, vf_coef=settings.vf_coef, ent_coef=settings.ent_coef).total.backward()


def train_rl2(state: TrainState, tasks: Any, *, budget: Any, settings: Any, device: str | torch.device = "cpu",
              callback: Callable[..., Any] | None = None, show_progress: bool = True) -> TrainState:
    """Run RL² updates on ``state.params`` (a recurrent policy) with ``state.optimizer``
    until ``budget`` (counting the progress already in ``state``); return ``state``."""
    policy, optimizer = state.params, state.optimizer
    encoder = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    hint = lr_hint(settings.lr, "max_grad_norm")
    penalize = settings.energy_coef > 0
    require_activity(policy, settings.energy_coef)

    def update(rng: np.random.Generator, fraction: float) -> tuple[dict[str, Any], int]:
        ent_coef = settings.ent_coef + (settings.ent_coef_final - settings.ent_coef) * fraction
        if settings.lr_schedule != "constant":
            for group in optimizer.param_groups:
                group["lr"] = lr_at(settings.lr, settings.lr_schedule, fraction)
        task_list = tasks.sample(settings.batch_tasks, seed=int(rng.integers(2**62)), split="train")
        batch = collect_trials(policy, encoder, tasks, task_list, tasks.episodes_per_trial,
                               rng=rng, env_seed=int(rng.integers(2**31)), device=device, activity=penalize)
        loss = a2c_loss(batch.logp, batch.values, batch.entropy, batch.rewards, batch.mask,
                        gamma=settings.gamma, lam=settings.gae_lambda, vf_coef=settings.vf_coef, ent_coef=ent_coef,
                        activity=batch.activity, energy_coef=settings.energy_coef)
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        loss_value, grad_norm = check_step(
            loss.total, torch.nn.utils.clip_grad_norm_(policy.parameters(), settings.max_grad_norm), hint)
        optimizer.step()
        return {"trial_return": float(batch.returns.sum(axis=1).mean()), "loss": loss_value,
                "policy_loss": loss.policy, "value_loss": loss.value, "entropy": loss.entropy, "ent_coef": ent_coef,
                "lr": optimizer.param_groups[0]["lr"], "grad_norm": grad_norm,
                **({"firing_rate": loss.activity} if loss.activity is not None else {})}, len(task_list)

    policy.train()
    if Budget.parse(budget).seconds is not None and state.progress.horizon is None:
        _warm_up(policy, encoder, tasks, settings, device)
    try:
        return run_outer_loop(update, label="rl2", budget=budget, state=state, callback=callback,
                              show_progress=show_progress, seed_framework=torch.manual_seed,
                              check=lambda s: nonfinite_parameters(s.params), hint=hint)
    finally:
        policy.eval()
