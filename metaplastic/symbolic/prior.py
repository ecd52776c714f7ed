"""The meta-learned prior over rules: for each rule template of a domain, how often each
argument pattern held in the training tasks' hidden rules (a library of which abstractions
recur), smoothed by ``pseudocount`` and mixed with ``floor`` of uniform mass. Saved in the
run directory as readable JSON.

Example:
    >>> import metaplastic
    >>> from metaplastic.symbolic.domains import domain_for
    >>> domain = domain_for(metaplastic.make_tasks("keydoor"))
    >>> prior = RulePrior.uniform(domain)
    >>> prior.prob("goal", "K = D")
    0.5
    >>> RulePrior.from_json(prior.to_json(), domain) == prior
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from metaplastic.errors import ConfigError


@dataclass(frozen=True)
class RulePrior:
    """``probs[template][pattern]``: the probability of each argument pattern of a template;
    ``texts[template]``: the template as a rule with variables (for people)."""

    probs: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    tasks: int = 0

    @classmethod
    def uniform(cls, domain: Any) -> "RulePrior":
        """Every pattern of every template of ``domain`` equally likely."""
        pats = domain.pattern_names
        return cls({t: {p: 1.0 / len(pats) for p in pats} for t in domain.templates}, dict(domain.templates), 0)

    @classmethod
    def fit(cls, domain: Any, counts: list[Mapping[str, list[int]]], pseudocount: float,
            floor: float = 0.0) -> "RulePrior":
        """From each training task's pattern counts per template (``domain.patterns``)."""
        pats = domain.pattern_names
        probs = {}
        for t in domain.templates:
            total = [pseudocount + sum(c[t][i] for c in counts) for i in range(len(pats))]
            probs[t] = {p: (1.0 - floor) * total[i] / sum(total) + floor / len(pats) for i, p in enumerate(pats)}
        return cls(probs, dict(domain.templates), len(counts))

    def prob(self, template: str, pattern: str) -> float:
        return float(self.probs[template][pattern])

    def to_json(self) -> str:
        doc = {"templates": {t: {"rule": self.texts[t], "patterns": dict(ps)} for t, ps in self.probs.items()},
               "fitted_on_tasks": self.tasks}
        return json.dumps(doc, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, domain: Any) -> "RulePrior":
        """The prior saved by :meth:`to_json`, checked against ``domain``'s templates and
        patterns (a one-line ConfigError otherwise)."""
        pats = domain.pattern_names
        try:
            doc = json.loads(text)
            probs = {t: {p: float(doc["templates"][t]["patterns"][p]) for p in pats} for t in domain.templates}
            tasks = int(doc.get("fitted_on_tasks", 0))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"the rule prior is not valid ({type(exc).__name__}: {exc}); it needs templates "
                              f"{', '.join(domain.templates)} with patterns {', '.join(pats)}") from None
        for t, ps in probs.items():
            if any(not 0.0 <= v <= 1.0 for v in ps.values()) or abs(sum(ps.values()) - 1.0) > 1e-6:
                raise ConfigError(f"the rule prior's patterns of {t!r} are not probabilities summing to 1")
        return cls(probs, dict(domain.templates), tasks)

    def as_dict(self) -> dict[str, Any]:
        return json.loads(self.to_json())
