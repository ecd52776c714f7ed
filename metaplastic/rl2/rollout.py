"""Batched trial rollouts with gradients: one forward pass of the policy over whole trials
of many tasks, stepped through a task family's batched numpy env (no Python loop over
environments).

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.dense.gru import GRUActorCritic
    >>> from metaplastic.runtime.encoding import TrialInputEncoder
    >>> tasks = metaplastic.make_tasks("bandits:k=3,n=4")
    >>> enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    >>> pol = GRUActorCritic(enc.size, tasks.action_space, hidden=8)
    >>> batch = collect_trials(pol, enc, tasks, tasks.sample(5, seed=0), 4, rng=np.random.default_rng(0), env_seed=0)
    >>> batch.logp.shape, batch.returns.shape
    (torch.Size([4, 5]), (5, 4))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from metaplastic.runtime.encoding import TrialInputEncoder
from metaplastic.rl2.lanes import TrialLanes
from metaplastic.runtime.vector import drive_trials
from metaplastic.training.divergence import require_finite


@dataclass
class TrialBatch:
    """Per-step tensors ``(T, B)`` of a batch of trials, and the ``(B, episodes)`` returns."""

    logp: torch.Tensor
    values: torch.Tensor
    entropy: torch.Tensor
    rewards: torch.Tensor
    mask: torch.Tensor
    returns: np.ndarray
    activity: torch.Tensor | None = None  # (T, B) the policy's activity, when recorded


def collect_trials(policy: Any, encoder: TrialInputEncoder, tasks: Any, task_list: list, episodes: int, *,
                   rng: np.random.Generator, env_seed: int, device: str | torch.device = "cpu",
                   activity: bool = False) -> TrialBatch:
    """Play one trial per task in ``task_list`` with ``policy`` (keeping the graph). Continuous
    actions that are not finite (a diverged policy) raise
    :class:`~metaplastic.training.divergence.NonFinite` before they reach the env.
    ``activity``: also record the policy's activity per step (an
    :class:`~metaplastic.nn.activity.ActivityCost`)."""
    venv = tasks.make_vector_env(task_list)
    lanes = TrialLanes(policy, encoder, len(task_list), device)
    lanes.reset()
    head = policy.head
    logps, values, ents, rewards, masks, acts = [], [], [], [], [], []
    last: dict[str, np.ndarray] = {}

    def act(obs: np.ndarray, decide: np.ndarray) -> np.ndarray:
        params, value = lanes.step(obs, decide)
        a = head.sample(params, rng)
        if a.dtype.kind == "f":
            require_finite(a, "the policy's actions")
        logps.append(head.log_prob(params, a))
        values.append(value)
        ents.append(head.entropy(params))
        if activity:
            acts.append(policy.activity())
        masks.append(decide.astype(np.float32))
        last["env"] = head.to_env(a)
        return last["env"]

    def observe(obs, actions, r, next_obs, term, trunc, decide) -> None:
        rewards.append(np.where(decide, r, 0.0).astype(np.float32))
        lanes.record(last["env"], r, term | trunc, decide)

    try:
        returns = drive_trials(venv, episodes, env_seed=env_seed, act=act, observe=observe)
    finally:
        venv.close()
    dev = torch.device(device)
    return TrialBatch(
        logp=torch.stack(logps), values=torch.stack(values), entropy=torch.stack(ents),
        rewards=torch.as_tensor(np.stack(rewards), device=dev), mask=torch.as_tensor(np.stack(masks), device=dev),
        returns=returns, activity=torch.stack(acts) if activity else None,
    )
