"""A third-party backend written ONLY to the core contract of DESIGN.md ("Public contract"):
``name``, ``capabilities``, ``meta_train``, ``agent``, ``save``, ``load``, and an agent with
``reset``/``act``/``observe``/``end_episode``/``ops``. Nothing optional: no ``vector_agent``,
no ``reveal_task``, no ``config_params``, and no checking of its observations (the harness
validates what the environment hands it).

Win-stay, lose-shift on discrete actions: repeat an action that was rewarded, otherwise
try the next one. Meta-training picks the first action to try on training tasks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from metaplastic.core import Capabilities, OpCounts, Transition


class MinimalAgent:
    def __init__(self, n_actions: int, first: int):
        self.n, self.first = n_actions, first
        self.action, self.decisions = first, 0

    def reset(self, *, seed=None):
        self.rng = np.random.default_rng(seed)
        self.action, self.decisions = self.first, 0

    def act(self, obs):
        self.decisions += 1
        return int(self.action)

    def observe(self, transition: Transition):
        if transition.reward <= 0:  # lose: shift to one of the other actions, at random
            self.action = (self.action + 1 + int(self.rng.integers(0, self.n - 1))) % self.n

    def end_episode(self):
        pass

    def ops(self):
        return OpCounts(decisions=self.decisions, macs=self.decisions)


class MinimalLearner:
    """Win-stay, lose-shift; meta-training chooses the first action to try."""

    name = "minimal"
    capabilities = Capabilities(meta_train=True, algorithms=("wsls",))

    def __init__(self, first: int = 0):
        self.first = int(first)

    def meta_train(self, tasks, *, budget, seed, callback=None):
        n = tasks.action_space.n
        train = tasks.sample(50, seed=seed, split="train")
        scores = []
        for first in range(n):
            total = 0.0
            for i, task in enumerate(train):
                agent, env = MinimalAgent(n, first), tasks.make_env(task)
                agent.reset(seed=i)
                for e in range(tasks.episodes_per_trial):
                    obs, _ = env.reset(seed=i if e == 0 else None)
                    done = False
                    while not done:
                        a = agent.act(obs)
                        nxt, r, term, trunc, _ = env.step(a)
                        agent.observe(Transition(obs, a, float(r), nxt, bool(term), bool(trunc)))
                        total, obs, done = total + float(r), nxt, bool(term or trunc)
                    agent.end_episode()
            scores.append(total)
        self.first = int(np.argmax(scores))
        return {"scores": scores}

    def agent(self, tasks):
        return MinimalAgent(tasks.action_space.n, self.first)

    def save(self, path):
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "config.json").write_text(json.dumps({"backend": self.name, "config": {"first": self.first}}))

    @classmethod
    def load(cls, path):
        return cls(**json.loads((Path(path) / "config.json").read_text())["config"])
