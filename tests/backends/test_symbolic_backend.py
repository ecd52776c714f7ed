"""The ``symbolic`` backend on keydoor: conformance, what meta-training learns, rule recovery
with and without the prior, explanations, run directories and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runs.rundir import RunDir
from metaplastic.runtime.vector import drive_trials
from metaplastic.symbolic.language import parse_rule
from metaplastic.testing import LearnerConformance


class TestSymbolicKeyDoor(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("symbolic", prior_tasks=300)

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("keydoor:n=3")


def _recovery(learner, spec: str, split: str, n: int = 300, episodes: int = 3) -> dict[int, float]:
    tasks = metaplastic.make_tasks(spec)
    chunk = tasks.sample(n, seed=5, split=split)
    agent = learner.vector_agent(tasks, n)
    truth = np.array([agent.domain.true_goal_rule(r) for r in tasks.rules(chunk)])
    agent.reset(np.arange(n))
    done = np.zeros(n, dtype=int)
    hits: dict[int, list[bool]] = {}

    def end_episode(mask):
        agent.end_episode(mask)
        for lane in np.flatnonzero(mask):
            done[lane] += 1
            hits.setdefault(int(done[lane]), []).append(agent.best_goal_rule(int(lane)) == truth[lane])

    drive_trials(tasks.make_vector_env(chunk), episodes, env_seed=5, act=agent.act, observe=agent.observe,
                 end_episode=end_episode)
    return {k: float(np.mean(v)) for k, v in hits.items()}


def test_meta_training_learns_the_colour_regularities():
    learner = metaplastic.make("symbolic", prior_tasks=3000, floor=0.0)
    learner.meta_train(metaplastic.make_tasks("keydoor"), budget=1, seed=0, show_progress=False)
    prior = learner.rule_prior
    assert prior.prob("goal", "K = D") > 0.99  # training goal doors always open with their own colour
    assert abs(prior.prob("opens", "K = D") - 0.85) < 0.03  # the family's match rate
    floored = metaplastic.make("symbolic", prior_tasks=3000)  # default floor 0.05: unseen patterns stay plausible
    floored.meta_train(metaplastic.make_tasks("keydoor"), budget=1, seed=0, show_progress=False)
    assert abs(floored.rule_prior.prob("goal", "K != D") - 0.025) < 1e-3


def test_the_rule_is_recovered_and_the_prior_helps_on_short_episodes():
    spec = "keydoor:steps=3"
    learned = metaplastic.make("symbolic", prior_tasks=2000)
    learned.meta_train(metaplastic.make_tasks(spec), budget=1, seed=0, show_progress=False)
    uniform = metaplastic.make("symbolic", prior="uniform")
    with_prior, without = _recovery(learned, spec, "test"), _recovery(uniform, spec, "test")
    assert with_prior[3] >= 0.95, with_prior
    # one try per 3-step episode: the prior orders the tries (matching colours first)
    assert with_prior[1] > without[1] and with_prior[2] > without[2] + 0.1, (with_prior, without)


def test_explain_lists_readable_rules_with_probabilities():
    tasks = metaplastic.make_tasks("keydoor")
    learner = metaplastic.make("symbolic", prior_tasks=200)
    learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    agent = learner.agent(tasks)
    assert agent.explain() == []  # nothing seen yet
    task = tasks.sample(1, seed=3, split="test")[0]
    env = tasks.make_env(task)
    obs, _ = env.reset(seed=0)
    agent.reset(seed=0)
    for _ in range(tasks.config["steps"]):
        action = agent.act(obs)
        nxt, reward, term, trunc, _ = env.step(action)
        agent.observe(metaplastic.core.Transition(obs, action, reward, nxt, term, trunc))
        obs = nxt
        if term or trunc:
            break
    rules = agent.explain()
    assert rules and all(0.0 <= p <= 1.0 + 1e-9 for _, p in rules)
    best, p = rules[0]
    assert parse_rule(best.prolog()) == best and best.head.name == "reward"
    truth = tasks.rules([task])[0]
    assert best.text() == f"if holding({truth['opener'][truth['goal']]}) and tried(door({truth['goal']})) then reward"


def test_saved_prior_is_readable_json_and_reloads(tmp_path):
    learner = metaplastic.make("symbolic", prior_tasks=300)
    learner.meta_train(metaplastic.make_tasks("keydoor"), budget=1, seed=0, show_progress=False)
    learner.save(tmp_path / "run")
    doc = json.loads(RunDir(tmp_path / "run").file(RunDir.RULE_PRIOR).read_text())
    assert doc["templates"]["goal"]["rule"] == "reward :- holding(K), tried(door(D))"
    assert metaplastic.load(tmp_path / "run").rule_prior == learner.rule_prior
    RunDir(tmp_path / "run").file(RunDir.RULE_PRIOR).write_text('{"templates": {}}')
    with pytest.raises(RunDirError) as err:
        metaplastic.load(tmp_path / "run")
    assert "\n" not in str(err.value)


def test_family_without_a_domain_theory_is_one_line():
    with pytest.raises(ConfigError, match="no domain theory") as err:
        metaplastic.make("symbolic").vector_agent(metaplastic.make_tasks("bandits"), 1)
    assert "\n" not in str(err.value)


def test_operations_are_counted_and_priced():
    ops = metaplastic.evaluate(metaplastic.make("symbolic"), "keydoor:n=2", n_tasks=20, seed=0).ops
    assert ops.rule_evals > 0 and ops.bit_ops > 0 and ops.posterior_updates == ops.decisions


def test_the_true_program_never_mispredicts():
    """Every outcome of random play (keys picked, doors tried, open doors tried again) agrees
    with the task's hidden rule as a program: its mismatch count stays 0."""
    tasks = metaplastic.make_tasks("keydoor:steps=30,n=2")
    n = 200
    chunk = tasks.sample(n, seed=9, split="test")
    agent = metaplastic.make("symbolic", prior="uniform").vector_agent(tasks, n)
    agent.reset(np.arange(n))
    rng = np.random.default_rng(0)
    dom = agent.domain

    def act(obs, active):
        agent.act(obs, active)  # starts the lanes' programs
        return rng.integers(tasks.action_space.n, size=n)

    drive_trials(tasks.make_vector_env(chunk), 2, env_seed=1, act=act, observe=agent.observe,
                 end_episode=agent.end_episode)
    for lane, rule in enumerate(tasks.rules(chunk)):
        progs = agent.inducer.programs[lane, : agent.inducer.n_programs[lane]]
        c = len(dom.colours)
        true_opens = {dom.opens_rule(k, d) for d, k in rule["opener"].items()}
        match = [p for p in range(len(progs)) if progs[p, -1] == dom.true_goal_rule(rule)
                 and set(progs[p, :-1][progs[p, :-1] >= 0]) == true_opens]
        assert len(match) == 1 and agent.inducer.mism[lane, match[0]] == 0, (lane, c)


class TestSymbolicBlocks(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("symbolic", prior_tasks=300)

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("blocks:steps=20")


def test_blocks_goal_is_induced_and_played_near_optimally():
    tasks = metaplastic.make_tasks("blocks")
    learner = metaplastic.make("symbolic", prior_tasks=1000)
    learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    assert {"stack", "unstack", "on"} == set(learner.rule_prior.probs["goal"])
    mine = metaplastic.evaluate(learner, tasks, n_tasks=200, seed=2)
    best = metaplastic.evaluate("oracle", tasks, n_tasks=200, seed=2)
    assert mine.per_episode_mean[-1] == pytest.approx(best.per_episode_mean[-1])  # the rule is known by then
    assert mine.return_mean >= 0.97 * best.return_mean


def test_rule_prior_of_another_family_is_refused():
    learner = metaplastic.make("symbolic", prior_tasks=100)
    learner.meta_train(metaplastic.make_tasks("keydoor"), budget=1, seed=0, show_progress=False)
    with pytest.raises(ConfigError, match="meta-train it on these tasks") as err:
        learner.vector_agent(metaplastic.make_tasks("blocks"), 1)
    assert "\n" not in str(err.value)
