"""The import arrows of docs/architecture.md, enforced: every ``import`` of every module of
the package (module level or inside a function, absolute or relative) must go where its
layer may go. The rules are data: :data:`MAY_IMPORT` reads as the architecture.

The package is read with :mod:`ast`, not imported, so a docstring example (``>>> import
...``) is not an import, and a module that cannot be imported is still checked."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "metaplastic"

# --- the layers, bottom to top. A module's layer is the first name after ``metaplastic.``;
# ``metaplastic`` itself (the package __init__, re-exporting api and evaluation) is the
# public facade, and ``metaplastic.__main__`` runs the cli.
BOTTOM = ("core", "errors", "params")
SUPPORT = ("runs", "runtime", "training", "metrics", "tasks", "baselines",   # numpy only
           "workers")                                                    # external runtimes
MODELS = ("nn", "dense", "spiking", "rl2", "energy_models", "symbolic")       # torch & co.
PUBLIC = ("registry", "api", "evaluation", "metaplastic")

MODEL_RULE = "a model package imports the layers below and nn, never another model package nor anything above"
PUBLIC_RULE = "the public API reaches backends (and through them, models) only by the registry's entry points"

# layer -> (the layers it may import besides its own, the rule). Anything else is forbidden.
MAY_IMPORT: dict[str, tuple[tuple[str, ...], str]] = {
    "core": ((), "the contract imports nothing from metaplastic"),
    "errors": ((), "the exceptions import nothing from metaplastic"),
    "params": (("errors",), "parameter declarations need only the errors"),
    "runs": (BOTTOM, "run directories: files on disk, above the bottom layer only"),
    "runtime": (BOTTOM, "the batched trial runtime sits on the contract only"),
    "workers": (BOTTOM, "external runtimes (provisioning, frames, worker code) sit on the bottom only; "
                "the code copied into a runtime imports nothing of metaplastic"),
    "metrics": (BOTTOM, "metrics sit on the contract only"),
    "training": (BOTTOM + ("runs", "runtime", "metrics"), "outer-loop pieces: numpy only, no task, model or API"),
    "tasks": (BOTTOM + ("runtime",), "task families sit on the contract and the runtime"),
    "baselines": (BOTTOM + ("runs", "runtime", "metrics", "tasks"),
                  "classical policies sit on the tasks they solve; no model, no API"),
    "nn": (BOTTOM + SUPPORT, "torch building blocks import no model package"),
    **{m: (BOTTOM + SUPPORT + ("nn",), MODEL_RULE) for m in MODELS if m != "nn"},
    "registry": (BOTTOM + SUPPORT, PUBLIC_RULE),
    "api": (BOTTOM + SUPPORT + ("registry",), PUBLIC_RULE),
    "evaluation": (BOTTOM + SUPPORT + ("registry", "api"), PUBLIC_RULE),
    "metaplastic": (BOTTOM + SUPPORT + ("registry", "api", "evaluation"), "the facade re-exports the public API"),
    "backends": (BOTTOM + SUPPORT + MODELS + PUBLIC, "a backend is a thin adapter over the layers below; "
                 "bench, testing and cli are above it"),
    "bench": (BOTTOM + SUPPORT + MODELS + PUBLIC + ("backends",), "bench is a sink: only cli imports it"),
    "testing": (BOTTOM + SUPPORT + PUBLIC, "the conformance kit tests through the public API; "
                "nothing in the library imports it (pytest loads its plugin by entry point)"),
    "cli": (BOTTOM + SUPPORT + MODELS + PUBLIC + ("backends", "bench"), "the cli is the top; it never imports the test kit"),
    "__main__": (("cli",), "``python -m metaplastic`` runs the cli"),
}

# No backend imports another backend. backends/__init__.py, backends/base.py and
# backends/base_<family>.py (e.g. base_torch, base_spiking) are the plumbing they share.
def is_backend_plumbing(module: str) -> bool:
    name = module.split(".")[-1]
    return module == "metaplastic.backends" or name == "base" or name.startswith("base_")


# (importer, imported) pairs of backend modules that may import each other, and why.
BACKEND_PAIRS_ALLOWED = {
    # random is one of the classical baselines: the same adapter, with a uniform policy
    ("metaplastic.backends.random", "metaplastic.backends.baselines"),
}
BACKEND_RULE = "no backend imports another backend"


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[0] if len(parts) == 1 else parts[1]


def module_names(package: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of ``package`` (a folder with __init__.py)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if "__pycache__" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its code (including inside
    functions, ``if TYPE_CHECKING:`` and ``try:``); ``from P import name`` counts as
    importing ``P.name`` when that is a module, else ``P``."""
    root = module.split(".")[0]
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:       # relative: from the module's own package, up level - 1
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source)
    return {m for m in found if m == root or m.startswith(root + ".")}


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (itself excluded)."""
    names = module_names(package)
    known = set(names)
    return {m: imports_of(m, p, known) - {m} for m, p in names.items()}


def violations(graph: dict[str, set[str]]) -> list[str]:
    """``importer -> imported (rule)`` for every import that breaks an arrow."""
    out = []
    for module, targets in sorted(graph.items()):
        layer = layer_of(module)
        if layer not in MAY_IMPORT:
            out.append(f"{module} -> (none) (layer {layer!r} is not in MAY_IMPORT: place it in the architecture)")
            continue
        allowed, rule = MAY_IMPORT[layer]
        for target in sorted(targets):
            target_layer = layer_of(target)
            if target_layer == layer:
                if (layer == "backends" and not is_backend_plumbing(module) and not is_backend_plumbing(target)
                        and (module, target) not in BACKEND_PAIRS_ALLOWED):
                    out.append(f"{module} -> {target} ({BACKEND_RULE})")
            elif target_layer not in allowed:
                out.append(f"{module} -> {target} ({layer} may not import {target_layer}: {rule})")
    return out


def test_imports_point_down_the_layers():
    found = violations(import_graph())
    assert not found, f"{len(found)} imports break the architecture's arrows:\n" + "\n".join(found)


def test_every_layer_is_placed():
    """The rule table names every layer it refers to, and the package's folders."""
    referenced = {t for allowed, _ in MAY_IMPORT.values() for t in allowed}
    assert referenced <= set(MAY_IMPORT)
    present = {layer_of(m) for m in import_graph()}
    assert present <= set(MAY_IMPORT), present - set(MAY_IMPORT)


# --- the checker itself catches reversed arrows


def test_a_reversed_arrow_is_reported():
    graph = import_graph()
    graph["metaplastic.core"] = graph["metaplastic.core"] | {"metaplastic.bench.report"}
    found = violations(graph)
    assert ("metaplastic.core -> metaplastic.bench.report (core may not import bench: "
            "the contract imports nothing from metaplastic)") in found


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "metaplastic"


def test_a_fake_package_with_reversed_arrows_is_reported_in_full(tmp_path):
    package = _write(tmp_path, {
        "metaplastic/__init__.py": "from metaplastic.api import make\n",
        "metaplastic/core.py": '"""\n>>> import metaplastic.bench\n"""\n'      # a docstring: not an import
                               "def f():\n    from metaplastic.bench.report import write\n",
        "metaplastic/api.py": "from .registry import BACKENDS\nfrom . import core\n",
        "metaplastic/registry.py": "import metaplastic.core\n",
        "metaplastic/bench/__init__.py": "",
        "metaplastic/bench/report.py": "from .. import core\n",
        "metaplastic/runs/__init__.py": "",
        "metaplastic/runs/rundir.py": "def v():\n    from .. import __version__\n",
        "metaplastic/spiking/__init__.py": "",
        "metaplastic/spiking/algo.py": "from ..rl2 import loop\nfrom metaplastic.dense.gru import GRU\n",
        "metaplastic/rl2/__init__.py": "",
        "metaplastic/rl2/loop.py": "from metaplastic.nn import heads\n",
        "metaplastic/nn/__init__.py": "",
        "metaplastic/nn/heads.py": "",
        "metaplastic/dense/__init__.py": "",
        "metaplastic/dense/gru.py": "if False:\n    from metaplastic.testing import kit\n",
        "metaplastic/backends/__init__.py": "",
        "metaplastic/backends/base.py": "",
        "metaplastic/backends/baselines.py": "from metaplastic.backends.base import Base\n",
        "metaplastic/backends/random.py": "from metaplastic.backends import baselines\n",
        "metaplastic/backends/base_torch.py": "from .base import Base\n",
        "metaplastic/backends/snntorch.py": "from metaplastic.backends import base, base_torch, torch\n",
        "metaplastic/backends/torch.py": "import metaplastic\n",
        "metaplastic/testing/__init__.py": "",
        "metaplastic/quantum/__init__.py": "",
    })
    assert violations(import_graph(package)) == [
        "metaplastic.backends.snntorch -> metaplastic.backends.torch (no backend imports another backend)",
        "metaplastic.core -> metaplastic.bench.report (core may not import bench: "
        "the contract imports nothing from metaplastic)",
        "metaplastic.dense.gru -> metaplastic.testing (dense may not import testing: " + MODEL_RULE + ")",
        "metaplastic.quantum -> (none) (layer 'quantum' is not in MAY_IMPORT: place it in the architecture)",
        "metaplastic.runs.rundir -> metaplastic (runs may not import metaplastic: "
        "run directories: files on disk, above the bottom layer only)",
        "metaplastic.spiking.algo -> metaplastic.dense.gru (spiking may not import dense: " + MODEL_RULE + ")",
        "metaplastic.spiking.algo -> metaplastic.rl2.loop (spiking may not import rl2: " + MODEL_RULE + ")",
    ]
