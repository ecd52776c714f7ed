"""The domain theory of ``keydoor``: colour-level facts, the rule templates a task's hidden
rule is made of, and acting on a rule.

A transition becomes the colour-level facts ``holding(c)`` (the key held when acting),
``tried(door(c))`` (the door tried) and ``door_open(c)`` (a door already open before the
step), and the outcomes ``opened(door(c))`` (a door that opened at this step) and
``reward`` (the goal paid). Two templates:

* ``opens``: ``opened(door(D)) :- holding(K), tried(door(D)), \\+ door_open(D)`` — key
  colour ``K`` opens door ``D`` (one opener per door; an open door stays open);
* ``goal``: ``reward :- holding(K), tried(door(D))`` — the door that pays, with its opener.

A hypothesis (a *program*) is one ``opens`` rule per door of the task and one ``goal`` rule
agreeing with its door's ``opens`` rule; a task's hidden rule is one program. Argument
patterns (``K = D``: the key's colour matches the door's; ``K != D``) are what the prior
learns. A program is acted on through its goal rule's policy rules, a decision list
executed on the room's facts (:func:`metaplastic.symbolic.language.fire`):
``try(door(D)) :- holding(K)`` then ``pick(key(K)) :- \\+ holding(K)``.

Example:
    >>> import metaplastic
    >>> dom = KeyDoorDomain(metaplastic.make_tasks("keydoor"))
    >>> dom.rules[dom.goal_rule("red", "blue")].prolog()
    'reward :- holding(red), tried(door(blue)).'
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from metaplastic.symbolic.language import Literal, Rule, Term
from metaplastic.tasks.keydoor import COLOUR_NAMES

TEMPLATES = ("opens", "goal")
PATTERNS = ("K = D", "K != D")
TEMPLATE_TEXT = {"opens": "opened(door(D)) :- holding(K), tried(door(D)), \\+ door_open(D)",
                 "goal": "reward :- holding(K), tried(door(D))"}


def _door(c: str) -> Term:
    return Term("door", (Term(c),))


class KeyDoorDomain:
    """Facts, rule pool and programs of one ``keydoor`` family (see the module doc)."""

    templates = TEMPLATE_TEXT
    pattern_names = PATTERNS

    def __init__(self, tasks: Any):
        self.tasks = tasks
        self.colours = COLOUR_NAMES[: tasks.config["colours"]]
        c = len(self.colours)
        self.blocks = tasks.blocks
        self.n_keys = self.blocks["key_present"].stop - self.blocks["key_present"].start
        self.n_doors = self.blocks["door_present"].stop - self.blocks["door_present"].start
        # facts of a row: holding(c) for each colour, then tried(door(c)), then door_open(c)
        self.facts = (tuple(f"holding({x})" for x in self.colours) + tuple(f"tried(door({x}))" for x in self.colours)
                      + tuple(f"door_open({x})" for x in self.colours))
        # outcomes: reward, then opened(door(c))
        self.heads = ("reward",) + tuple(f"opened(door({x}))" for x in self.colours)
        rules, must, must_not, head, template, pattern = [], [], [], [], [], []
        for t, name in enumerate(TEMPLATES):
            for k, d in itertools.product(range(c), range(c)):
                body = [Literal(Term("holding", (Term(self.colours[k]),))), Literal(Term("tried", (_door(self.colours[d]),)))]
                h = Term("reward")
                if name == "opens":
                    h = Term("opened", (_door(self.colours[d]),))
                    body.append(Literal(Term("door_open", (Term(self.colours[d]),)), negated=True))
                rules.append(Rule(h, tuple(body)))
                row = np.zeros(3 * c, dtype=bool)
                row[k] = row[c + d] = True
                must.append(row)
                row = np.zeros(3 * c, dtype=bool)
                row[2 * c + d] = name == "opens"
                must_not.append(row)
                head.append(0 if name == "goal" else 1 + d)
                template.append(t)
                pattern.append(0 if k == d else 1)
        self.rules = tuple(rules)
        self.must = np.array(must)
        self.must_not = np.array(must_not)
        self.rule_head = np.array(head, dtype=np.int64)
        self.rule_template = np.array(template, dtype=np.int64)
        self.rule_pattern = np.array(pattern, dtype=np.int64)
        self.max_slots = self.n_doors + 1  # an opens rule per door slot, then the goal rule

    # -- rule indices -----------------------------------------------------------------------
    def _index(self, template: str, key: str, door: str) -> int:
        c = len(self.colours)
        return TEMPLATES.index(template) * c * c + self.colours.index(key) * c + self.colours.index(door)

    def goal_rule(self, key: str, door: str) -> int:
        return self._index("goal", key, door)

    def opens_rule(self, key: str, door: str) -> int:
        return self._index("opens", key, door)

    def log_prior(self, progs: np.ndarray, prior: Any) -> np.ndarray:
        """Per program: each door's opener by its template's pattern probability (shared
        among the keys of that pattern), normalized over programs."""
        c = len(self.colours)
        keys = np.unique(np.concatenate([progs[:, :-1] % (c * c) // c]).ravel())
        goal_door = progs[:, -1] % c
        out = np.zeros(len(progs))
        for s in range(progs.shape[1] - 1):
            rule = progs[:, s]
            k, door = rule // c, rule % c
            template = np.where(door == goal_door, TEMPLATES.index("goal"), TEMPLATES.index("opens"))
            same = (keys[None, :] == door[:, None]).sum(axis=1)
            alts = np.where(k == door, same, len(keys) - same)
            p = np.array([[prior.prob(t, pat) for pat in PATTERNS] for t in TEMPLATES])
            weight = p[template, np.where(k == door, 0, 1)]
            # a door with no key of its colour: every key is K != D, with all the mass
            weight = np.where(same == 0, 1.0, weight)
            out += np.log(weight) - np.log(np.maximum(alts, 1))
        out -= np.logaddexp.reduce(out)
        return out

    # -- reading observations -----------------------------------------------------------------
    def objects(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per lane: key colour per key slot, door colour per door slot (-1: none), held colour (-1)."""
        obs = np.asarray(obs).reshape(len(obs), -1) > 0.5
        c = len(self.colours)
        keys = obs[:, self.blocks["key_colour"]].reshape(len(obs), self.n_keys, c)
        doors = obs[:, self.blocks["door_colour"]].reshape(len(obs), self.n_doors, c)
        held = obs[:, self.blocks["holding"]]
        colour = lambda onehot: np.where(onehot.any(-1), onehot.argmax(-1), -1)  # noqa: E731
        return colour(keys), colour(doors), colour(held)

    def programs(self, key_colours: np.ndarray, door_colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The programs of one task's visible objects: ``(P, doors + 1)`` rule indices (the
        opens rules of each door, then the goal rule) and their ``(P,)`` goal door slots."""
        keys = sorted({int(k) for k in key_colours if k >= 0})
        doors = [int(d) for d in door_colours if d >= 0]
        c = len(self.colours)
        rows, goals = [], []
        for openers in itertools.product(keys, repeat=len(doors)):
            opens = [c * k + d for k, d in zip(openers, doors)]
            for g, (k, d) in enumerate(zip(openers, doors)):
                rows.append(opens + [c * c + c * k + d])
                goals.append(g)
        return np.array(rows, dtype=np.int64).reshape(len(rows), len(doors) + 1), np.array(goals, dtype=np.int64)

    def programs_for(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The programs of the task one observation shows (see :meth:`programs`)."""
        keys, doors, _ = self.objects(np.asarray(obs)[None])
        return self.programs(keys[0], doors[0])

    def transition_rows(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                        next_obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fact rows ``(B, facts)`` and outcome rows ``(B, heads)`` of a batch of transitions."""
        b = len(obs)
        c = len(self.colours)
        _, doors, held = self.objects(obs)
        facts = np.zeros((b, 3 * c), dtype=bool)
        heads = np.zeros((b, 1 + c), dtype=bool)
        rows = np.arange(b)
        facts[rows[held >= 0], held[held >= 0]] = True
        slot = np.asarray(actions, dtype=np.int64).reshape(b) - self.n_keys
        tried = (slot >= 0) & (slot < self.n_doors)
        door_c = np.where(tried, doors[rows, np.clip(slot, 0, self.n_doors - 1)], -1)
        facts[rows[door_c >= 0], c + door_c[door_c >= 0]] = True
        heads[:, 0] = np.asarray(rewards).reshape(b) > 0.5
        was = np.asarray(obs).reshape(b, -1)[:, self.blocks["door_open"]] > 0.5
        now = np.asarray(next_obs).reshape(b, -1)[:, self.blocks["door_open"]] > 0.5
        for j in range(self.n_doors):
            already = was[:, j] & (doors[:, j] >= 0)
            facts[rows[already], 2 * c + doors[already, j]] = True
        newly = now & ~was
        for j in range(self.n_doors):
            hit = newly[:, j] & (doors[:, j] >= 0)
            heads[rows[hit], 1 + doors[hit, j]] = True
        return facts, heads

    # -- acting ----------------------------------------------------------------------------------
    def policy_rules(self, goal_rule: int) -> tuple[Rule, ...]:
        """The action rules of a goal rule: try its door when holding its key, else pick the key."""
        c = len(self.colours)
        k, d = divmod(goal_rule - c * c, c)
        key, door = Term(self.colours[k]), _door(self.colours[d])
        return (Rule(Term("try", (door,)), (Literal(Term("holding", (key,))),)),
                Rule(Term("pick", (Term("key", (key,)),)), (Literal(Term("holding", (key,)), negated=True),)))

    def state_facts(self, obs: np.ndarray) -> list[frozenset[Term]]:
        """Each lane's true facts the policy rules read: ``holding(c)`` of the held key."""
        _, _, held = self.objects(obs)
        return [frozenset({Term("holding", (Term(self.colours[h]),))}) if h >= 0 else frozenset() for h in held]

    def action_of(self, head: Term, obs: np.ndarray) -> int | None:
        """The action a fired head names in this room (``None``: its key or door is absent)."""
        keys, doors, _ = self.objects(np.asarray(obs)[None])
        colour = self.colours.index(head.args[0].args[0].name)
        if head.name == "pick":
            slots = np.flatnonzero(keys[0] == colour)
            return int(slots[0]) if len(slots) else None
        slots = np.flatnonzero(doors[0] == colour)
        return self.n_keys + int(slots[0]) if len(slots) else None

    def true_goal_rule(self, rule: dict[str, Any]) -> int:
        """The goal rule of a task's hidden rule (as ``KeyDoor.rules`` gives it)."""
        return self.goal_rule(rule["opener"][rule["goal"]], rule["goal"])

    def patterns(self, rule: dict[str, Any]) -> dict[str, list[int]]:
        """Counts of each argument pattern per template in a task's hidden rule."""
        out = {t: [0] * len(PATTERNS) for t in TEMPLATES}
        for door, key in rule["opener"].items():
            template = "goal" if door == rule["goal"] else "opens"
            out[template][0 if key == door else 1] += 1
        return out
