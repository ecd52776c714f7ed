"""``metaplastic explain``: a symbolic run plays one task and says, after each episode, which
rules it believes and how strongly; then the task's hidden rule. One-line errors with exit
code 2 for bad input."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

import metaplastic
from metaplastic.cli import main
from metaplastic.symbolic.language import parse_rule


def _run(args: list, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("explain-runs")
    learner = metaplastic.make("symbolic", prior_tasks=200)
    learner.meta_train(metaplastic.make_tasks("keydoor"), budget=1, seed=0, show_progress=False)
    learner.save(base / "symbolic")
    metaplastic.make("random").save(base / "random")
    metaplastic.make("symbolic").save(base / "untrained")  # no prior, no task spec
    return {"symbolic": base / "symbolic", "random": base / "random", "untrained": base / "untrained"}


def test_prints_the_rules_believed_after_each_episode_then_the_hidden_rule(runs, capsys):
    code, out, err = _run(["explain", "--run", runs["symbolic"]], capsys)
    assert code == 0, err
    lines = out.splitlines()
    episodes = [i for i, line in enumerate(lines) if line.startswith("episode ")]
    assert len(episodes) == 4  # keydoor's default trial: n=4
    assert "prior learned on 200 tasks" in lines[0]
    hidden = lines.index("hidden rule (revealed after play):")
    assert hidden > episodes[-1]
    for start, end in zip(episodes, episodes[1:] + [hidden]):
        assert "return" in lines[start]
        block = lines[start + 1 : end]
        assert any("then reward" in line for line in block)  # readable text
        assert any(line.strip().startswith("reward :- holding(") for line in block)  # the Prolog clause
    task = metaplastic.make_tasks("keydoor").sample(1, seed=0, split="test")[0]
    truth = metaplastic.make_tasks("keydoor").rules([task])[0]
    goal, key = truth["goal"], truth["opener"][truth["goal"]]
    assert f"reward :- holding({key}), tried(door({goal}))." in "\n".join(lines[hidden:])


def test_json_has_one_entry_per_episode_with_probabilities(runs, capsys):
    code, out, err = _run(["explain", "--run", runs["symbolic"], "--json", "--episodes", "3", "--top", "4",
                           "--split", "ood", "--task-index", "2", "--seed", "5"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["backend"] == "symbolic" and doc["split"] == "ood" and doc["task_index"] == 2 and doc["seed"] == 5
    assert doc["episodes"] == 3 and [e["episode"] for e in doc["per_episode"]] == [1, 2, 3]
    assert doc["trial_return"] == pytest.approx(sum(e["return"] for e in doc["per_episode"]))
    for ep in doc["per_episode"]:
        assert ep["rules"]
        by_head = defaultdict(float)
        for rule in ep["rules"]:
            assert 0.0 <= rule["prob"] <= 1.0 + 1e-9
            assert parse_rule(rule["prolog"]) == parse_rule(rule["text"])  # the two forms say the same
            assert rule["template"] == ("goal" if rule["head"] == "reward" else "opens")
            by_head[(rule["template"], rule["head"])] += rule["prob"]
        assert all(total <= 1.0 + 1e-6 for total in by_head.values()), by_head  # one rule per head per program
        assert sum(1 for r in ep["rules"] if r["template"] == "goal") <= 4
    tasks = metaplastic.make_tasks("keydoor")
    task = tasks.sample(3, seed=5, split="ood")[2]
    assert doc["task_seed"] == task.seed
    truth = tasks.rules([task])[0]
    assert doc["hidden_rule"]["data"] == json.loads(json.dumps(truth))
    assert doc["hidden_rule"]["goal"]["prolog"] == \
        f"reward :- holding({truth['opener'][truth['goal']]}), tried(door({truth['goal']}))."
    assert len(doc["hidden_rule"]["opens"]) == len(truth["opener"])
    for ep in doc["per_episode"]:
        assert ep["best_goal_rule_correct"] == (ep["best_goal_rule"] == doc["hidden_rule"]["goal"]["prolog"])


def test_the_trial_is_the_one_evaluate_plays(runs, capsys):
    """Task index 0 of seed S is the task `evaluate --n-tasks 1 --seed S` plays, with the same agent seed."""
    code, out, err = _run(["explain", "--run", runs["symbolic"], "--tasks", "keydoor:steps=3", "--seed", "2",
                           "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    res = metaplastic.evaluate(metaplastic.load(runs["symbolic"]), "keydoor:steps=3", n_tasks=1, seed=2)
    assert [e["return"] for e in doc["per_episode"]] == pytest.approx(res.returns[0].tolist())


def test_an_untrained_run_says_it_uses_the_uniform_prior(runs, capsys):
    code, out, err = _run(["explain", "--run", runs["untrained"], "--tasks", "keydoor", "--episodes", "1"], capsys)
    assert code == 0, err
    assert "uniform prior" in out.splitlines()[0]


@pytest.mark.parametrize("args, fragment", [
    (["--run", "{tmp}/nope"], "does not exist"),
    (["--run", "{random}"], "backend 'random'"),
    (["--run", "{symbolic}", "--episodes", "0"], "--episodes"),
    (["--run", "{symbolic}", "--episodes", "-2"], "--episodes"),
    (["--run", "{symbolic}", "--tasks", "bandits:k=3,n=5"], "no domain theory"),
    (["--run", "{symbolic}", "--tasks", "nope"], "unknown task family 'nope'"),
    (["--run", "{symbolic}", "--split", "train"], "--split"),
    (["--run", "{symbolic}", "--top", "0"], "--top"),
    (["--run", "{untrained}"], "--tasks is required"),
    (["--tasks", "keydoor"], "--run"),
])
def test_bad_input_is_one_line_exit_2(runs, tmp_path, capsys, args, fragment):
    fill = {"tmp": tmp_path, **{k: str(v) for k, v in runs.items()}}
    code, out, err = _run(["explain", *(a.format(**fill) for a in args)], capsys)
    assert code == 2, (out, err)
    assert fragment in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert out == ""
