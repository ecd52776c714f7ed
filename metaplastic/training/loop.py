"""The RL² outer loop (Duan et al. 2016; Wang et al. 2016), shared by every recurrent
policy: sample a batch of training tasks, play one trial on each, update by A2C with GAE
through the whole trial, repeat until the budget is spent.

Reproducible and resumable: the tasks, env and sampling randomness of update ``u`` derive
from ``(seed, u)`` alone, so a run resumed from a checkpoint continues exactly as it
would have (up to floating-point non-determinism of the device).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np
import torch

from metaplastic.budget import Budget
from metaplastic.encoding import TrialInputEncoder
from metaplastic.progress import progress_bar
from metaplastic.training.a2c import a2c_loss
from metaplastic.training.rollout import collect_trials


@dataclass
class RL2Settings:
    """Hyperparameters of the RL² update."""

    batch_tasks: int = 512
    lr: float = 3e-3
    gamma: float = 0.99
    gae_lambda: float = 0.95
    vf_coef: float = 0.05
    ent_coef: float = 0.05
    ent_coef_final: float = 0.0
    max_grad_norm: float = 1.0


@dataclass
class TrainProgress:
    """Where a training run stands (saved with checkpoints to resume)."""

    updates: int = 0
    seconds: float = 0.0
    tasks_seen: int = 0


def train_rl2(policy: Any, optimizer: torch.optim.Optimizer, tasks: Any, *, budget: Any, seed: int,
              settings: RL2Settings, progress: TrainProgress, device: str | torch.device = "cpu",
              callback: Callable[[dict[str, Any]], Any] | None = None, show_progress: bool = True) -> TrainProgress:
    """Run RL² updates on ``policy`` until ``budget`` (counting ``progress`` already done)."""
    budget = Budget.parse(budget)
    encoder = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    clock = budget.clock(updates_done=progress.updates, seconds_done=progress.seconds)
    shown = int(clock.fraction() * 1000)
    with progress_bar(f"meta-train rl2 ({budget})", total=1000, enabled=show_progress) as advance:
        advance(shown)
        while not clock.done():
            u = progress.updates
            rng = np.random.default_rng([seed, u])
            torch.manual_seed(int(rng.integers(2**62)))
            frac = clock.fraction()
            ent_coef = settings.ent_coef + (settings.ent_coef_final - settings.ent_coef) * frac
            task_list = tasks.sample(settings.batch_tasks, seed=int(rng.integers(2**62)), split="train")
            t0 = time.perf_counter()
            batch = collect_trials(policy, encoder, tasks, task_list, tasks.episodes_per_trial,
                                   rng=rng, env_seed=int(rng.integers(2**31)), device=device)
            loss = a2c_loss(batch.logp, batch.values, batch.entropy, batch.rewards, batch.mask,
                            gamma=settings.gamma, lam=settings.gae_lambda, vf_coef=settings.vf_coef, ent_coef=ent_coef)
            optimizer.zero_grad(set_to_none=True)
            loss.total.backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(policy.parameters(), settings.max_grad_norm))
            optimizer.step()
            clock.tick()
            progress.updates += 1
            progress.seconds = clock.elapsed
            progress.tasks_seen += len(task_list)
            trial_return = float(batch.returns.sum(axis=1).mean())
            metrics = {
                "update": progress.updates, "elapsed_s": round(progress.seconds, 3), "trial_return": trial_return,
                "loss": float(loss.total.detach()), "policy_loss": loss.policy, "value_loss": loss.value,
                "entropy": loss.entropy, "ent_coef": ent_coef, "grad_norm": grad_norm,
                "update_s": round(time.perf_counter() - t0, 4),
            }
            now = int(clock.fraction() * 1000)
            advance(now - shown, update=progress.updates, trial_return=f"{trial_return:.3f}")
            shown = now
            if callback is not None:
                callback(metrics)
    return progress


def settings_from(config: dict[str, Any]) -> RL2Settings:
    """The settings whose names appear in ``config`` (a backend's config), others default."""
    names = asdict(RL2Settings()).keys()
    return RL2Settings(**{k: config[k] for k in names if k in config})
