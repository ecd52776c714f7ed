"""The symbolic agent: it induces its task's rule from the transitions of the trial and
acts on it, ``B`` lanes at once (a :class:`~metaplastic.core.VectorAgent`).

At each episode's start, and as soon as the program it acts on mispredicts an outcome, a
lane picks a program — a posterior draw (``acting="thompson"``, the default) or the most
probable one (``"map"``) — and executes the program's policy rules, a decision list, on the
state's facts (:func:`~metaplastic.symbolic.language.fire`); where no rule fires, or its
action names nothing in the room, it explores (a uniformly random action). ``explain(lane)`` lists the rules
believed, with their posterior probabilities.

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.symbolic.domains import domain_for
    >>> from metaplastic.symbolic.prior import RulePrior
    >>> tasks = metaplastic.make_tasks("keydoor")
    >>> domain = domain_for(tasks)
    >>> agent = SymbolicVectorAgent(tasks, domain, RulePrior.uniform(domain), 2, noise=1e-3, acting="thompson")
    >>> agent.reset([0, 1])
    >>> venv = tasks.make_vector_env(tasks.sample(2, seed=0))
    >>> obs, _ = venv.reset(seed=0)
    >>> agent.act(obs, np.ones(2, bool)).shape
    (2,)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metaplastic.core import OpCounts
from metaplastic.errors import ConfigError
from metaplastic.runtime.sampling import lanes_rng
from metaplastic.runtime.vector import SingleLaneAgent
from metaplastic.symbolic.induction import Inducer, SolverInducer
from metaplastic.symbolic.language import Rule, fire
from metaplastic.symbolic.prior import RulePrior

ACTING = ("thompson", "map")
#: Induction engines behind one interface: enumeration with Numba coverage, or clingo.
ENGINES = {"enumerate": Inducer, "clingo": SolverInducer}


class SymbolicVectorAgent:
    """``num_lanes`` rule-inducing agents stepped together (see the module doc)."""

    def __init__(self, tasks: Any, domain: Any, prior: RulePrior, num_lanes: int, *, noise: float, acting: str,
                 engine: str = "enumerate"):
        if acting not in ACTING:
            raise ConfigError(f"symbolic: unknown acting rule {acting!r}; choose one of {', '.join(ACTING)}")
        self.tasks, self.domain, self.prior = tasks, domain, prior
        self.num_lanes, self.acting, self.noise = int(num_lanes), acting, float(noise)
        self.counts = OpCounts()
        if engine not in ENGINES:
            raise ConfigError(f"symbolic: unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        self.inducer = ENGINES[engine](domain, self.num_lanes, prior, self.noise, self.counts)
        self.rng = np.random.default_rng()
        self.started = np.zeros(self.num_lanes, dtype=bool)
        self.need = np.ones(self.num_lanes, dtype=bool)
        self.program = np.zeros(self.num_lanes, dtype=np.int64)
        self._policies: dict[int, tuple[Rule, ...]] = {}

    def reset(self, seeds: Any) -> None:
        self.rng = lanes_rng(seeds, self.num_lanes)
        self.counts = OpCounts()
        self.inducer.counts = self.counts
        self.inducer.reset()
        self.started = np.zeros(self.num_lanes, dtype=bool)
        self.need = np.ones(self.num_lanes, dtype=bool)
        self.program = np.zeros(self.num_lanes, dtype=np.int64)

    def _choose(self, lanes: np.ndarray) -> None:
        if self.acting == "thompson":
            self.program[lanes] = self.inducer.sample(lanes, self.rng)
        else:
            self.program[lanes] = [self.inducer.best(int(lane)) for lane in lanes]
        self.need[lanes] = False

    def act(self, obs: Any, active: Any) -> np.ndarray:
        obs, active = np.asarray(obs), np.asarray(active, dtype=bool)
        fresh = np.flatnonzero(active & ~self.started)
        if fresh.size:
            self.inducer.start(fresh, obs[fresh])
            self.started[fresh] = True
        todo = np.flatnonzero(active & self.need)
        if todo.size:
            self._choose(todo)
        goal_rules = self.inducer.programs[np.arange(self.num_lanes), self.program, -1]
        actions = self.rng.integers(self.tasks.action_space.n, size=self.num_lanes)  # explore where no rule fires
        facts = self.domain.state_facts(obs)
        for lane in np.flatnonzero(active):
            rules = self._policy(int(goal_rules[lane]))
            head = fire(rules, facts[lane])
            self.counts.rule_evals += len(rules)
            action = None if head is None else self.domain.action_of(head, obs[lane])
            if action is not None:
                actions[lane] = action
        self.counts.decisions += int(active.sum())
        return actions

    def _policy(self, goal_rule: int) -> tuple[Rule, ...]:
        if goal_rule not in self._policies:
            self._policies[goal_rule] = self.domain.policy_rules(goal_rule)
        return self._policies[goal_rule]

    def observe(self, obs: Any, actions: Any, rewards: Any, next_obs: Any, terminated: Any, truncated: Any,
                active: Any) -> None:
        lanes = np.flatnonzero(np.asarray(active, dtype=bool) & self.started)
        if not lanes.size:
            return
        facts, heads = self.domain.transition_rows(np.asarray(obs)[lanes], np.asarray(actions)[lanes],
                                                   np.asarray(rewards)[lanes], np.asarray(next_obs)[lanes])
        self.inducer.update(lanes, facts, heads)
        self.need[lanes[self.inducer.refuted(lanes, self.program[lanes])]] = True

    def end_episode(self, mask: Any) -> None:
        self.need |= np.asarray(mask, dtype=bool)

    def ops(self) -> OpCounts:
        return OpCounts(**self.counts.as_dict())

    def explain(self, lane: int = 0, top: int = 5) -> list[tuple[Rule, float]]:
        """The ``top`` most probable rules of lane ``lane`` (goal rules first), with their
        posterior probabilities; empty before the lane's first observation."""
        if not self.started[lane]:
            return []
        marg = self.inducer.rule_marginals(int(lane))
        goal = sorted(((p, r) for r, p in marg.items() if self.domain.rule_head[r] == 0), reverse=True)
        opens = sorted(((p, r) for r, p in marg.items() if self.domain.rule_head[r] != 0), reverse=True)
        return [(self.domain.rules[r], p) for p, r in goal[:top] + opens[:top]]

    def best_goal_rule(self, lane: int = 0) -> int:
        """The pool index of the lane's most probable goal rule (ties: the highest index;
        -1 before the lane's first observation)."""
        if not self.started[lane]:
            return -1
        marg = self.inducer.rule_marginals(int(lane))
        return max((p, r) for r, p in marg.items() if self.domain.rule_head[r] == 0)[1]


class SymbolicAgent(SingleLaneAgent):
    """One agent: ``explain()`` lists the rules it believes, with their probabilities."""

    def explain(self, top: int = 5) -> list[tuple[Rule, float]]:
        return self.inner.explain(0, top)
