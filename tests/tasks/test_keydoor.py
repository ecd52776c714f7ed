import numpy as np
import pytest

import metaplastic
import metaplastic.core
import metaplastic.errors
from metaplastic.baselines.keydoor_policies import OracleKeyDoorPolicy
from metaplastic.errors import ConfigError, LimitExceeded
from metaplastic.tasks.base import TaskFamily
from metaplastic.tasks.keydoor import BLOCKS, COLOUR_NAMES, GOAL_REWARD, STEP_REWARD, schema, true_facts
from metaplastic.testing import TaskFamilyConformance

from tests.tasks._support import compare_vector_with_single

SPLITS = ("train", "test", "ood")
ORACLE_EPISODE = STEP_REWARD + GOAL_REWARD  # pick up the opener, open the goal door


@pytest.fixture
def kd():
    return metaplastic.make_tasks("keydoor")


def _task(key_colours=(0, 1, 2), door_colours=(2, 0, 1), opener=(2, 0, 0), goal=1):
    return metaplastic.core.Task("keydoor", {"key_colours": key_colours, "door_colours": door_colours,
                                             "opener": opener, "goal": goal}, seed=0)


def _own(p):
    """The key slot of each door's own colour (-1 where no key has it)."""
    return [p["key_colours"].index(c) if c in p["key_colours"] else -1 for c in p["door_colours"]]


def test_defaults_and_spaces(kd):
    c = kd.config
    assert c == {"colours": 6, "keys": 3, "doors": 3, "ood_keys": 4, "ood_doors": 4, "match": 0.85, "steps": 10, "n": 4}
    assert kd.episodes_per_trial == 4
    assert (kd.key_slots, kd.door_slots) == (4, 4)
    assert kd.action_space.n == 8
    assert kd.observation_space.shape == (66,) and kd.observation_space.dtype == np.float32
    assert kd.observation_space.low.min() == 0.0 and kd.observation_space.high.max() == 1.0
    assert kd.reference == "oracle" and kd.episode_steps() == 10


@pytest.mark.parametrize("spec, fragment, error", [
    ("keydoor:keys=7", "keys=7 needs as many colours, but colours=6", ConfigError),
    ("keydoor:colours=3", "ood_keys=4 needs as many colours, but colours=3", ConfigError),
    ("keydoor:colours=9", "colours=9 is above its limit of 8", LimitExceeded),
    ("keydoor:ood_keys=1", "ood_keys must be an integer >= 2", ConfigError),
    ("keydoor:keys=0", "keys must be an integer >= 1", ConfigError),
    ("keydoor:match=1.5", "match=1.5 is above its limit of 1", LimitExceeded),
    ("keydoor:steps=1", "steps must be an integer >= 2", ConfigError),
    ("keydoor:n=10000,steps=1000", "a trial of 10000 episodes x 1000 steps", LimitExceeded),
    ("keydoor:goal=2", "unknown parameter 'goal'", ConfigError),
])
def test_bad_specs(spec, fragment, error):
    with pytest.raises(error) as err:
        metaplastic.make_tasks(spec)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_spec_round_trip():
    spec = "keydoor:colours=8,keys=2,doors=3,ood_keys=5,ood_doors=6,match=0.7,steps=12,n=3"
    tasks = metaplastic.make_tasks(spec)
    assert tasks.spec == spec and metaplastic.make_tasks(tasks.spec).spec == spec
    assert metaplastic.make_tasks("keydoor:keys=2,n=3").spec == metaplastic.make_tasks("keydoor", keys=2, n=3).spec


def test_sampling_is_reproducible_and_splits_disjoint(kd):
    a = kd.sample(50, seed=3, split="train")
    assert a == kd.sample(50, seed=3, split="train") and a != kd.sample(50, seed=4, split="train")
    seeds = {s: {t.seed for t in kd.sample(300, seed=0, split=s)} for s in SPLITS}
    assert not seeds["train"] & seeds["test"] and not seeds["train"] & seeds["ood"] and not seeds["test"] & seeds["ood"]
    assert {TaskFamily.split_of(t) for t in kd.sample(5, seed=0, split="ood")} == {"ood"}
    p = a[0].params  # plain data
    assert all(isinstance(v, tuple) and all(type(x) is int for x in v) for k, v in p.items() if k != "goal")
    assert type(p["goal"]) is int


def test_rooms_and_the_distribution_of_rules(kd):
    n = 5000
    matches, others = 0, 0
    colours_seen = set()
    for split, (n_keys, n_doors) in (("train", (3, 3)), ("test", (3, 3)), ("ood", (4, 4))):
        assert kd.sizes(split) == (n_keys, n_doors)
        for t in kd.sample(n if split == "train" else 1000, seed=0, split=split):
            p = t.params
            keys, doors, opener, goal = p["key_colours"], p["door_colours"], p["opener"], p["goal"]
            assert (len(keys), len(doors), len(opener)) == (n_keys, n_doors, n_doors)
            assert len(set(keys)) == n_keys and len(set(doors)) == n_doors  # distinct colours
            assert set(doors) <= set(keys)  # doors <= keys: every door has a key of its own colour
            own = _own(p)
            if split == "ood":
                assert opener[goal] != own[goal]  # the goal door never opens with its own colour's key in ood
            else:
                assert opener[goal] == own[goal]  # ... and always in train/test
            if split == "train":
                colours_seen |= set(keys)
                for j in range(n_doors):
                    if j != goal:
                        matches += opener[j] == own[j]
                        others += 1
    assert colours_seen == set(range(6))
    rate = matches / others
    se = np.sqrt(0.85 * 0.15 / others)
    assert abs(rate - 0.85) < 4 * se, rate
    goals = [t.params["goal"] for t in kd.sample(3000, seed=1)]
    counts = np.bincount(goals, minlength=3)
    assert np.all(np.abs(counts - 1000) < 4 * np.sqrt(3000 * (1 / 3) * (2 / 3)))  # the goal slot is uniform


def test_match_extremes_and_doors_without_a_key_of_their_colour():
    always = metaplastic.make_tasks("keydoor:match=1")
    for split in ("train", "test"):
        for t in always.sample(200, seed=0, split=split):
            assert list(t.params["opener"]) == _own(t.params)
    never = metaplastic.make_tasks("keydoor:match=0")
    for t in never.sample(200, seed=0):
        own, goal = _own(t.params), t.params["goal"]
        assert all((o == own[j]) == (j == goal) for j, o in enumerate(t.params["opener"]))
    more_doors = metaplastic.make_tasks("keydoor:keys=2,doors=3,ood_keys=2,ood_doors=4")
    for split in SPLITS:
        for t in more_doors.sample(300, seed=0, split=split):
            own = _own(t.params)
            assert sorted(own).count(-1) == (2 if split == "ood" else 1)  # doors beyond the keys have no key
            assert own[t.params["goal"]] >= 0  # the goal door always has a key of its own colour
            assert (t.params["opener"][t.params["goal"]] == own[t.params["goal"]]) == (split != "ood")


def test_rules_are_plain_data_by_colour_name(kd):
    assert kd.rules([_task()]) == [{"opener": {"blue": "blue", "red": "red", "green": "red"}, "goal": "red"}]
    for split in SPLITS:
        tasks = kd.sample(100, seed=2, split=split)
        for t, rule in zip(tasks, kd.rules(tasks)):
            p = t.params
            assert set(rule["opener"]) == {COLOUR_NAMES[c] for c in p["door_colours"]}
            assert set(rule["opener"].values()) <= {COLOUR_NAMES[c] for c in p["key_colours"]}
            assert (rule["opener"][rule["goal"]] == rule["goal"]) == (split != "ood")


def test_schema_names_every_coordinate(kd):
    for spec in ("keydoor", "keydoor:colours=8,keys=2,doors=5,ood_keys=6,ood_doors=3"):
        tasks = metaplastic.make_tasks(spec)
        names = schema(tasks)
        assert len(names) == tasks.observation_space.shape[0] == len(set(names))
        assert list(tasks.blocks) == list(BLOCKS)
        assert [tasks.blocks[b].start for b in BLOCKS[1:]] == [tasks.blocks[b].stop for b in BLOCKS[:-1]]
        assert tasks.blocks["door_open"].stop == len(names)
        for block, piece in tasks.blocks.items():
            assert all(n.startswith(block + "(") for n in names[piece])
    names = schema(kd)
    assert names[:5] == ("key_present(0)", "key_present(1)", "key_present(2)", "key_present(3)", "key_colour(0,red)")
    assert names[kd.blocks["holding"]] == tuple(f"holding({c})" for c in COLOUR_NAMES[:6])
    assert names[-4:] == ("door_open(0)", "door_open(1)", "door_open(2)", "door_open(3)")
    with pytest.raises(ValueError, match="66 facts"):
        true_facts(kd, np.zeros(5))


def test_a_scripted_episode(kd):
    # keys: red (slot 0), green (1), blue (2); doors: blue (0), red (1, the goal), green (2)
    # openers: blue door <- blue key; red door <- red key; green door <- red key (an exception)
    env = kd.make_env(_task())
    obs, _ = env.reset(seed=0)
    assert true_facts(kd, obs) == ["key_present(0)", "key_present(1)", "key_present(2)",
                                   "key_colour(0,red)", "key_colour(1,green)", "key_colour(2,blue)",
                                   "door_present(0)", "door_present(1)", "door_present(2)",
                                   "door_colour(0,blue)", "door_colour(1,red)", "door_colour(2,green)"]
    dynamic = lambda o: [f for f in true_facts(kd, o) if f.startswith(("holding", "door_open"))]  # noqa: E731
    door = lambda j: kd.key_slots + j  # noqa: E731
    script = [
        (door(1), [], STEP_REWARD, False),                 # no key: nothing opens
        (3, [], STEP_REWARD, False),                       # key slot 3 is empty: nothing held
        (1, ["holding(green)"], STEP_REWARD, False),       # the green key
        (door(2), ["holding(green)"], STEP_REWARD, False),  # green door, green key: an exception, stays shut
        (0, ["holding(red)"], STEP_REWARD, False),         # the red key (the green one goes back)
        (door(2), ["holding(red)", "door_open(2)"], STEP_REWARD, False),  # red opens the green door, not the goal
        (door(3), ["holding(red)", "door_open(2)"], STEP_REWARD, False),  # door slot 3 is empty
        (door(0), ["holding(red)", "door_open(2)"], STEP_REWARD, False),  # the blue door needs the blue key
        (door(1), ["holding(red)", "door_open(1)", "door_open(2)"], GOAL_REWARD, True),  # the goal
    ]
    for action, facts, reward, terminated in script:
        obs, r, term, trunc, _ = env.step(action)
        assert (dynamic(obs), r, term, trunc) == (facts, reward, terminated, False), action
    obs, _ = env.reset()
    assert dynamic(obs) == []  # a new episode: nothing held, every door shut


def test_episodes_truncate_after_steps():
    tasks = metaplastic.make_tasks("keydoor:steps=3")
    env = tasks.make_env(_task())
    env.reset(seed=0)
    ends = [env.step(0)[2:4] for _ in range(3)]
    assert ends == [(False, False), (False, False), (False, True)]
    env.reset()
    env.step(0)
    assert env.step(tasks.key_slots + 1)[1:4] == (GOAL_REWARD, True, False)  # the goal at step 2
    env.reset()  # the goal opened at the last step: terminated, not truncated
    env.step(1)
    env.step(0)
    assert env.step(tasks.key_slots + 1)[1:4] == (GOAL_REWARD, True, False)


def test_bad_actions_raise(kd):
    env = kd.make_env(_task())
    env.reset(seed=0)
    for bad in (8, -1, 1.5, np.array([0, 1]), "0"):
        with pytest.raises(ValueError, match=r"integers in \[0, 8\)"):
            env.step(bad)
    venv = kd.make_vector_env(kd.sample(3, seed=0))
    venv.reset(seed=0)
    for bad in (np.array([0, 1, 8]), np.array([0, 1]), np.array([0.0, 1.0, 2.0]), np.array([[0, 1, 2]])):
        with pytest.raises(ValueError, match=r"integers in \[0, 8\)"):
            venv.step(bad)


def test_tasks_that_do_not_fit_are_refused(kd):
    with pytest.raises(ConfigError, match="family 'gridnavi'"):
        kd.make_env(metaplastic.core.Task("gridnavi", {"goal": (1, 2)}, seed=0))
    big = metaplastic.make_tasks("keydoor:colours=8,ood_keys=6").sample(1, seed=0, split="ood")[0]
    with pytest.raises(ConfigError, match="does not fit this family"):
        kd.make_env(big)
    with pytest.raises(ConfigError, match="does not fit this family"):
        kd.make_vector_env([_task(opener=(2, 0, 5))])


@pytest.mark.parametrize("split", SPLITS)
def test_vector_env_agrees_with_single_env(kd, split):
    tasks = kd.sample(8, seed=2, split=split)
    rng = np.random.default_rng(0)
    # random actions, and the oracle's two steps now and then, so that both endings happen
    plan = kd.arrays(tasks)
    actions = rng.integers(0, 8, size=(200, 8))
    key, door = plan["opener"][np.arange(8), plan["goal"]], kd.key_slots + plan["goal"]
    actions[::7], actions[1::7] = key, door
    assert compare_vector_with_single(kd, tasks, actions, dtype=np.float32) > 8


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("vectorized", [True, False])
def test_oracle_return_is_exact(split, vectorized):
    res = metaplastic.evaluate("oracle", "keydoor", n_tasks=200, seed=0, split=split, vectorized=vectorized)
    assert res.returns.shape == (200, 4)
    assert np.all(res.returns == ORACLE_EPISODE)
    assert res.trial_returns == pytest.approx(np.full(200, 4 * (1 - 0.01)))


def test_random_is_much_worse():
    oracle = metaplastic.evaluate("oracle", "keydoor", n_tasks=500, seed=0).trial_returns
    for split in ("test", "ood"):
        rand = metaplastic.evaluate("random", "keydoor", n_tasks=500, seed=0, split=split).trial_returns
        assert np.all(rand <= oracle + 1e-12) and rand.mean() < 0.25 * oracle.mean()


def test_oracle_lanes_can_be_shown_new_tasks(kd):
    tasks = kd.sample(3, seed=0, split="ood")
    pol = OracleKeyDoorPolicy(kd, 3, {})
    pol.reset([0, 1, 2])
    pol.reveal_tasks([tasks[0], tasks[0], tasks[0]])
    pol.reveal_lanes([1, 2], tasks[1:])
    venv = kd.make_vector_env(tasks)
    obs, _ = venv.reset(seed=0)
    on = np.ones(3, dtype=bool)
    obs, r1, t1, _, _ = venv.step(pol.act(obs, on))
    _, r2, t2, _, _ = venv.step(pol.act(obs, on))
    assert r1.tolist() == [STEP_REWARD] * 3 and not t1.any() and r2.tolist() == [GOAL_REWARD] * 3 and t2.all()


class TestConformanceOfALargerRoom(TaskFamilyConformance):
    """The kit's checks on a spec whose rooms hold doors without a key of their colour."""

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("keydoor:colours=8,keys=2,doors=4,ood_keys=5,ood_doors=7,match=0.5,steps=6,n=2")
