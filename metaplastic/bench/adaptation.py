"""Adaptation measures of a backend against the random policy and the family's reference.

* ``normalized_score`` = (R − R_random) / (R_reference − R_random) on trial returns;
* ``regret`` = R_reference − R (per trial, against the strongest reference baseline);
* ``episodes_to_90pct`` — the first episode (1-based) of the trial whose mean return
  closes 90% of the gap between random and the reference *in that episode*,
  ``R_e − R_random,e ≥ 0.9 (R_reference,e − R_random,e)``; ``None`` if none does. Measured
  against the gap rather than as 90% of the reference's return, so that negative rewards
  (a step cost) mean the same;
* ``ood_fraction`` = R_ood / R_test (trial returns; meaningful for positive returns, and
  beside it the normalized score on the ``ood`` split, which works for any sign).

Example:
    >>> import numpy as np
    >>> episodes_to_fraction(np.array([0.2, 0.5, 0.9]), np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0]))
    3
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["normalized", "episodes_to_fraction", "adaptation_measures"]


def normalized(r: float, r_random: float, r_reference: float) -> float | None:
    """(r − random) / (reference − random), or None when the two references coincide."""
    gap = r_reference - r_random
    return None if abs(gap) < 1e-12 else float((r - r_random) / gap)


def episodes_to_fraction(curve: np.ndarray, random_curve: np.ndarray, reference_curve: np.ndarray,
                         fraction: float = 0.9) -> int | None:
    """First episode (1-based) where ``curve`` closes ``fraction`` of the random→reference gap."""
    gap = reference_curve - random_curve
    ok = (curve - random_curve) >= fraction * gap
    hits = np.flatnonzero(ok & (np.abs(gap) > 1e-12))
    return int(hits[0]) + 1 if hits.size else None


def adaptation_measures(test: Any, ood: Any, random_test: Any, reference_test: Any, random_ood: Any,
                        reference_ood: Any) -> dict[str, Any]:
    """The adaptation block of a bench report from :class:`~metaplastic.evaluation.Evaluation`
    results (``ood`` and its references ``None`` for a family without an ood split)."""
    r = test.return_mean
    out = {
        "normalized_score": {"value": normalized(r, random_test.return_mean, reference_test.return_mean), "unit": "1",
                             "kind": "measured"},
        "regret": {"value": reference_test.return_mean - r, "unit": "reward per trial", "kind": "measured"},
        "episodes_to_90pct": {"value": episodes_to_fraction(test.per_episode_mean, random_test.per_episode_mean,
                                                            reference_test.per_episode_mean),
                              "unit": "episodes", "kind": "measured",
                              "of": test.episodes},
    }
    if ood is None:
        none = {"value": None, "unit": "1", "kind": "measured", "reason": "the task family has no ood split"}
        return {**out, "ood_fraction": dict(none), "ood_normalized_score": dict(none)}
    r_ood = ood.return_mean
    return {**out,
            "ood_fraction": {"value": (r_ood / r) if abs(r) > 1e-12 else None, "unit": "1", "kind": "measured"},
            "ood_normalized_score": {"value": normalized(r_ood, random_ood.return_mean, reference_ood.return_mean),
                                     "unit": "1", "kind": "measured"}}
