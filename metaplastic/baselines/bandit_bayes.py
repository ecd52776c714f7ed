"""Exact Bayes-optimal play of Bernoulli bandits with a Beta(1,1) prior on every arm.

Dynamic programming over posteriors: with ``r`` pulls left and per-arm counts
``(s_i, f_i)``,

    V(state, r) = max_a  p_a (1 + V(state + success of a, r-1)) + (1-p_a) V(state + failure of a, r-1),
    p_a = (s_a + 1) / (s_a + f_a + 2),   V(·, 0) = 0.

Arms are exchangeable, so a state is the sorted multiset of ``(s_i, f_i)``: the number of
states stays small for small horizons (2 arms, 50 pulls: about 10^5). ``V`` of the empty
state is the expected total reward of the Bayes-optimal agent — the ceiling no learner
beats in expectation (REFERENCES.md: 2 arms, T=10 → 6.0218; 5 arms → 6.660; 10 arms
→ 6.714). The agent plans for the family's trial length ``n``; past it, it is greedy.

Example:
    >>> round(bayes_value(2, 10), 4)
    6.0218
"""

from __future__ import annotations

import functools
import math

import numpy as np

from metaplastic.baselines.bandit_index import BetaIndexPolicy
from metaplastic.errors import ConfigError

#: The largest state count (estimated) the exact programme may take on.
MAX_STATES = 3_000_000

State = tuple[tuple[int, int], ...]


def estimated_states(k: int, horizon: int) -> float:
    """An upper estimate of the number of distinct multiset states."""
    return math.comb(horizon + 2 * k, 2 * k) / math.factorial(k)


@functools.lru_cache(maxsize=None)
def _value(state: State, left: int) -> float:
    if left == 0:
        return 0.0
    return max(_q(state, a, left) for a in _distinct_arms(state))


def _distinct_arms(state: State) -> list[int]:
    seen, out = set(), []
    for i, sf in enumerate(state):
        if sf not in seen:
            seen.add(sf)
            out.append(i)
    return out


def _child(state: State, arm: int, win: bool) -> State:
    s, f = state[arm]
    nxt = list(state)
    nxt[arm] = (s + 1, f) if win else (s, f + 1)
    return tuple(sorted(nxt))


def _q(state: State, arm: int, left: int) -> float:
    s, f = state[arm]
    p = (s + 1.0) / (s + f + 2.0)
    return p * (1.0 + _value(_child(state, arm, True), left - 1)) + (1.0 - p) * _value(_child(state, arm, False), left - 1)


def check_size(k: int, horizon: int) -> None:
    """Raise a clear error when the exact programme would be too large."""
    est = estimated_states(k, horizon)
    if est > MAX_STATES:
        raise ConfigError(
            f"bayes-optimal: exact planning for k={k}, n={horizon} needs about {est:.2g} states "
            f"(limit {MAX_STATES:.0e}); it is meant for small horizons — use gittins for long ones"
        )


def bayes_value(k: int, horizon: int) -> float:
    """Expected total reward of the Bayes-optimal agent on ``k`` uniform-prior arms."""
    check_size(k, horizon)
    return _value(tuple([(0, 0)] * k), horizon)


class BayesOptimalBanditPolicy(BetaIndexPolicy):
    """Acts on the exact Q-values of the posterior dynamic programme (ties at random)."""

    def _reset(self) -> None:
        super()._reset()
        self.horizon = int(self.tasks.episodes_per_trial)
        check_size(self.succ.shape[1], self.horizon)

    def index(self) -> np.ndarray:
        q = self.mean()  # past the planned horizon: greedy
        for lane in np.flatnonzero(self.t < self.horizon):
            pairs = [(int(s), int(f)) for s, f in zip(self.succ[lane], self.fail[lane])]
            order = sorted(range(len(pairs)), key=pairs.__getitem__)
            canon = tuple(pairs[i] for i in order)
            left = self.horizon - int(self.t[lane])
            memo: dict[tuple[int, int], float] = {}
            for pos, arm in enumerate(order):
                if canon[pos] not in memo:
                    memo[canon[pos]] = _q(canon, pos, left)
                q[lane, arm] = memo[canon[pos]]
        return q
