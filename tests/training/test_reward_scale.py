"""RL²'s ``reward_scale`` multiplies the rewards the loss learns from (value targets and
advantages), not the rewards the policy observes or the returns it reports."""

import pytest

import metaplastic

pytest.importorskip("torch", reason="RL² needs the 'torch' extra")


def _first_update(reward_scale):
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    learner = metaplastic.make("torch", algo="rl2", hidden=16, batch_tasks=32, reward_scale=reward_scale)
    log = []
    learner.meta_train(tasks, budget=1, seed=0, callback=log.append, show_progress=False)
    return log[0]


def test_reward_scale_shrinks_the_value_loss_not_the_reported_return():
    plain, scaled = _first_update(1.0), _first_update(0.1)
    assert scaled["trial_return"] == plain["trial_return"]  # the same trials: the policy saw the same rewards
    # a fresh value head predicts about 0, so the value loss is about the mean squared (scaled) return
    assert 0.005 < scaled["value_loss"] / plain["value_loss"] < 0.02


def test_reward_scale_must_be_positive():
    with pytest.raises(metaplastic.errors.ConfigError, match="reward_scale"):
        metaplastic.make("torch", algo="rl2", reward_scale=0.0)
