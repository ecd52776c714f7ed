"""The meta-learned prior over rules: for each rule template, how often each argument
pattern held in the training tasks' hidden rules (a library of which abstractions recur),
smoothed by ``pseudocount``. Saved in the run directory as readable JSON.

Example:
    >>> prior = RulePrior.uniform()
    >>> prior.prob("goal", "K = D")
    0.5
    >>> RulePrior.from_json(prior.to_json()) == prior
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from metaplastic.errors import ConfigError
from metaplastic.symbolic.domains.keydoor import PATTERNS, TEMPLATE_TEXT, TEMPLATES


@dataclass(frozen=True)
class RulePrior:
    """``probs[template][pattern]``: the probability of each argument pattern of a template."""

    probs: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    tasks: int = 0

    @classmethod
    def uniform(cls) -> "RulePrior":
        return cls({t: {p: 1.0 / len(PATTERNS) for p in PATTERNS} for t in TEMPLATES}, 0)

    @classmethod
    def fit(cls, counts: list[Mapping[str, list[int]]], pseudocount: float, floor: float = 0.0) -> "RulePrior":
        """From each training task's pattern counts per template (``Domain.patterns``),
        smoothed by ``pseudocount`` and mixed with ``floor`` of uniform mass.

        Example:
            >>> RulePrior.fit([{"goal": [1, 0], "opens": [2, 0]}], 0.0, floor=0.1).prob("goal", "K != D")
            0.05
        """
        probs = {}
        for t in TEMPLATES:
            total = [pseudocount + sum(c[t][i] for c in counts) for i in range(len(PATTERNS))]
            probs[t] = {p: (1.0 - floor) * total[i] / sum(total) + floor / len(PATTERNS) for i, p in enumerate(PATTERNS)}
        return cls(probs, len(counts))

    def prob(self, template: str, pattern: str) -> float:
        return float(self.probs[template][pattern])

    def to_json(self) -> str:
        doc = {"templates": {t: {"rule": TEMPLATE_TEXT[t], "patterns": dict(self.probs[t])} for t in TEMPLATES},
               "fitted_on_tasks": self.tasks}
        return json.dumps(doc, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "RulePrior":
        try:
            doc = json.loads(text)
            probs = {t: {p: float(doc["templates"][t]["patterns"][p]) for p in PATTERNS} for t in TEMPLATES}
            tasks = int(doc.get("fitted_on_tasks", 0))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"the rule prior is not valid ({type(exc).__name__}: {exc}); it needs "
                              f"templates {', '.join(TEMPLATES)} with patterns {', '.join(PATTERNS)}") from None
        for t, ps in probs.items():
            if any(not 0.0 <= v <= 1.0 for v in ps.values()) or abs(sum(ps.values()) - 1.0) > 1e-6:
                raise ConfigError(f"the rule prior's patterns of {t!r} are not probabilities summing to 1")
        return cls(probs, tasks)

    def as_dict(self) -> dict[str, Any]:
        return json.loads(self.to_json())
