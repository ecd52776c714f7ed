"""Reference policies for tabular MDPs: greedy, ε-greedy, PSRL and the oracle, all
planning by finite-horizon dynamic programming over many lanes at once.

Every policy plans the same way (:func:`plan_finite_horizon`), on the MDP its lanes
believe in, at the start of each episode:

    Q_h(s, a) = R(s, a) + Σ_s' P(s' | s, a) · V_{h+1}(s'),   V_h(s) = max_a Q_h(s, a),
    V_H = 0, for h = H-1, ..., 0,

then takes ``argmax_a Q_h(s, a)`` at step ``h`` of the episode in state ``s`` (ties at
random). What differs is the MDP planned on:

* ``GreedyMDPPolicy``: the posterior mean MDP (certainty equivalence);
* ``EpsGreedyMDPPolicy``: the same, but a uniformly random action with probability
  ``config["epsilon"]``;
* ``PSRLPolicy``: one MDP drawn from the posterior per episode;
* ``OracleMDPPolicy``: the task's true MDP (privileged; planned once per trial).

The posterior (:class:`NormalDirichletPosterior`) is exact and conjugate, with the task
family's *training* prior (RL²'s Table 2: mean rewards ~ Normal(1, 1) with known unit
reward noise, transitions ~ Dirichlet(1)): a Normal update of each mean reward, and
Dirichlet pseudo-counts plus observed transition counts.

**PSRL variant.** Standard PSRL (Strens 2000; Osband, Russo & Van Roy 2013,
"(More) efficient reinforcement learning via posterior sampling"): at the start of each
episode, *one* sample (mean rewards and transitions, independently per ``(s, a)``) from
the exact posterior given every transition of the trial so far, then the optimal
non-stationary H-step policy of that sample for the whole episode. Not the optimistic
variant (OPSRL, several samples and a max), and no resampling within an episode.

Operation counts (per lane, what actually ran): each plan adds ``H·S·A·S`` MACs (the
expected next values) and ``H·S·A`` accumulates (adding the rewards); each observed
transition adds 3 accumulates (the reward sum, the visit count, the transition count).

Example:
    >>> import metaplastic
    >>> res = metaplastic.evaluate("psrl", "mdp:n=3", n_tasks=20, seed=0)
    >>> res.returns.shape, res.ops.macs == 20 * 3 * 10 * 10 * 5 * 10
    ((20, 3), True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from metaplastic.baselines.base import VectorPolicy, argmax_random_ties
from metaplastic.core import Task, TaskDistribution
from metaplastic.tasks.mdp import MDPPrior


def plan_finite_horizon(reward_mean: np.ndarray, transitions: np.ndarray, horizon: int) -> np.ndarray:
    """Optimal finite-horizon action values of a batch of MDPs, by dynamic programming.

    ``reward_mean`` is ``(B, S, A)``, ``transitions`` ``(B, S, A, S)``; returns ``Q`` of
    shape ``(B, horizon, S, A)``, ``Q[:, h]`` being the values with ``horizon - h``
    steps to go.

    Example:
        >>> import numpy as np
        >>> r = np.array([[[0.0, 1.0], [2.0, 0.0]]])    # R[s, a]: 2 states, 2 actions
        >>> p = np.array([[[[0, 1], [1, 0]], [[0, 1], [1, 0]]]], dtype=float)  # a=0 -> s'=1, a=1 -> s'=0
        >>> q = plan_finite_horizon(r, p, 2)[0]
        >>> q[1].tolist()                              # one step to go: the reward alone
        [[0.0, 1.0], [2.0, 0.0]]
        >>> q[0].tolist()                              # two: e.g. Q(1, 0) = 2 + max_a Q_1(1, a) = 4
        [[2.0, 2.0], [4.0, 1.0]]
    """
    b, s, a = reward_mean.shape
    q = np.empty((b, horizon, s, a))
    v = np.zeros((b, s))
    for h in range(horizon - 1, -1, -1):
        q[:, h] = reward_mean + (transitions @ v[:, None, :, None])[..., 0]
        v = q[:, h].max(axis=-1)
    return q


class NormalDirichletPosterior:
    """The exact posterior over tabular MDPs of many lanes, from conjugate priors:
    each mean reward Normal(μ0, τ0²) with known reward noise σ², each next-state
    distribution Dirichlet(α0 · 1).

    After ``n`` rewards summing to ``Σr`` at ``(s, a)``: precision ``1/τ0² + n/σ²``, mean
    ``(μ0/τ0² + Σr/σ²) / precision``; after counts ``c(s'|s,a)``: Dirichlet(α0 + c).

    Example:
        >>> import numpy as np
        >>> post = NormalDirichletPosterior(1, 2, 1, MDPPrior(reward_mean=1.0, reward_std=1.0, alpha=1.0))
        >>> post.update(np.array([0]), np.array([0]), np.array([0]), np.array([3.0]), np.array([1]))
        >>> r, p = post.mean(np.array([0]))
        >>> r[0, :, 0].tolist(), p[0, 0, 0].tolist()          # (1 + 3) / 2; (1, 2) / 3
        ([2.0, 1.0], [0.3333333333333333, 0.6666666666666666])
    """

    def __init__(self, num_lanes: int, n_states: int, n_actions: int, prior: MDPPrior):
        self.prior = prior
        self.visits = np.zeros((num_lanes, n_states, n_actions))
        self.reward_sum = np.zeros((num_lanes, n_states, n_actions))
        self.counts = np.zeros((num_lanes, n_states, n_actions, n_states))

    def update(self, lanes: np.ndarray, s: np.ndarray, a: np.ndarray, r: np.ndarray, s_next: np.ndarray) -> None:
        """Add one observed transition in each of ``lanes`` (distinct lane indices)."""
        self.visits[lanes, s, a] += 1
        self.reward_sum[lanes, s, a] += r
        self.counts[lanes, s, a, s_next] += 1

    def _reward_posterior(self, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pr = self.prior
        precision = 1.0 / pr.reward_std**2 + self.visits[lanes] / pr.noise_std**2
        mean = (pr.reward_mean / pr.reward_std**2 + self.reward_sum[lanes] / pr.noise_std**2) / precision
        return mean, 1.0 / np.sqrt(precision)

    def mean(self, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The posterior mean MDP of ``lanes``: ``(b, S, A)`` rewards, ``(b, S, A, S)`` transitions."""
        conc = self.prior.alpha + self.counts[lanes]
        return self._reward_posterior(lanes)[0], conc / conc.sum(axis=-1, keepdims=True)

    def sample(self, lanes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One MDP drawn from the posterior of each of ``lanes`` (same shapes as :meth:`mean`)."""
        mean, std = self._reward_posterior(lanes)
        g = rng.standard_gamma(self.prior.alpha + self.counts[lanes])  # Dirichlet via normalized Gammas
        return mean + std * rng.standard_normal(mean.shape), g / g.sum(axis=-1, keepdims=True)


class _PlanningPolicy(VectorPolicy):
    """Plans at the start of each episode on the MDP given by :meth:`_model`, then acts
    on the planned ``Q`` at the lane's current step of the episode."""

    #: Whether each new episode replans (False: the model never changes within a trial).
    replans_each_episode: ClassVar[bool] = True

    def __init__(self, tasks: TaskDistribution, num_lanes: int, config: dict):
        super().__init__(tasks, num_lanes, config)
        self.n_states, self.n_actions = int(tasks.observation_space.n), int(tasks.action_space.n)
        self.horizon = int(tasks.horizon)
        self._rows = np.arange(self.num_lanes)

    def _reset(self) -> None:
        self.step = np.zeros(self.num_lanes, dtype=np.int64)
        self.q = np.zeros((self.num_lanes, self.horizon, self.n_states, self.n_actions))
        self.stale = np.ones(self.num_lanes, dtype=bool)

    def _model(self, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The MDP ``(rewards (b,S,A), transitions (b,S,A,S))`` that ``lanes`` plan on."""
        raise NotImplementedError

    def _plan(self, lanes: np.ndarray) -> None:
        self.q[lanes] = plan_finite_horizon(*self._model(lanes), self.horizon)
        self.stale[lanes] = False
        work = len(lanes) * self.horizon * self.n_states * self.n_actions
        self.counts.macs += work * self.n_states
        self.counts.acs += work

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        todo = np.flatnonzero(self.stale & active)
        if todo.size:
            self._plan(todo)
        h = np.minimum(self.step, self.horizon - 1)
        return self._choose(self.q[self._rows, h, obs.astype(np.int64)])

    def _choose(self, values: np.ndarray) -> np.ndarray:
        """Actions from the ``(B, A)`` action values of the current states."""
        return argmax_random_ties(values, self.rng)

    def _observe(self, obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        self.step[active] += 1

    def _end_episode(self, mask: np.ndarray) -> None:
        self.step[mask] = 0
        if self.replans_each_episode:
            self.stale |= mask


class _PosteriorPolicy(_PlanningPolicy):
    """A planning policy that learns the posterior of its lanes' MDPs from what it sees."""

    def _reset(self) -> None:
        super()._reset()
        self.posterior = NormalDirichletPosterior(self.num_lanes, self.n_states, self.n_actions,
                                                  self.tasks.prior("train"))

    def _observe(self, obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        super()._observe(obs, actions, rewards, next_obs, terminated, truncated, active)
        lanes = np.flatnonzero(active)
        self.posterior.update(lanes, obs[lanes].astype(np.int64), actions[lanes].astype(np.int64), rewards[lanes],
                              next_obs[lanes].astype(np.int64))
        self.counts.acs += 3 * lanes.size


class GreedyMDPPolicy(_PosteriorPolicy):
    """Plans on the posterior mean MDP at each episode start (certainty equivalence).

    Example:
        >>> import metaplastic
        >>> metaplastic.evaluate("greedy", "mdp:n=2", n_tasks=5, seed=0).ops.decisions
        100
    """

    def _model(self, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.posterior.mean(lanes)


class EpsGreedyMDPPolicy(GreedyMDPPolicy):
    """Greedy on the posterior mean MDP, but a uniformly random action with probability
    ``config["epsilon"]``.

    Example:
        >>> import metaplastic
        >>> learner = metaplastic.make("eps-greedy", epsilon=1.0)      # always random
        >>> 90 < metaplastic.evaluate(learner, "mdp", n_tasks=200, seed=0).return_mean < 110
        True
    """

    def _choose(self, values: np.ndarray) -> np.ndarray:
        greedy = super()._choose(values)
        explore = self.rng.random(self.num_lanes) < self.config["epsilon"]
        return np.where(explore, self.rng.integers(self.n_actions, size=self.num_lanes), greedy)


class PSRLPolicy(_PosteriorPolicy):
    """Posterior sampling for RL: one MDP drawn from the posterior per episode, planned
    and followed for the whole episode (standard PSRL; see the module doc).

    Example:
        >>> import metaplastic
        >>> r = metaplastic.evaluate("psrl", "mdp:n=10", n_tasks=100, seed=0)
        >>> bool(r.per_episode_mean[-1] > r.per_episode_mean[0])     # it adapts
        True
    """

    def _model(self, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.posterior.sample(lanes, self.rng)


class OracleMDPPolicy(_PlanningPolicy):
    """Plays the optimal H-step policy of the true MDP (read from the revealed tasks): a
    ceiling, not a learner. Plans once per trial.

    Example:
        >>> import metaplastic
        >>> o = metaplastic.evaluate("oracle", "mdp", n_tasks=100, seed=0).return_mean
        >>> p = metaplastic.evaluate("psrl", "mdp", n_tasks=100, seed=0).return_mean
        >>> bool(o > p)
        True
    """

    privileged = True
    replans_each_episode = False

    def _reveal(self, tasks: list[Task]) -> None:
        self._true = (self.tasks.reward_means(tasks), self.tasks.transition_probs(tasks))
        self.stale[:] = True

    def _reveal_lanes(self, lanes: np.ndarray, tasks: list[Task]) -> None:
        self._true[0][lanes] = self.tasks.reward_means(tasks)
        self._true[1][lanes] = self.tasks.transition_probs(tasks)
        self.stale[lanes] = True

    def _model(self, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._true[0][lanes], self._true[1][lanes]
