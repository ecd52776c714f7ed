"""The oracle of each task family: the policy that plays optimally when shown a task's hidden
parameters. The ``oracle`` backend serves them as a ceiling; task inference shows them
parameters drawn from a posterior (posterior sampling).

Example:
    >>> import metaplastic
    >>> oracle_class(metaplastic.make_tasks("nav2d")).__name__
    'OracleNav2DPolicy'
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from metaplastic.errors import ConfigError

#: Task family -> ``"module:VectorPolicy"`` of its oracle (imported when first used).
ORACLES: Mapping[str, str] = {
    "bandits": "metaplastic.baselines.bandit_index:OraclePolicy",
    "mdp": "metaplastic.baselines.mdp_planners:OracleMDPPolicy",
    "gridnavi": "metaplastic.baselines.gridnavi_policies:OracleGridNaviPolicy",
    "nav2d": "metaplastic.baselines.nav2d_policies:OracleNav2DPolicy",
    "cartpole-dyn": "metaplastic.baselines.cartpole_policies:OracleCartPolePolicy",
    "keydoor": "metaplastic.baselines.keydoor_policies:OracleKeyDoorPolicy",
    "blocks": "metaplastic.baselines.blocks_policies:OracleBlocksPolicy",
}


def oracle_class(tasks: Any) -> type:
    """The oracle :class:`~metaplastic.baselines.base.VectorPolicy` of ``tasks``' family
    (a one-line :class:`ConfigError` when it has none)."""
    target = ORACLES.get(tasks.name)
    if target is None:
        raise ConfigError(f"task family {tasks.name!r} has no oracle policy; oracles exist for {', '.join(ORACLES)}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
