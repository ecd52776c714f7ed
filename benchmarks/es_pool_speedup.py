"""Generations per second of ES meta-training on the numba backend, in-process against a
local process pool, on the same generations (same seeds, so the same work).

Usage (the figure in the issue-6 closing note):
    .venv/bin/python benchmarks/es_pool_speedup.py [GENERATIONS] [WORKERS]
"""

from __future__ import annotations

import sys
import time

import numpy as np

import metaplastic


def generations_per_s(executor: str, generations: int, workers: int) -> tuple[float, np.ndarray]:
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    learner = metaplastic.make("numba", executor=executor, workers=workers, seed=0)
    learner.meta_train(tasks, budget=2, seed=0, show_progress=False)  # start-up: workers, compiled kernels
    t0 = time.perf_counter()
    learner.meta_train(tasks, budget=2 + generations, seed=0, show_progress=False)
    return generations / (time.perf_counter() - t0), learner.net.w_rec


def main(generations: int = 200, workers: int = 2) -> None:
    inproc, w_a = generations_per_s("inprocess", generations, workers)
    pool, w_b = generations_per_s("process", generations, workers)
    assert np.array_equal(w_a, w_b), "the executor changed the result"
    print(f"in-process: {inproc:.1f} generations/s; process pool ({workers} workers): {pool:.1f} generations/s; "
          f"speed-up {pool / inproc:.2f}x (identical networks)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
