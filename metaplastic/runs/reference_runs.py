"""Trained reference runs shipped with metaplastic: small dense, spiking and evolved
policies, each with the exact command that made it and its recorded evaluation.

A newcomer's first benchmark (``make run``) meta-trains every backend for 45 s, which shows
the pipeline but not what a trained network reaches; ``metaplastic bench
--reference-runs`` benches these trained runs beside it. Each lives in
``metaplastic/reference_runs/<name>/``: an ordinary run directory (``config.json``,
``progress.json``, ``checkpoints/``) plus ``reference.json``::

    {"name": "torch-bandits", "backend": "torch", "tasks": "bandits:k=5,n=10,...",
     "made_by": "metaplastic sweep --backend torch ... (point h16-c0)",
     "evaluation": {"split": "test", "n_tasks": 2000, "seed": 0, "return_mean": 6.61, "ci95": [6.54, 6.68]},
     "description": "..."}

The test suite evaluates each one again and checks that it still reaches its record.

Example:
    >>> runs = reference_runs()
    >>> all(r.path.is_dir() and r.evaluation["n_tasks"] > 0 for r in runs)
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metaplastic.errors import RunDirError

__all__ = ["ReferenceRun", "reference_runs", "REFERENCE_DIR"]

#: Where the shipped runs live (package data).
REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference_runs"
_FIELDS = ("name", "backend", "tasks", "made_by", "evaluation", "description")


@dataclass(frozen=True)
class ReferenceRun:
    """One shipped run: where it is, which backend made it on which tasks, the command
    that made it and its recorded evaluation (split, n_tasks, seed, return_mean, ci95)."""

    name: str
    path: Path
    backend: str
    tasks: str
    made_by: str
    evaluation: dict[str, Any]
    description: str

    def summary(self) -> str:
        """One line: what it is and what it reached.

        Example:
            >>> r = ReferenceRun("x", Path("."), "torch", "bandits:k=5,n=10", "metaplastic train ...",
            ...                  {"split": "test", "n_tasks": 100, "seed": 0, "return_mean": 6.5}, "")
            >>> r.summary()
            'shipped reference run x (made by `metaplastic train ...`; recorded trial return 6.500 on 100 test tasks, seed 0)'
        """
        e = self.evaluation
        return (f"shipped reference run {self.name} (made by `{self.made_by}`; recorded trial return "
                f"{e['return_mean']:.3f} on {e['n_tasks']} {e['split']} tasks, seed {e['seed']})")


def _read(folder: Path) -> ReferenceRun:
    try:
        doc = json.loads((folder / "reference.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunDirError(f"shipped reference run {folder.name!r}: cannot read reference.json ({exc}); "
                          "reinstall metaplastic") from None
    missing = [k for k in _FIELDS if k not in doc]
    if missing:
        raise RunDirError(f"shipped reference run {folder.name!r}: reference.json lacks {', '.join(missing)}; "
                          "reinstall metaplastic")
    return ReferenceRun(name=str(doc["name"]), path=folder, backend=str(doc["backend"]), tasks=str(doc["tasks"]),
                        made_by=str(doc["made_by"]), evaluation=dict(doc["evaluation"]),
                        description=str(doc["description"]))


def reference_runs(tasks: str | None = None) -> list[ReferenceRun]:
    """The shipped reference runs (sorted by name), those trained on ``tasks`` (a canonical
    task spec) when given."""
    if not REFERENCE_DIR.is_dir():
        return []
    runs = [_read(d) for d in sorted(REFERENCE_DIR.iterdir()) if (d / "reference.json").is_file()]
    return [r for r in runs if tasks is None or r.tasks == tasks]
