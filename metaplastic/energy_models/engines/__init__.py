"""Inference engines behind one interface (:class:`~metaplastic.energy_models.engines.base.Engine`),
chosen by name with ``engine=``:

* ``exact``: enumeration, a grid (dimension <= 2), per-action quadrature or the conjugate
  tabular posterior;
* ``langevin``: SMC with Metropolis-adjusted Langevin moves in Numba (torch-free);
* ``nuts``, ``svi``: pyro-ppl (extra ``pyro``), the energy entering the model through
  ``pyro.factor``.

``auto`` takes the first engine of :data:`AUTO_CHAIN` that applies to the latent (data, not
``if`` on names).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Mapping

from metaplastic.errors import ConfigError


@dataclass(frozen=True)
class EngineEntry:
    """An engine's factory (``"module:callable"``, imported when used), the function saying
    why it does not apply to a model (``None`` if it does), and the extra it needs."""

    factory: str
    reason: str
    extra: str | None = None

    def _load(self, target: str) -> Any:
        module, _, attr = target.partition(":")
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"energy: this engine needs the '{self.extra}' extra ({exc.name} is missing); "
                              f"pip install 'metaplastic[{self.extra}]'") from None
        return getattr(mod, attr)

    def why_not(self, model: Any) -> str | None:
        return self._load(self.reason)(model)

    def make(self, model: Any, num_lanes: int, settings: Any, counts: Any) -> Any:
        return self._load(self.factory)(model, num_lanes, settings, counts)


_E = "metaplastic.energy_models.engines."
ENGINES: Mapping[str, EngineEntry] = {
    "exact": EngineEntry(_E + "exact:make_exact", _E + "exact:exact_reason"),
    "langevin": EngineEntry(_E + "langevin:LangevinEngine", _E + "langevin:langevin_reason"),
    "nuts": EngineEntry(_E + "pyro_engines:NutsEngine", _E + "pyro_engines:pyro_reason", extra="pyro"),
    "svi": EngineEntry(_E + "pyro_engines:SviEngine", _E + "pyro_engines:pyro_reason", extra="pyro"),
}
#: What ``engine="auto"`` tries, in order.
AUTO_CHAIN: tuple[str, ...] = ("exact", "langevin")


def resolve_engine(name: str, model: Any) -> str:
    """The engine ``name`` stands for on ``model`` (``auto``: the first of :data:`AUTO_CHAIN`
    that applies), or a one-line ConfigError saying why it does not apply."""
    if name == "auto":
        reasons = []
        for candidate in AUTO_CHAIN:
            why = ENGINES[candidate].why_not(model)
            if why is None:
                return candidate
            reasons.append(why)
        raise ConfigError(f"energy: no engine applies to this latent: {'; '.join(reasons)}")
    if name not in ENGINES:
        raise ConfigError(f"energy: unknown engine {name!r}; choose auto or one of {', '.join(ENGINES)}")
    why = ENGINES[name].why_not(model)
    if why:
        raise ConfigError(f"energy: {why}")
    return name


def make_engine(name: str, model: Any, num_lanes: int, settings: Any, counts: Any) -> Any:
    """An engine for ``num_lanes`` lanes (``name`` resolved by :func:`resolve_engine`)."""
    return ENGINES[resolve_engine(name, model)].make(model, num_lanes, settings, counts)


