"""RL²'s hyperparameters, declared once: the ``Param`` declarations are the single source
(backends list them in their ``config_params``; ``metaplastic backends`` and ``--set``
validate against them) and :class:`RL2Settings` derives from them.

Example:
    >>> RL2Settings().gamma, settings_from_config({"gamma": 0.9, "hidden": 8}).gamma
    (0.99, 0.9)
"""

from __future__ import annotations

from typing import Any, Mapping

from metaplastic.params import Param, settings_from, settings_type
from metaplastic.training.params import OPTIM_PARAMS, SHARD_PARAMS

__all__ = ["RL2_PARAMS", "RL2Settings", "settings_from_config"]

#: The RL² update's own keys (the optimizer's are :data:`~metaplastic.training.params.OPTIM_PARAMS`).
RL2_UPDATE_PARAMS = (
    Param("gamma", float, 0.99, "discount across the whole trial", low=0.0, high=1.0),
    Param("gae_lambda", float, 0.95, "GAE lambda", low=0.0, high=1.0),
    Param("vf_coef", float, 0.05, "value-loss weight (small: the value loss must not crowd the policy gradient out of the clipped norm)", low=0.0),
    Param("reward_scale", float, 1.0, "multiplies the rewards the loss learns from (value targets, advantages; not the "
          "reward the policy observes, nor any reported return): 0.01 keeps Meta-World's rewards of up to 10 per step "
          "from giving a value loss in the thousands that crowds the policy gradient out of the clipped norm",
          low=0.0, low_exclusive=True),
    Param("ent_coef", float, 0.05, "entropy bonus at the start of training", low=0.0),
    Param("ent_coef_final", float, 0.0, "entropy bonus at the end (linear schedule)", low=0.0),
    Param("energy_coef", float, 0.0, "energy-aware training: weight of the policy's mean firing rate (spikes per "
          "neuron and sub-step) in the loss; spiking policies only (a model without activity refuses a non-zero value)",
          low=0.0),
)

#: Every key of an RL² update, in the order backends list them.
RL2_PARAMS = (*OPTIM_PARAMS[:3], *RL2_UPDATE_PARAMS, OPTIM_PARAMS[3], *SHARD_PARAMS)

RL2Settings = settings_type("RL2Settings", RL2_PARAMS, "Hyperparameters of the RL² update (from RL2_PARAMS).")


def settings_from_config(config: Mapping[str, Any]) -> Any:
    """The :class:`RL2Settings` of a backend's config (keys it does not declare are ignored)."""
    return settings_from(RL2Settings, config)
