"""Checkpoints: ``policy.pt`` and ``optimizer.pt`` (torch, snntorch) and ``es_state.npz`` and
``net.npz`` (numba) of a copy of a small real run replaced by garbage, by damaged bytes, by
a valid file of another shape, dtype or structure (another run's file included), or
deleted; then ``evaluate --run`` and the resume command, in-process: exit 0, or exit 2 with
one line on stderr and nothing written (see ``_support.evaluate_then_resume``).

Two stricter properties follow issue 13's Musts 1 and 7: a checkpoint holding a
non-finite parameter is refused, and a run missing part of its training state is refused."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.property._support import (FIXTURES, RUNS, check_cli, evaluate_then_resume, file_contents, load_torch,
                                     needs, npz_bytes, resume_args, run_cli, scratch, slow, torch_bytes, tree_get,
                                     tree_paths, write_or_delete)

CASES = [("torch-rl2", "policy.pt"), ("torch-rl2", "optimizer.pt"), ("snntorch-rl2", "policy.pt"),
         ("snntorch-rl2", "optimizer.pt"), ("numba-es", "es_state.npz"), ("numba-es", "net.npz")]


def _contents(run: str, name: str):
    others = [p for p in sorted(FIXTURES.glob(f"*/{name}")) if p.parent.name != run]  # valid files of other models
    return file_contents(FIXTURES / run / name, others)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")  # torch.load reading garbage
@pytest.mark.parametrize("run,name", CASES, ids=[f"{r}-{n}" for r, n in CASES])
@slow(15)
@given(data=st.data())
def test_damaged_checkpoint(run: str, name: str, data) -> None:
    needs(run)
    content = data.draw(_contents(run, name), label=name)
    evaluate_then_resume(run, lambda out: write_or_delete(out / name, content))


@pytest.mark.slow
@pytest.mark.parametrize("run,name", CASES, ids=[f"{r}-{n}" for r, n in CASES])
@slow(8)
@given(data=st.data())
def test_non_finite_checkpoint_is_refused(run: str, name: str, data) -> None:
    """Must 1: loading refuses non-finite parameters. A NaN or infinity in the weights
    (``policy.pt``, ``net.npz``) makes both commands exit 2; in the optimizer's or the
    search's state (``optimizer.pt``, ``es_state.npz``), at least resuming exits 2."""
    needs(run)
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]), label="value")

    def plant(out) -> None:
        path = out / name
        if name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                arrays_ = {k: z[k] for k in z.files}
            floats = sorted(k for k, a in arrays_.items() if a.dtype.kind == "f" and a.size)
            key = data.draw(st.sampled_from(floats), label="array")
            a = arrays_[key].copy()
            a.reshape(-1)[data.draw(st.integers(0, a.size - 1), label="index")] = bad
            arrays_[key] = a
            path.write_bytes(npz_bytes(arrays_))
        else:
            import torch

            obj = load_torch(path)
            tensors = [p for p in tree_paths(obj) if isinstance(tree_get(obj, p), torch.Tensor)
                       and tree_get(obj, p).is_floating_point() and tree_get(obj, p).numel() > 1]
            where = data.draw(st.sampled_from(tensors), label="tensor")
            t = tree_get(obj, where)
            t.view(-1)[data.draw(st.integers(0, t.numel() - 1), label="index")] = bad
            path.write_bytes(torch_bytes(obj))

    evaluated, resumed = evaluate_then_resume(run, plant)
    if name in ("policy.pt", "net.npz"):
        assert evaluated == 2, f"evaluate scored a run with {bad} in {name} (exit 0)"
    assert resumed == 2, f"training resumed from a run with {bad} in {name} (exit 0)"


MISSING = [(run, name) for run in sorted(RUNS) for name in sorted(p.name for p in (FIXTURES / run).iterdir())
           if name not in ("metrics.jsonl", "train.json")]


@pytest.mark.parametrize("run,name", MISSING, ids=[f"{r}-{n}" for r, n in MISSING])
def test_missing_training_state_is_refused(run: str, name: str) -> None:
    """Must 7: a run missing part of its training state is an error, not an untrained
    evaluation or a fresh start: resuming exits 2 with one line (but without config.json,
    which train.json repeats), and so does evaluating when the file holds the model, its
    config or what it was trained for."""
    needs(run)
    with scratch() as d:
        out = d / run
        shutil.copytree(FIXTURES / run, out)
        (out / name).unlink()
        code, stdout, err = run_cli(["evaluate", "--run", out, "--n-tasks", "2", "--json"])
        check_cli(code, stdout, err, what="evaluate")
        if name in ("config.json", "progress.json", "policy.pt", "net.npz"):
            assert code == 2, f"evaluate scored a run without {name} (exit 0)"
        code, stdout, err = run_cli(resume_args(run, out))
        check_cli(code, stdout, err, what="train (resume)")
        if name != "config.json":  # train.json holds the config; the checkpoint holds the state
            assert code == 2, f"training a run without {name} exited 0 ({stdout.strip()[:200]})"
