"""A third-party backend written only against DESIGN.md's contract (metaplastic.core).

Explore-then-commit on discrete-action tasks: pull each arm ``explore`` times, then commit
to the best. Meta-training chooses ``explore`` on training tasks — learning to learn, in
its simplest form.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from metaplastic.core import Capabilities, OpCounts, Transition


class ProbeAgent:
    def __init__(self, n_actions: int, explore: int):
        self.n, self.explore = n_actions, explore
        self.reset()

    def reset(self, *, seed=None):
        self.rng = np.random.default_rng(seed)
        self.pulls = np.zeros(self.n)
        self.wins = np.zeros(self.n)
        self.t = 0
        self.counts = OpCounts()

    def act(self, obs):
        x = np.asarray(obs, dtype=float)
        if not np.all(np.isfinite(x)):
            raise ValueError("observation contains NaN")
        self.counts.decisions += 1
        self.counts.macs += self.n
        if self.t < self.explore * self.n:
            return self.t % self.n
        means = self.wins / np.maximum(self.pulls, 1)
        best = np.flatnonzero(means == means.max())
        return int(self.rng.choice(best))

    def observe(self, transition: Transition):
        self.pulls[transition.action] += 1
        self.wins[transition.action] += transition.reward
        self.t += 1

    def end_episode(self):
        pass

    def ops(self):
        return OpCounts(**self.counts.as_dict())


class ProbeLearner:
    """Explore-then-commit whose exploration length is meta-learned."""

    name = "probe"
    capabilities = Capabilities(meta_train=True, algorithms=("grid",))

    def __init__(self, explore: int = 0, seed: int = 0):
        self.explore, self.seed = int(explore), int(seed)

    def meta_train(self, tasks, *, budget, seed, callback=None):
        train = tasks.sample(100, seed=seed, split="train")
        scores = {}
        for explore in range(4):
            total = 0.0
            for i, task in enumerate(train):
                agent, env = ProbeAgent(tasks.action_space.n, explore), tasks.make_env(task)
                agent.reset(seed=i)
                for e in range(tasks.episodes_per_trial):
                    obs, _ = env.reset(seed=i if e == 0 else None)
                    a = agent.act(obs)
                    nxt, r, te, tr, _ = env.step(a)
                    agent.observe(Transition(obs, a, float(r), nxt, te, tr))
                    total += r
            scores[explore] = total
        self.explore = max(scores, key=scores.get)
        return scores

    def agent(self, tasks):
        return ProbeAgent(tasks.action_space.n, self.explore)

    def save(self, path):
        Path(path).mkdir(parents=True, exist_ok=True)
        tmp = Path(path) / "config.json.tmp"
        tmp.write_text(json.dumps({"backend": self.name, "config": {"explore": self.explore, "seed": self.seed}}))
        os.replace(tmp, Path(path) / "config.json")

    @classmethod
    def load(cls, path):
        doc = json.loads((Path(path) / "config.json").read_text())
        return cls(**doc["config"])
