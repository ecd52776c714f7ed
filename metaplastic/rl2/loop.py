"""The RL² outer loop (Duan et al. 2016; Wang et al. 2016), shared by every recurrent
policy: sample a batch of training tasks, play one trial on each, update by A2C with GAE
through the whole trial, repeat until the budget is spent.

Reproducible and resumable through the shared outer loop
(:func:`~metaplastic.training.outer.run_outer_loop`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np
import torch

from metaplastic.runtime.encoding import TrialInputEncoder
from metaplastic.rl2.a2c import a2c_loss
from metaplastic.training.outer import TrainProgress, run_outer_loop
from metaplastic.rl2.rollout import collect_trials

__all__ = ["RL2Settings", "TrainProgress", "train_rl2", "settings_from"]


@dataclass
class RL2Settings:
    """Hyperparameters of the RL² update."""

    batch_tasks: int = 512
    lr: float = 3e-3
    lr_schedule: str = "constant"  # or "linear": lr · (1 - fraction of the budget spent)
    gamma: float = 0.99
    gae_lambda: float = 0.95
    vf_coef: float = 0.05
    ent_coef: float = 0.05
    ent_coef_final: float = 0.0
    max_grad_norm: float = 1.0


def train_rl2(policy: Any, optimizer: torch.optim.Optimizer, tasks: Any, *, budget: Any, seed: int,
              settings: RL2Settings, progress: TrainProgress, device: str | torch.device = "cpu",
              callback: Callable[[dict[str, Any]], Any] | None = None, show_progress: bool = True) -> TrainProgress:
    """Run RL² updates on ``policy`` until ``budget`` (counting ``progress`` already done)."""
    encoder = TrialInputEncoder(tasks.observation_space, tasks.action_space)

    def update(rng: np.random.Generator, fraction: float) -> tuple[dict[str, Any], int]:
        ent_coef = settings.ent_coef + (settings.ent_coef_final - settings.ent_coef) * fraction
        if settings.lr_schedule == "linear":
            for group in optimizer.param_groups:
                group["lr"] = settings.lr * (1.0 - fraction)
        task_list = tasks.sample(settings.batch_tasks, seed=int(rng.integers(2**62)), split="train")
        batch = collect_trials(policy, encoder, tasks, task_list, tasks.episodes_per_trial,
                               rng=rng, env_seed=int(rng.integers(2**31)), device=device)
        loss = a2c_loss(batch.logp, batch.values, batch.entropy, batch.rewards, batch.mask,
                        gamma=settings.gamma, lam=settings.gae_lambda, vf_coef=settings.vf_coef, ent_coef=ent_coef)
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(policy.parameters(), settings.max_grad_norm))
        optimizer.step()
        return {"trial_return": float(batch.returns.sum(axis=1).mean()), "loss": float(loss.total.detach()),
                "policy_loss": loss.policy, "value_loss": loss.value, "entropy": loss.entropy, "ent_coef": ent_coef,
                "lr": optimizer.param_groups[0]["lr"], "grad_norm": grad_norm}, len(task_list)

    return run_outer_loop(update, label="rl2", budget=budget, seed=seed, progress=progress, callback=callback,
                          show_progress=show_progress, seed_framework=torch.manual_seed)


def settings_from(config: dict[str, Any]) -> RL2Settings:
    """The settings whose names appear in ``config`` (a backend's config), others default."""
    names = asdict(RL2Settings()).keys()
    return RL2Settings(**{k: config[k] for k in names if k in config})
