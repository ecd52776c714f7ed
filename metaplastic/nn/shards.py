"""Gradient shards: a gradient-based outer loop (RL², MAML) whose batch of tasks is split
into ``shards`` jobs that an executor runs where its workers are, for task families whose
rollouts dominate an update (a physics simulator's episodes). Needs torch.

Each worker holds a copy of the model (a :class:`GradientShard` replica, see
:mod:`metaplastic.training.replicas`); an update sends every worker the parameters the
driver's last optimizer step made (``O(d)`` numbers: a gradient method has to move them)
and one job per shard; a shard plays its own tasks, computes its loss and returns its
gradient, weighted by its share of the batch. The driver sums the gradients in shard order,
clips and steps. The result depends on the number of shards, never on the executor or the
number of workers: the same seed gives the same parameters on ``inprocess``, ``process``
and ``ray``. One shard is the loops' unsharded path, in this process.

Example:
    >>> import torch
    >>> model = torch.nn.Linear(2, 1)
    >>> def loss(m, job):                       # a shard's loss, its metrics and its weight (steps)
    ...     x = torch.full((1, 2), float(job))
    ...     return m(x).sum(), {"x": job}, 1.0
    >>> from metaplastic.training.replicas import LocalSlots
    >>> slots = LocalSlots(lambda: GradientShard(model, loss))
    >>> metrics = apply_gradients(model, slots.run(None, [1, 3]))
    >>> model.weight.grad.tolist(), [m["x"] for m in metrics]   # the mean of the two shards' gradients
    ([[2.0, 2.0]], [1, 3])
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np
import torch

__all__ = ["GradientShard", "parameters_message", "apply_gradients", "ShardLoss", "shard_sizes", "sharded_gradients",
           "is_sharded", "shard_jobs"]

#: ``loss(model, job) -> (loss, metrics, weight)``: a shard's scalar loss (with graph, a mean
#: over its steps), its metrics and its weight (its number of steps): the batch's gradient
#: is ``Σ weight ∇loss / Σ weight``, the mean over every step of the batch.
ShardLoss = Callable[[torch.nn.Module, Any], tuple[torch.Tensor, dict[str, Any], float]]


def shard_sizes(total: int, shards: int) -> list[int]:
    """``total`` tasks split into ``shards`` near-equal parts (larger ones first).

    Example:
        >>> shard_sizes(10, 3)
        [4, 3, 3]
    """
    base, extra = divmod(int(total), int(shards))
    return [base + (k < extra) for k in range(int(shards))]


def parameters_message(model: torch.nn.Module) -> list[np.ndarray]:
    """The model's parameters as numpy arrays: what a shard's copy is brought up to."""
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


class GradientShard:
    """A worker's copy of the model and the loss of a shard (a replica)."""

    def __init__(self, model: torch.nn.Module, loss: ShardLoss):
        self.model = copy.deepcopy(model)  # in-process too: the driver's model keeps its own gradients
        self.loss = loss

    def receive(self, message: list[np.ndarray] | None) -> None:
        if message is None:
            return
        with torch.no_grad():
            for p, value in zip(self.model.parameters(), message, strict=True):
                p.copy_(torch.as_tensor(value, device=p.device))

    def __call__(self, job: Any) -> tuple[list[np.ndarray], dict[str, Any], float]:
        model = self.model
        model.zero_grad(set_to_none=True)
        loss, metrics, weight = self.loss(model, job)
        (loss * float(weight)).backward()
        grads = [np.zeros(tuple(p.shape), dtype=np.float32) if p.grad is None else p.grad.detach().cpu().numpy().copy()
                 for p in model.parameters()]
        return grads, {**metrics, "loss": float(loss.detach())}, float(weight)


def apply_gradients(model: torch.nn.Module, results: list[tuple[list[np.ndarray], dict[str, Any], float]]
                    ) -> list[dict[str, Any]]:
    """Set ``model``'s gradients to the shards' weighted gradients summed in shard order and
    divided by the total weight; return their metrics, each with its share ``weight``."""
    total_w = sum(w for _, _, w in results) or 1.0
    for k, p in enumerate(model.parameters()):
        total = results[0][0][k].copy()
        for grads, _, _ in results[1:]:
            total += grads[k]
        p.grad = torch.as_tensor(total / total_w, device=p.device, dtype=p.dtype)
    return [{**metrics, "weight": weight / total_w} for _, metrics, weight in results]


def is_sharded(shards: int, executor: str, device: Any = "cpu") -> bool:
    """Whether a loop runs sharded: more than one shard, on any executor (the result depends
    on the shard count, never on the executor). One shard is the unsharded loop in this
    process, so naming another executor with it, or sharding a model on a GPU, is a
    one-line :class:`~metaplastic.errors.ConfigError`.

    Example:
        >>> is_sharded(1, "inprocess"), is_sharded(4, "inprocess"), is_sharded(4, "ray")
        (False, True, True)
    """
    from metaplastic.errors import ConfigError

    if shards == 1 and executor != "inprocess":
        raise ConfigError(f"executor={executor!r} runs the shards of an update, and shards=1 is the whole batch in "
                          "this process; set shards to 2 or more (e.g. the number of workers)")
    if shards > 1 and str(device) != "cpu":
        raise ConfigError(f"sharded updates run on CPU workers; use device=cpu with shards={shards} (or shards=1 "
                          f"on {device})")
    return shards > 1


def shard_jobs(rng: np.random.Generator, batch: int, shards: int, seeds: int) -> list[tuple[int, ...]]:
    """One job per non-empty shard: ``(tasks in it, *seeds)`` with ``seeds`` integers drawn
    from ``rng`` per shard.

    Example:
        >>> [len(j) for j in shard_jobs(np.random.default_rng(0), 10, 3, seeds=2)], shard_jobs(np.random.default_rng(0), 2, 3, 1)[0][0]
        ([3, 3, 3], 1)
    """
    sizes = [n for n in shard_sizes(batch, shards) if n]
    drawn = rng.integers(2**62, size=(len(sizes), seeds))
    return [(n, *(int(v) for v in row)) for n, row in zip(sizes, drawn)]


@contextmanager
def sharded_gradients(model: torch.nn.Module, loss: ShardLoss, *, executor: str, workers: int,
                      warm_jobs: list | None = None) -> Iterator[Callable[[list], tuple[torch.Tensor, dict[str, Any]]]]:
    """Replicas of ``model`` on ``executor`` for the whole training; yields
    ``compute(jobs) -> (loss, metrics)``, which brings every copy to ``model``'s current
    parameters, runs the shards, sets ``model``'s gradients to their sum and returns the
    batch's loss and metrics (each the shards' weighted sum). ``warm_jobs`` run once first
    and are thrown away (workers' start-up before a time budget's clock starts)."""
    from metaplastic.training.executors import make_executor

    with make_executor(executor, workers) as ex:
        replicas = ex.replicate(lambda: GradientShard(model, loss))

        def compute(jobs: list) -> tuple[torch.Tensor, dict[str, Any]]:
            parts = apply_gradients(model, replicas.run(parameters_message(model), jobs))
            metrics = {k: sum(p["weight"] * p[k] for p in parts) for k in parts[0] if k != "weight"}
            return torch.tensor(metrics.pop("loss")), metrics

        try:
            if warm_jobs is not None:
                replicas.run(parameters_message(model), warm_jobs)
            yield compute
        finally:
            replicas.close()
