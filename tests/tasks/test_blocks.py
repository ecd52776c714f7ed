import collections

import numpy as np
import pytest

import metaplastic
import metaplastic.core
from metaplastic.baselines.blocks_policies import OracleBlocksPolicy
from metaplastic.errors import ConfigError, LimitExceeded
from metaplastic.tasks.base import TaskFamily
from metaplastic.tasks.blocks import (ABSENT, BLOCK_NAMES, FACT_GROUPS, FLOOR, GOAL_REWARD, KINDS, OOD_VARIANTS,
                                      STEP_REWARD, all_states, below_of, columns, distance, from_columns, nlrl_layout,
                                      optimal_move, satisfied, schema, successors, to_columns, true_facts)
from metaplastic.testing import TaskFamilyConformance

from tests.tasks._support import compare_vector_with_single

SPLITS = ("train", "test", "ood")


@pytest.fixture
def bw():
    return metaplastic.make_tasks("blocks")


def _task(task="on", goal=(0, 1), cols=((0, 1, 2), (3,)), variant="random"):
    return metaplastic.core.Task("blocks", {"task": task, "goal": goal, "columns": cols, "variant": variant}, seed=0)


def _state(task):
    return from_columns(task.params["columns"])


def _n(task):
    return sum(len(c) for c in task.params["columns"])


def test_defaults_and_spaces(bw):
    assert bw.config == {"blocks": 4, "ood_blocks": 7, "stack": 1.0, "unstack": 1.0, "on": 1.0, "steps": 50, "n": 2}
    assert bw.episodes_per_trial == 2 and bw.max_blocks == 7
    assert bw.action_space.n == 7 * 8
    assert bw.observation_space.shape == (106,) and bw.observation_space.dtype == np.float32
    assert bw.observation_space.low.min() == 0.0 and bw.observation_space.high.max() == 1.0
    assert bw.reference == "oracle" and bw.episode_steps() == 50
    assert bw.move("a", "b") == 1 and bw.move("g", "floor") == 6 * 8 + 7 and bw.move(2, 0) == 16
    with pytest.raises(ValueError, match="no move"):
        bw.move(7, 0)


@pytest.mark.parametrize("spec, fragment, error", [
    ("blocks:ood_blocks=4", "ood_blocks=4 must be above blocks=4", ConfigError),
    ("blocks:blocks=6,ood_blocks=6", "ood_blocks=6 must be above blocks=6", ConfigError),
    ("blocks:stack=0,unstack=0,on=0", "the weights stack, unstack and on are all 0", ConfigError),
    ("blocks:ood_blocks=8", "ood_blocks=8 is above its limit of 7", LimitExceeded),
    ("blocks:blocks=7", "blocks=7 is above its limit of 6", LimitExceeded),
    ("blocks:blocks=2", "blocks must be an integer >= 3", ConfigError),
    ("blocks:on=-1", "on must be a number >= 0", ConfigError),
    ("blocks:steps=0", "steps must be an integer >= 1", ConfigError),
    ("blocks:n=10000,steps=1000", "a trial of 10000 episodes x 1000 steps", LimitExceeded),
    ("blocks:goal=2", "unknown parameter 'goal'", ConfigError),
])
def test_bad_specs(spec, fragment, error):
    with pytest.raises(error) as err:
        metaplastic.make_tasks(spec)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_spec_round_trip():
    spec = "blocks:blocks=3,ood_blocks=5,stack=0.5,unstack=0,on=2,steps=12,n=3"
    tasks = metaplastic.make_tasks(spec)
    assert tasks.spec == spec and metaplastic.make_tasks(tasks.spec).spec == spec
    assert metaplastic.make_tasks("blocks:on=2,n=3").spec == metaplastic.make_tasks("blocks", on=2, n=3).spec
    assert metaplastic.make_tasks("blocks").spec == "blocks:blocks=4,ood_blocks=7,stack=1,unstack=1,on=1,steps=50,n=2"


def test_sampling_is_reproducible_and_splits_disjoint(bw):
    a = bw.sample(50, seed=3, split="train")
    assert a == bw.sample(50, seed=3, split="train") and a != bw.sample(50, seed=4, split="train")
    seeds = {s: {t.seed for t in bw.sample(300, seed=0, split=s)} for s in SPLITS}
    assert not seeds["train"] & seeds["test"] and not seeds["train"] & seeds["ood"] and not seeds["test"] & seeds["ood"]
    assert {TaskFamily.split_of(t) for t in bw.sample(5, seed=0, split="ood")} == {"ood"}
    for t in a:  # plain data
        p = t.params
        assert set(p) == {"task", "goal", "columns", "variant"} and p["task"] in KINDS and p["variant"] == "random"
        assert all(isinstance(c, tuple) and all(type(b) is int for b in c) for c in p["columns"])
        if p["task"] == "on":
            assert len(p["goal"]) == 2 and all(type(g) is int for g in p["goal"])
        else:
            assert p["goal"] is None


@pytest.mark.parametrize("split", SPLITS)
def test_the_goal_never_holds_at_reset(bw, split):
    tasks = bw.sample(600, seed=1, split=split)
    venv = bw.make_vector_env(tasks)
    obs, _ = venv.reset(seed=0)
    below = below_of(bw, obs)
    for task, row in zip(tasks, below):
        n = _n(task)
        state = tuple(int(b) for b in row[:n])
        assert state == _state(task) and (row[n:] == ABSENT).all()
        goal = task.params["goal"]
        assert not satisfied(task.params["task"], goal, state)
        assert bw.optimal_steps(task) >= 1
        assert to_columns(state) == task.params["columns"]  # columns are stored sorted by bottom block


def test_the_distribution_of_goals_and_train_states(bw):
    tasks = bw.sample(3000, seed=0, split="train")
    kinds = collections.Counter(t.params["task"] for t in tasks)
    assert all(abs(kinds[k] - 1000) < 4 * np.sqrt(3000 * (1 / 3) * (2 / 3)) for k in KINDS), kinds
    assert {_n(t) for t in tasks} == {4}
    pairs = collections.Counter(t.params["goal"] for t in tasks if t.params["task"] == "on")
    assert set(pairs) == {(x, y) for x in range(4) for y in range(4) if x != y}  # every ordered pair
    # unstack: uniform over the 72 states of 4 blocks that are not all on the floor
    unstack = metaplastic.make_tasks("blocks:stack=0,on=0").sample(7200, seed=0)
    counts = collections.Counter(_state(t) for t in unstack)
    assert {t.params["task"] for t in unstack} == {"unstack"} and len(counts) == 72
    chi2 = sum((c - 100) ** 2 / 100 for c in counts.values())
    assert chi2 < 71 + 5 * np.sqrt(2 * 71), chi2
    # stack: uniform over the 73 - 24 states that are not one column
    stack = metaplastic.make_tasks("blocks:unstack=0,on=0").sample(2000, seed=0)
    assert len({_state(t) for t in stack}) == 73 - 24
    only_on = metaplastic.make_tasks("blocks:stack=0,unstack=0").sample(100, seed=0, split="ood")
    assert {t.params["task"] for t in only_on} == {"on"}


def test_ood_variants_occur_as_documented(bw):
    tasks = bw.sample(3000, seed=0, split="ood")
    seen = collections.Counter((t.params["task"], t.params["variant"]) for t in tasks)
    assert set(seen) == {(k, v) for k in KINDS for v in OOD_VARIANTS[k]}
    assert all(abs(c - 333) < 4 * np.sqrt(3000 * (1 / 9) * (8 / 9)) for c in seen.values()), seen
    sizes = collections.Counter(_n(t) for t in tasks if t.params["variant"] == "more_blocks")
    assert set(sizes) == {5, 6, 7}
    for t in tasks:
        p, n = t.params, _n(t)
        if p["variant"] == "more_blocks":
            assert 5 <= n <= 7
        else:
            assert n == 4 and p["columns"] == to_columns(nlrl_layout(p["variant"], p["task"], 4))
            assert p["goal"] == ((0, 1) if p["task"] == "on" else None)  # NLRL's goal on(a,b)


def test_nlrl_layouts():
    cols = lambda v, k, n=4: to_columns(nlrl_layout(v, k, n))  # noqa: E731
    assert cols("swap_top", "unstack") == cols("swap_top", "on") == ((0, 1, 3, 2),)  # a, b, d, c
    assert cols("swap_top", "stack") == ((0,), (1,), (2,), (3,))                    # "swap right 2" on the floor
    assert cols("two_columns", "unstack") == cols("two_columns", "stack") == ((1, 0), (2, 3))  # b, a and c, d
    assert cols("swap_middle", "on") == ((0, 2, 1, 3),)                              # a, c, b, d
    assert cols("two_columns", "stack", 5) == ((1, 0), (2, 3, 4))
    for n in range(3, 7):  # never a satisfied start, whatever the number of blocks
        for kind in KINDS:
            for variant in OOD_VARIANTS[kind][1:]:
                state = nlrl_layout(variant, kind, n)
                assert sorted(b for c in to_columns(state) for b in c) == list(range(n))
                assert not satisfied(kind, (0, 1) if kind == "on" else None, state), (kind, variant, n)
    tasks = metaplastic.make_tasks("blocks:blocks=3,ood_blocks=4")
    assert {_n(t) for t in tasks.sample(200, seed=0, split="ood")} == {3, 4}


def test_rules_are_plain_data_by_block_name(bw):
    assert bw.rules([_task()]) == [{"task": "on", "goal": ("a", "b")}]
    assert bw.rules([_task("stack", None)]) == [{"task": "stack", "goal": None}]
    for split in SPLITS:
        tasks = bw.sample(100, seed=2, split=split)
        for t, rule in zip(tasks, bw.rules(tasks)):
            assert rule["task"] == t.params["task"]
            if rule["task"] == "on":
                assert rule["goal"] == tuple(BLOCK_NAMES[g] for g in t.params["goal"])
            else:
                assert rule["goal"] is None


def test_schema_names_every_coordinate(bw):
    for spec in ("blocks", "blocks:blocks=3,ood_blocks=4"):
        tasks = metaplastic.make_tasks(spec)
        m = tasks.max_blocks
        names = schema(tasks)
        assert len(names) == tasks.observation_space.shape[0] == len(set(names)) == 2 * m * (m - 1) + 3 * m + 1
        assert list(tasks.blocks) == list(FACT_GROUPS)
        assert [tasks.blocks[g].start for g in FACT_GROUPS[1:]] == [tasks.blocks[g].stop for g in FACT_GROUPS[:-1]]
        assert tasks.blocks["goal_on"].stop == len(names)
        prefix = {"on": "on(", "on_floor": "on(", "top": "top(", "present": "present(", "floor": "floor(",
                  "goal_on": "goal_on("}
        for group, piece in tasks.blocks.items():
            assert all(n.startswith(prefix[group]) for n in names[piece])
        assert all(n.endswith(",floor)") for n in names[tasks.blocks["on_floor"]])
        assert not any(n.endswith(",floor)") for n in names[tasks.blocks["on"]])
    names = schema(bw)
    assert names[:7] == ("on(a,b)", "on(a,c)", "on(a,d)", "on(a,e)", "on(a,f)", "on(a,g)", "on(b,a)")
    assert names[bw.blocks["top"]] == tuple(f"top({b})" for b in "abcdefg")
    assert names[bw.blocks["floor"]] == ("floor(floor)",)
    assert names[-1] == "goal_on(g,f)"
    with pytest.raises(ValueError, match="106 facts"):
        true_facts(bw, np.zeros(5))


def test_a_scripted_episode(bw):
    # a, b, c bottom to top and d on the floor; the goal: a on b
    env = bw.make_env(_task())
    obs, _ = env.reset(seed=0)
    assert true_facts(bw, obs) == ["on(b,a)", "on(c,b)", "on(a,floor)", "on(d,floor)", "top(c)", "top(d)",
                                   "present(a)", "present(b)", "present(c)", "present(d)", "floor(floor)",
                                   "goal_on(a,b)"]
    dynamic = lambda o: [f for f in true_facts(bw, o) if f.startswith(("on(", "top("))]  # noqa: E731
    start = dynamic(obs)
    mv = bw.move
    script = [
        (mv("a", "d"), start),                  # a is covered: nothing moves
        (mv("c", "a"), start),                  # a is covered
        (mv("c", "c"), start),                  # onto itself
        (mv("c", "b"), start),                  # c is already on b: no change
        (mv("e", "floor"), start),              # e is absent
        (mv("d", "e"), start),                  # onto an absent block
        (mv("d", "floor"), start),              # d is already on the floor
        (mv("c", "d"), ["on(b,a)", "on(c,d)", "on(a,floor)", "on(d,floor)", "top(b)", "top(c)"]),
        (mv("d", "b"), ["on(b,a)", "on(c,d)", "on(a,floor)", "on(d,floor)", "top(b)", "top(c)"]),  # d is covered
        (mv("b", "c"), ["on(b,c)", "on(c,d)", "on(a,floor)", "on(d,floor)", "top(a)", "top(b)"]),
        (mv("a", "b"), ["on(a,b)", "on(b,c)", "on(c,d)", "on(d,floor)", "top(a)"]),  # the goal
    ]
    for i, (action, facts) in enumerate(script):
        obs, r, term, trunc, _ = env.step(action)
        last = i == len(script) - 1
        assert (dynamic(obs), r, term, trunc) == (facts, GOAL_REWARD if last else STEP_REWARD, last, False), action
        assert [f for f in true_facts(bw, obs) if f.startswith("present")] == [f"present({b})" for b in "abcd"]
        assert "goal_on(a,b)" in true_facts(bw, obs)
    assert columns(bw, obs) == ["dcba"]
    obs, _ = env.reset()
    assert dynamic(obs) == start  # a new episode starts from the task's initial state


def test_stack_and_unstack_goals(bw):
    env = bw.make_env(_task("stack", None, ((0, 1), (2,), (3,))))
    env.reset(seed=0)
    assert env.step(bw.move("c", "b"))[1:3] == (STEP_REWARD, False)
    obs, r, term, _, _ = env.step(bw.move("d", "c"))
    assert (columns(bw, obs), r, term) == (["abcd"], GOAL_REWARD, True)
    env = bw.make_env(_task("unstack", None, ((0, 1), (2, 3))))
    env.reset(seed=0)
    assert env.step(bw.move("b", "d"))[1:3] == (STEP_REWARD, False)  # still a column
    assert env.step(bw.move("b", "floor"))[1:3] == (STEP_REWARD, False)
    obs, r, term, _, _ = env.step(bw.move("d", "floor"))
    assert (columns(bw, obs), r, term) == (["a", "b", "c", "d"], GOAL_REWARD, True)


def test_episodes_truncate_after_steps():
    tasks = metaplastic.make_tasks("blocks:steps=3")
    env = tasks.make_env(_task())
    env.reset(seed=0)
    ends = [env.step(0)[1:4] for _ in range(3)]
    assert ends == [(STEP_REWARD, False, False), (STEP_REWARD, False, False), (STEP_REWARD, False, True)]
    env.reset()  # the goal at the last step: terminated, not truncated
    for x, y in (("c", "d"), ("b", "floor"), ("a", "b")):
        *_, term, trunc, _ = env.step(tasks.move(x, y))
    assert (term, trunc) == (True, False)


def test_bad_actions_raise(bw):
    env = bw.make_env(_task())
    env.reset(seed=0)
    for bad in (56, -1, 1.5, np.array([0, 1]), "0"):
        with pytest.raises(ValueError, match=r"integers in \[0, 56\)"):
            env.step(bad)
    venv = bw.make_vector_env(bw.sample(3, seed=0))
    venv.reset(seed=0)
    for bad in (np.array([0, 1, 56]), np.array([0, 1]), np.array([0.0, 1.0, 2.0]), np.array([[0, 1, 2]])):
        with pytest.raises(ValueError, match=r"integers in \[0, 56\)"):
            venv.step(bad)


def test_tasks_that_do_not_fit_are_refused(bw):
    with pytest.raises(ConfigError, match="family 'gridnavi'"):
        bw.make_env(metaplastic.core.Task("gridnavi", {"goal": (1, 2)}, seed=0))
    small = metaplastic.make_tasks("blocks:ood_blocks=5")
    big = next(t for t in bw.sample(50, seed=0, split="ood") if _n(t) > 5)
    for bad in (big, _task(goal=(1, 0)),  # b is already on a: the goal holds
                _task(goal=(0, 4)), _task(goal=(0, 0)), _task(goal=None), _task("stack", (0, 1)),
                _task("sort", None), _task(cols=((0, 1), (3,))), _task(cols=((0, 1, 2, 3),), task="stack", goal=None)):
        with pytest.raises(ConfigError, match="does not fit this family"):
            small.make_vector_env([bad])


def test_the_planner_matches_closed_forms():
    """Breadth-first distances agree with the closed forms of the three goals on every state:
    stack: n - the highest column; unstack: n - the number of columns; on(x,y): the blocks
    above x and above y, plus 1 (x above y in one column with k > 0 blocks between: one
    more, since x moves twice)."""
    for n in range(3, 7):
        for state in all_states(n):
            cols = to_columns(state)
            if not satisfied("stack", None, state):
                assert distance("stack", None, state) == n - max(map(len, cols))
            if not satisfied("unstack", None, state):
                assert distance("unstack", None, state) == n - len(cols)
            for x, y in ((0, 1), (2, 0), (n - 1, 1)):
                if satisfied("on", (x, y), state):
                    assert distance("on", (x, y), state) == 0
                    continue
                where = {b: (i, c.index(b), len(c)) for i, c in enumerate(cols) for b in c}
                (cx, hx, lx), (cy, hy, ly) = where[x], where[y]
                expected = (lx - hx - 1) + (ly - hy - 1) + 1
                if cx == cy:
                    expected = (lx - hx - 1) + 1 if hy > hx else (lx - hx - 1) + (hx - hy - 1) + 2
                assert distance("on", (x, y), state) == expected, (state, x, y)


def test_the_first_move_of_a_plan_gets_one_move_closer():
    for kind, goal in (("stack", None), ("unstack", None), ("on", (3, 1)), ("on", (0, 4))):
        for state in all_states(5):
            d = distance(kind, goal, state)
            move = optimal_move(kind, goal, state)
            if d == 0:
                assert move is None
                continue
            nxt = dict(successors(state))[move]
            assert distance(kind, goal, nxt) == d - 1


class _Mixed:
    """Random actions, and the oracle's move now and then, so that both endings happen."""

    def __init__(self, family, tasks, steps):
        self.family, self.steps = family, steps
        self.rng = np.random.default_rng(0)
        self.oracle = OracleBlocksPolicy(family, len(tasks), {})
        self.oracle.reset(list(range(len(tasks))))
        self.oracle.reveal_tasks(tasks)

    def __len__(self):
        return self.steps

    def __call__(self, obs):
        best = self.oracle.act(obs, np.ones(len(obs), dtype=bool))
        rand = self.rng.integers(0, self.family.action_space.n, size=len(obs))
        return np.where(self.rng.random(len(obs)) < 0.6, best, rand)


@pytest.mark.parametrize("split", SPLITS)
def test_vector_env_agrees_with_single_env(bw, split):
    tasks = bw.sample(8, seed=2, split=split)
    assert compare_vector_with_single(bw, tasks, _Mixed(bw, tasks, 150), dtype=np.float32) > 8
    short = metaplastic.make_tasks("blocks:steps=4")  # truncations too
    assert compare_vector_with_single(short, tasks, np.random.default_rng(1).integers(0, 56, size=(40, 8)),
                                      dtype=np.float32) >= 8 * 10


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("vectorized", [True, False])
def test_oracle_return_is_exact(bw, split, vectorized):
    n = 300 if vectorized else 60
    res = metaplastic.evaluate("oracle", bw, n_tasks=n, seed=0, split=split, vectorized=vectorized)
    tasks = bw.sample(n, seed=0, split=split)
    best = np.array([GOAL_REWARD + STEP_REWARD * (bw.optimal_steps(t) - 1) for t in tasks])
    assert res.returns.shape == (n, 2)
    np.testing.assert_allclose(res.returns, np.repeat(best[:, None], 2, axis=1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("split", SPLITS)
def test_oracle_reaches_the_goal_in_exactly_optimal_steps(bw, split):
    """Played one env at a time, every kind of start included: the oracle's episode lasts
    optimal_steps moves, every one of them carried out."""
    tasks = bw.sample(400, seed=5, split=split)
    kinds = {(t.params["task"], t.params["variant"], _n(t)) for t in tasks}
    if split == "ood":
        assert {(k, v) for k, v, _ in kinds} == {(k, v) for k in KINDS for v in OOD_VARIANTS[k]}
        assert {n for _, v, n in kinds if v == "more_blocks"} == {5, 6, 7}
    for task in tasks[:150] if split != "ood" else tasks:
        pol = OracleBlocksPolicy(bw, 1, {})
        pol.reset([0])
        pol.reveal_tasks([task])
        env = bw.make_env(task)
        obs, _ = env.reset(seed=0)
        k = bw.optimal_steps(task)
        for step in range(1, k + 1):
            before = obs
            obs, r, term, trunc, _ = env.step(int(pol.act(obs[None], np.ones(1, dtype=bool))[0]))
            assert not np.array_equal(before, obs)  # a carried-out move
            assert (term, r) == ((True, GOAL_REWARD) if step == k else (False, STEP_REWARD))


def test_random_is_much_worse(bw):
    for split in ("test", "ood"):
        oracle = metaplastic.evaluate("oracle", bw, n_tasks=300, seed=0, split=split).trial_returns
        rand = metaplastic.evaluate("random", bw, n_tasks=300, seed=0, split=split).trial_returns
        assert np.all(rand <= oracle + 1e-12) and rand.mean() < 0.25 * oracle.mean()


def test_oracle_lanes_can_be_shown_new_tasks(bw):
    tasks = [_task("unstack", None, ((0, 1),)), _task("stack", None, ((0,), (1,), (2,))), _task()]
    pol = OracleBlocksPolicy(bw, 3, {})
    pol.reset([0, 1, 2])
    pol.reveal_tasks([tasks[2]] * 3)
    pol.reveal_lanes([0, 1], tasks[:2])
    venv = bw.make_vector_env(tasks)
    obs, _ = venv.reset(seed=0)
    on = np.ones(3, dtype=bool)
    rewards = []
    for _ in range(3):
        obs, r, t, _, _ = venv.step(pol.act(obs, on))
        rewards.append(r.tolist())
    # plans of 1, 2 and 3 moves; lanes restart from their initial state when they reach the goal
    assert rewards == [[GOAL_REWARD, STEP_REWARD, STEP_REWARD], [GOAL_REWARD, GOAL_REWARD, STEP_REWARD],
                       [GOAL_REWARD, STEP_REWARD, GOAL_REWARD]]


def test_helpers():
    assert from_columns(((2, 0), (1,))) == (2, FLOOR, FLOOR)
    with pytest.raises(ValueError):
        from_columns(((0, 2),))
    assert [len(all_states(n)) for n in range(1, 8)] == [1, 3, 13, 73, 501, 4051, 37633]


class TestConformanceOfASmallWorld(TaskFamilyConformance):
    """The kit's checks on a smaller world with other goal weights."""

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("blocks:blocks=3,ood_blocks=5,stack=0.5,unstack=0,on=2,steps=8,n=3")
