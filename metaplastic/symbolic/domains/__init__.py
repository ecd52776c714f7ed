"""Domain theories: for each task family with symbolic structure, how a transition becomes
ground facts, which rules a task's hidden rule may consist of, and how a rule is acted on.

:data:`DOMAINS` maps a family name to its domain (``"module:Class"``, imported when used).
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from metaplastic.errors import ConfigError

DOMAINS: Mapping[str, str] = {
    "keydoor": "metaplastic.symbolic.domains.keydoor:KeyDoorDomain",
    "blocks": "metaplastic.symbolic.domains.blocks:BlocksDomain",
}


def domain_for(tasks: Any) -> Any:
    """The domain theory of ``tasks``' family (a one-line ConfigError when it has none)."""
    target = DOMAINS.get(tasks.name)
    if target is None:
        raise ConfigError(f"backend symbolic does not apply to task family {tasks.name!r}: it has no domain theory; "
                          f"it applies to {', '.join(DOMAINS)}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)(tasks)
