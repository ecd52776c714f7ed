"""Shared fixtures: fake installed distributions that declare entry points, exactly as a
third-party package's ``.dist-info`` folder does once pip has installed it."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import pytest

from metaplastic.registry import BACKENDS, TASKS

pytest_plugins = ["pytester", "tests.skip_policy"]
collect_ignore = ["plugins"]

PLUGINS = Path(__file__).parent / "plugins"


def write_distribution(site: Path, name: str, version: str, entry_points: dict[str, dict[str, str]],
                       modules: tuple[str, ...] = (), requires: tuple[str, ...] = ()) -> Path:
    """Create ``site/<name>-<version>.dist-info`` (METADATA, entry_points.txt) and copy
    ``modules`` from tests/plugins into ``site``; return ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(meta) + "\n")
    lines = []
    for group, eps in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for mod in modules:
        shutil.copy(PLUGINS / f"{mod}.py", site / f"{mod}.py")
    return site


@pytest.fixture
def plugin_site(tmp_path, monkeypatch):
    """A folder on sys.path holding fake third-party distributions: ``probe`` (a working
    learner), ``broken`` (import fails) and ``needs-extra`` (an extra that isn't installed)."""
    site = write_distribution(
        tmp_path / "site", "metaplastic-probe", "0.1.0",
        {"metaplastic.backends": {"probe": "probe_plugin:ProbeLearner",
                                  "broken": "broken_plugin:Nothing",
                                  "needs-extra": "probe_plugin:ProbeLearner [fancy]"}},
        modules=("probe_plugin", "broken_plugin"),
        requires=('definitely-not-installed-pkg>=1; extra == "fancy"',),
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    BACKENDS.refresh()
    TASKS.refresh()
    yield site
    for mod in ("probe_plugin", "broken_plugin"):
        sys.modules.pop(mod, None)
    BACKENDS.refresh()
    TASKS.refresh()
