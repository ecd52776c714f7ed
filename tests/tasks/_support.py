"""What the task-family tests share: the batched env checked against one env per task."""

import numpy as np


def compare_vector_with_single(family, tasks, actions, *, dtype=None):
    """Step ``family``'s batched env and one env per task with the same actions (a
    sequence of per-lane action arrays, or a callable ``obs -> actions`` with a ``len``);
    they must agree exactly, autoreset included (the single envs are reset when they end).
    ``dtype``: the observations' dtype, checked when given. Returns how many episodes ended."""
    envs = [family.make_env(t) for t in tasks]
    single = np.stack([e.reset(seed=0)[0] for e in envs])
    venv = family.make_vector_env(tasks)
    obs, _ = venv.reset(seed=0)
    assert np.array_equal(obs, single)
    if dtype is not None:
        assert obs.dtype == dtype
    ends = 0
    for step in range(len(actions)):
        a = actions(obs) if callable(actions) else actions[step]
        obs, rew, term, trunc, info = venv.step(a)
        for i, env in enumerate(envs):
            o, r, te, tr, _ = env.step(a[i])
            assert (r, te, tr) == (rew[i], term[i], trunc[i])
            if te or tr:
                ends += 1
                assert info["_final_obs"][i] and np.array_equal(info["final_obs"][i], o)
                o, _ = env.reset()
            elif info:
                assert not info["_final_obs"][i]
            assert np.array_equal(obs[i], o)
    return ends
