"""The domain theory of ``blocks``: which goal rule pays, induced from rewards.

A task's hidden rule is one of three goal rules (NLRL's tasks):

* ``reward :- one_column`` (STACK: every block in one column),
* ``reward :- all_on_floor`` (UNSTACK),
* ``reward :- on(X, Y), goal_on(X, Y)`` (ON: the goal pair, shown by ``goal_on`` facts).

A transition becomes the facts ``one_column``, ``all_on_floor`` and ``goal_holds`` of the
state the move leads to, and the outcome ``reward``. An ON task always shows its
``goal_on`` facts and the others never do, so a room with a ``goal_on`` fact has the one
program ON and a room without has STACK and UNSTACK: the prior (how often each goal recurs
in training) and the first rewards decide between them. A program is acted on by its policy
rule ``move(X, Y) :- first_move(G, X, Y)``, executed on the room's planning facts (the first
move of a shortest plan to each goal, :func:`metaplastic.tasks.blocks.optimal_move`); when
it cannot fire (the goal already holds without paying) the agent explores.

Example:
    >>> import metaplastic
    >>> dom = BlocksDomain(metaplastic.make_tasks("blocks"))
    >>> [r.prolog() for r in dom.rules]
    ['reward :- one_column.', 'reward :- all_on_floor.', 'reward :- on(X, Y), goal_on(X, Y).']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metaplastic.symbolic.language import Literal, Rule, Term
from metaplastic.tasks.blocks import ABSENT, BLOCK_NAMES, FLOOR, below_of, optimal_move, satisfied

GOALS = ("stack", "unstack", "on")
_BODIES = {"stack": (Term("one_column"),), "unstack": (Term("all_on_floor"),),
           "on": (Term("on", (Term("X"), Term("Y"))), Term("goal_on", (Term("X"), Term("Y"))))}


class BlocksDomain:
    """Facts, rules and programs of one ``blocks`` family (see the module doc)."""

    templates = {"goal": "reward :- G (G: one_column | all_on_floor | on(X, Y), goal_on(X, Y))"}
    pattern_names = GOALS

    def __init__(self, tasks: Any):
        self.tasks = tasks
        self.m = tasks.max_blocks
        self.facts = ("one_column", "all_on_floor", "goal_holds")
        self.heads = ("reward",)
        self.rules = tuple(Rule(Term("reward"), tuple(Literal(t) for t in _BODIES[g])) for g in GOALS)
        self.must = np.eye(len(GOALS), dtype=bool)
        self.must_not = np.zeros_like(self.must)
        self.rule_head = np.zeros(len(GOALS), dtype=np.int64)
        self.rule_template = np.zeros(len(GOALS), dtype=np.int64)
        self.rule_pattern = np.arange(len(GOALS), dtype=np.int64)
        self.max_slots = 1

    # -- reading observations -------------------------------------------------------------------
    def _goal_pairs(self, obs: np.ndarray) -> list[tuple[int, int] | None]:
        g = np.asarray(obs).reshape(len(obs), -1)[:, self.tasks.blocks["goal_on"]] > 0.5
        g = g.reshape(len(obs), self.m, self.m - 1)
        out: list[tuple[int, int] | None] = []
        for row in g:
            hits = np.argwhere(row)
            if not len(hits):
                out.append(None)
                continue
            x, j = (int(v) for v in hits[0])
            out.append((x, j + (j >= x)))  # column j of row x is slot j (j < x) or j + 1
        return out

    def _states(self, obs: np.ndarray) -> list[tuple[int, ...]]:
        below = below_of(self.tasks, np.asarray(obs).reshape(len(obs), -1))
        return [tuple(int(b) for b in row[row != ABSENT]) for row in below]

    def programs_for(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ON alone when the room shows a goal pair, else STACK and UNSTACK."""
        shown = self._goal_pairs(np.asarray(obs)[None])[0] is not None
        progs = [[GOALS.index("on")]] if shown else [[GOALS.index("stack")], [GOALS.index("unstack")]]
        return np.array(progs, dtype=np.int64), np.zeros(len(progs), dtype=np.int64)

    def log_prior(self, progs: np.ndarray, prior: Any) -> np.ndarray:
        out = np.log([prior.prob("goal", GOALS[int(p[-1])]) for p in progs])
        return out - np.logaddexp.reduce(out)

    def transition_rows(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                        next_obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        goals = self._goal_pairs(obs)
        states = self._states(next_obs)
        facts = np.array([[satisfied("stack", None, s), satisfied("unstack", None, s),
                           g is not None and len(s) > max(g) and satisfied("on", g, s)]
                          for s, g in zip(states, goals)], dtype=bool).reshape(len(obs), 3)
        heads = (np.asarray(rewards).reshape(len(obs), 1) > 0.5)
        return facts, heads

    # -- acting ------------------------------------------------------------------------------------
    def policy_rules(self, goal_rule: int) -> tuple[Rule, ...]:
        """The acting rule of a goal: move along a shortest plan to it."""
        goal = Term(GOALS[goal_rule])
        return (Rule(Term("move", (Term("X"), Term("Y"))),
                     (Literal(Term("first_move", (goal, Term("X"), Term("Y")))),)),)

    def state_facts(self, obs: np.ndarray) -> list[frozenset[Term]]:
        """Each lane's planning facts: ``first_move(G, X, Y)``, the first move of a shortest
        plan to each goal ``G`` this room can have (none once the goal holds)."""
        out = []
        for goal, state in zip(self._goal_pairs(obs), self._states(obs)):
            facts = set()
            kinds = ("on",) if goal is not None else ("stack", "unstack")
            for kind in kinds:
                if not state or (kind == "on" and max(goal) >= len(state)):
                    continue
                move = optimal_move(kind, goal if kind == "on" else None, state)
                if move is not None:
                    x, y = move
                    where = Term("floor") if y == FLOOR else Term(BLOCK_NAMES[y])
                    facts.add(Term("first_move", (Term(kind), Term(BLOCK_NAMES[x]), where)))
            out.append(frozenset(facts))
        return out

    def action_of(self, head: Term, obs: np.ndarray) -> int | None:
        x = BLOCK_NAMES.index(head.args[0].name)
        y = self.m if head.args[1].name == "floor" else BLOCK_NAMES.index(head.args[1].name)
        return x * (self.m + 1) + y

    # -- the hidden rule ---------------------------------------------------------------------------
    def true_goal_rule(self, rule: dict[str, Any]) -> int:
        return GOALS.index(rule["task"])

    def patterns(self, rule: dict[str, Any]) -> dict[str, list[int]]:
        counts = [0] * len(GOALS)
        counts[GOALS.index(rule["task"])] = 1
        return {"goal": counts}
