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
from metaplastic.nn.shards import is_sharded, shard_jobs, sharded_gradients
from metaplastic.training.outer import run_outer_loop
from metaplastic.training.params import lr_at
from metaplastic.training.state import TrainState

__all__ = ["train_rl2", "RL2Shard"]


def _warm_up(policy: Any, encoder: TrialInputEncoder, tasks: Any, settings: Any, device: Any) -> None:
    """One throwaway forward and backward pass of a full batch on a copy of ``policy``,
    before the budget's clock starts: under a time budget the first update's cost fixes
    the schedule horizon, and torch's first-call costs (allocations, thread pools) would
    make it far too short. The policy, the optimizer and every update's randomness (drawn
    from ``(seed, update)``) are untouched, so results do not change."""
    task_list = tasks.sample(settings.batch_tasks, seed=0, split="train")
    loss, _ = _rl2_loss(copy.deepcopy(policy), encoder, tasks, task_list, settings, ent_coef=settings.ent_coef,
                        rng=np.random.default_rng(0), env_seed=0, device=device)
    loss.total.backward()


def _rl2_loss(policy: Any, encoder: TrialInputEncoder, tasks: Any, task_list: list, settings: Any, *, ent_coef: float,
              rng: np.random.Generator, env_seed: int, device: Any) -> tuple[Any, Any]:
    """Play one trial per task and return its A2C loss and the batch (one update's work,
    or one shard's)."""
    batch = collect_trials(policy, encoder, tasks, task_list, tasks.episodes_per_trial, rng=rng, env_seed=env_seed,
                           device=device, activity=settings.energy_coef > 0)
    loss = a2c_loss(batch.logp, batch.values, batch.entropy, batch.rewards * settings.reward_scale, batch.mask,
                    gamma=settings.gamma, lam=settings.gae_lambda, vf_coef=settings.vf_coef, ent_coef=ent_coef,
                    activity=batch.activity, energy_coef=settings.energy_coef)
    return loss, batch


def _metrics(loss: Any, batch: Any) -> dict[str, Any]:
    return {"trial_return": float(batch.returns.sum(axis=1).mean()), "policy_loss": loss.policy,
            "value_loss": loss.value, "entropy": loss.entropy,
            **({"firing_rate": loss.activity} if loss.activity is not None else {})}


class RL2Shard:
    """One shard's loss (a :data:`~metaplastic.nn.shards.ShardLoss`): a job is
    ``(tasks, task_seed, env_seed, rng_seed, ent_coef)``; its weight is its number of
    deciding steps (the loss is their mean)."""

    def __init__(self, tasks: Any, settings: Any, device: Any):
        self.tasks, self.settings, self.device = tasks, settings, device
        self.encoder = TrialInputEncoder(tasks.observation_space, tasks.action_space)

    def __call__(self, policy: Any, job: tuple[int, int, int, int, float]) -> tuple[Any, dict[str, Any], float]:
        n, task_seed, env_seed, rng_seed, ent_coef = job
        tasks = self.tasks
        task_list = tasks.sample(n, seed=task_seed, split="train")
        loss, batch = _rl2_loss(policy, self.encoder, tasks, task_list, self.settings, ent_coef=ent_coef,
                                rng=np.random.default_rng(rng_seed), env_seed=env_seed, device=self.device)
        return loss.total, _metrics(loss, batch), float(batch.mask.sum())


def _shard_jobs(rng: np.random.Generator, settings: Any, ent_coef: float) -> list[tuple]:
    return [(n, a, b % 2**31, c, ent_coef) for n, a, b, c in shard_jobs(rng, settings.batch_tasks, settings.shards, 3)]


def train_rl2(state: TrainState, tasks: Any, *, budget: Any, settings: Any, device: str | torch.device = "cpu",
              callback: Callable[..., Any] | None = None, show_progress: bool = True) -> TrainState:
    """Run RL² updates on ``state.params`` (a recurrent policy) with ``state.optimizer``
    until ``budget`` (counting the progress already in ``state``); return ``state``.
    With ``settings.shards > 1`` each update's batch is split into shards that
    ``settings.executor`` runs (:mod:`metaplastic.nn.shards`)."""
    policy, optimizer = state.params, state.optimizer
    encoder = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    hint = lr_hint(settings.lr, "max_grad_norm")
    require_activity(policy, settings.energy_coef)

    def step(loss: torch.Tensor, metrics: dict[str, Any], ent_coef: float) -> dict[str, Any]:
        loss_value, grad_norm = check_step(
            loss, torch.nn.utils.clip_grad_norm_(policy.parameters(), settings.max_grad_norm), hint)
        optimizer.step()
        return {**metrics, "loss": loss_value, "ent_coef": ent_coef, "lr": optimizer.param_groups[0]["lr"],
                "grad_norm": grad_norm}

    def schedules(fraction: float) -> float:
        if settings.lr_schedule != "constant":
            for group in optimizer.param_groups:
                group["lr"] = lr_at(settings.lr, settings.lr_schedule, fraction)
        return settings.ent_coef + (settings.ent_coef_final - settings.ent_coef) * fraction

    def update(rng: np.random.Generator, fraction: float) -> tuple[dict[str, Any], int]:
        ent_coef = schedules(fraction)
        task_list = tasks.sample(settings.batch_tasks, seed=int(rng.integers(2**62)), split="train")
        loss, batch = _rl2_loss(policy, encoder, tasks, task_list, settings, ent_coef=ent_coef, rng=rng,
                                env_seed=int(rng.integers(2**31)), device=device)
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        return step(loss.total, _metrics(loss, batch), ent_coef), len(task_list)

    def run(update_fn: Callable[..., Any]) -> TrainState:
        return run_outer_loop(update_fn, label="rl2", budget=budget, state=state, callback=callback,
                              show_progress=show_progress, seed_framework=torch.manual_seed,
                              check=lambda s: nonfinite_parameters(s.params), hint=hint)

    timed = Budget.parse(budget).first_update_sets_horizon(state.progress.horizon)
    policy.train()
    try:
        if not is_sharded(settings.shards, settings.executor, device):
            if timed:
                _warm_up(policy, encoder, tasks, settings, device)
            return run(update)
        warm = _shard_jobs(np.random.default_rng(0), settings, settings.ent_coef) if timed else None
        with sharded_gradients(policy, RL2Shard(tasks, settings, device), executor=settings.executor,
                               workers=settings.workers, warm_jobs=warm) as compute:
            def sharded_update(rng: np.random.Generator, fraction: float) -> tuple[dict[str, Any], int]:
                ent_coef = schedules(fraction)
                optimizer.zero_grad(set_to_none=True)
                loss, metrics = compute(_shard_jobs(rng, settings, ent_coef))
                return step(loss, metrics, ent_coef), settings.batch_tasks

            return run(sharded_update)
    finally:
        policy.eval()
