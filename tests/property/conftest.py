"""The fresh runs the property tests damage: one tiny ``metaplastic train`` per backend
(two updates), made once per session, in the layout this checkout writes."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tests.property._support import FRESH, fresh_command, need, run_cli


@pytest.fixture(scope="session")
def fresh_run(tmp_path_factory) -> Callable[[str], Path]:
    """``fresh_run(backend)``: the folder of a two-update run of ``backend`` (made on first use;
    skips, with the extra's name, where the backend's package is not installed)."""
    made: dict[str, Path] = {}

    def get(backend: str) -> Path:
        module, extra, _ = FRESH[backend]
        if module:
            need(module, extra)
        if backend not in made:
            out = tmp_path_factory.mktemp("fresh") / backend
            code, _, err = run_cli(fresh_command(backend, out, budget=2))
            assert code == 0, f"training the fresh {backend} run failed: {err}"
            made[backend] = out
        return made[backend]

    return get
