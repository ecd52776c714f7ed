"""Index policies for Bernoulli bandits: each arm gets an index from its Beta posterior
and the policy pulls the arm with the largest (ties at random).

All start from Beta(1,1) pseudo-counts, as in RL²'s Table 1 (Duan et al. 2016): an arm
with ``s`` successes and ``f`` failures has posterior mean ``(s+1)/(s+f+2)``.

* greedy: the posterior mean.
* eps-greedy: greedy, or with probability ``epsilon`` a uniformly random arm.
* ucb1: mean + c·sqrt(2 ln T / n_i), counting the pseudo-counts as pulls
  (``n_i = s+f+2``, ``T = t + 2k``); RL² found c≈0.2 best for n≥100.
* thompson: a sample of each arm's Beta(s+1, f+1) posterior.
* gittins: the Gittins index of the arm's posterior (see :mod:`.gittins`).
* oracle: the arm with the largest true probability (privileged).

Ties: RL²'s baselines took the lowest-index arm among equal indices (``np.argmax``); with
Beta(1,1) pseudo-counts this matters for greedy (k=10, n=100: 77.7 with first-index ties,
the table's 77.1, against 79.3 with random ties). ``ties="first"`` (the default of the
backends that take it) reproduces the table; ``ties="random"`` breaks ties uniformly.

Example:
    >>> import metaplastic
    >>> r = metaplastic.evaluate("ucb1", "bandits:k=5,n=10", n_tasks=200, seed=0)
    >>> r.return_mean > 6.0
    True
"""

from __future__ import annotations

import numpy as np

from metaplastic.baselines.base import VectorPolicy, argmax_random_ties
from metaplastic.core import Task


class BetaIndexPolicy(VectorPolicy):
    """Shared state of index policies: per-lane success and failure counts."""

    def _reset(self) -> None:
        k = int(self.tasks.action_space.n)
        self.succ = np.zeros((self.num_lanes, k), dtype=np.int64)
        self.fail = np.zeros((self.num_lanes, k), dtype=np.int64)
        self.t = np.zeros(self.num_lanes, dtype=np.int64)

    def index(self) -> np.ndarray:
        """The ``(lanes, k)`` index of every arm."""
        raise NotImplementedError

    def mean(self) -> np.ndarray:
        return (self.succ + 1.0) / (self.succ + self.fail + 2.0)

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        k = self.succ.shape[1]
        self.counts.macs += int(active.sum()) * k  # one index evaluation per arm
        if self.config.get("ties", "random") == "first":
            return np.argmax(self.index(), axis=1)
        return argmax_random_ties(self.index(), self.rng)

    def _observe(self, obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        lanes = np.flatnonzero(active)
        a = actions.astype(np.int64).reshape(-1)[lanes]
        win = rewards[lanes] > 0.5
        np.add.at(self.succ, (lanes[win], a[win]), 1)
        np.add.at(self.fail, (lanes[~win], a[~win]), 1)
        self.t[lanes] += 1


class GreedyPolicy(BetaIndexPolicy):
    """The arm with the highest posterior mean."""

    def index(self) -> np.ndarray:
        return self.mean()


class EpsGreedyPolicy(BetaIndexPolicy):
    """Greedy, except a uniformly random arm with probability ``epsilon``."""

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        actions = super()._act(obs, active)
        explore = self.rng.random(self.num_lanes) < self.config["epsilon"]
        actions[explore] = self.rng.integers(0, self.succ.shape[1], size=int(explore.sum()))
        return actions

    def index(self) -> np.ndarray:
        return self.mean()


class UCB1Policy(BetaIndexPolicy):
    """UCB1 with Beta(1,1) pseudo-counts counted as pulls."""

    def index(self) -> np.ndarray:
        k = self.succ.shape[1]
        n = self.succ + self.fail + 2.0
        total = (self.t + 2 * k)[:, None]
        return self.mean() + self.config["c"] * np.sqrt(2.0 * np.log(total) / n)


class ThompsonPolicy(BetaIndexPolicy):
    """Thompson sampling: one draw from each arm's Beta posterior."""

    def index(self) -> np.ndarray:
        return self.rng.beta(self.succ + 1.0, self.fail + 1.0)


class GittinsPolicy(BetaIndexPolicy):
    """The Gittins index of each arm's posterior, from a table computed once and cached."""

    def _reset(self) -> None:
        super()._reset()
        from metaplastic.baselines.gittins import gittins_table

        self._table = gittins_table(self.config["discount"], max_pulls=int(self.tasks.episodes_per_trial))

    def index(self) -> np.ndarray:
        from metaplastic.baselines.gittins import gittins_table

        need = int((self.succ + self.fail).max(initial=0))
        if need >= self._table.shape[0]:  # a trial longer than the family's: extend the table
            self._table = gittins_table(self.config["discount"], max_pulls=max(need + 1, 2 * self._table.shape[0]))
        return self._table[self.succ, self.fail]


class OraclePolicy(VectorPolicy):
    """Pulls the arm with the largest true probability (reads the hidden task)."""

    privileged = True

    def _reveal(self, tasks) -> None:
        self._best = np.argmax(self.tasks.arm_probs(tasks), axis=1)

    def _reveal_lanes(self, lanes: np.ndarray, tasks: list[Task]) -> None:
        self._best[lanes] = np.argmax(self.tasks.arm_probs(tasks), axis=1)

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        return self._best.copy()
