"""Run files: a copy of a small real run with one file replaced by mutated JSON (NaN
included), JSON overflowing Python's integers, damaged or garbage bytes, or deleted; then,
in-process,

* ``metaplastic evaluate --run RUN --n-tasks 2 --json``: exit 0 with strict JSON on stdout,
  or exit 2 with one line on stderr; the run directory is left as it was either way;
* the command that resumes the run (``metaplastic train`` with the run's options and one
  more update): exit 0, or exit 2 with one line and nothing written.

Two sources of runs: the 0.1.0 runs of tests/fixtures/runs_v0_1_0 (``config.json``,
``train.json``, ``progress.json``, ``metrics.jsonl``), and a fresh two-update run per
backend in the layout this checkout writes, any of whose files may be damaged (checkpoint
files included). A mutated ``config.json`` holds no valid-but-huge sizes
(``batch_tasks=10**40`` would be trained on: resource limits are Must 8)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.property._support import (FIXTURES, FRESH, RUNS, check_run, evaluate_then_resume, file_contents,
                                     fresh_command, needs, slow, write_or_delete)

NAMES = ["config.json", "metrics.jsonl", "progress.json", "train.json"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("run", sorted(RUNS))
@slow(12)
@given(data=st.data())
def test_damaged_run_file(run: str, name: str, data) -> None:
    needs(run)
    content = data.draw(file_contents(FIXTURES / run / name), label=name)
    evaluate_then_resume(run, lambda out: write_or_delete(out / name, content))


def _files(root) -> list[str]:
    """Every file of a run, relative to it (the lock file aside)."""
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs if f != ".lock")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")  # torch.load reading garbage
@pytest.mark.parametrize("backend", sorted(FRESH))
@slow(30)
@given(data=st.data())
def test_damaged_fresh_run(fresh_run, backend: str, data) -> None:
    src = fresh_run(backend)
    name = data.draw(st.sampled_from(_files(src)), label="file")
    content = data.draw(file_contents(src / name), label="content")
    check_run(src, lambda out: fresh_command(backend, out, budget=3),
              lambda out: write_or_delete(out / name, content))


@pytest.mark.parametrize("run", sorted(RUNS))
def test_undamaged_run_evaluates_and_resumes(run: str) -> None:
    """The harness itself: an untouched copy evaluates and resumes (exit 0 both), so that
    the properties above cannot pass by refusing everything."""
    needs(run)
    assert evaluate_then_resume(run, lambda out: None) == (0, 0)


@pytest.mark.parametrize("backend", sorted(FRESH))
def test_undamaged_fresh_run_evaluates_and_resumes(fresh_run, backend: str) -> None:
    src = fresh_run(backend)
    assert check_run(src, lambda out: fresh_command(backend, out, budget=3), lambda out: None) == (0, 0)
