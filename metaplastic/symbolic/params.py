"""The config keys of the symbolic rule learner, declared once.

Example:
    >>> [p.name for p in SYMBOLIC_PARAMS][:2]
    ['algo', 'engine']
"""

from __future__ import annotations

from metaplastic.params import Param

SYMBOLIC_PARAMS = (
    Param("algo", str, "rule-induction", "meta-training algorithm: fit the rule prior to the training tasks' rules, "
          "induce each task's rule in the inner loop", choices=("rule-induction",)),
    Param("engine", str, "enumerate", "induction engine: enumerate (programs scored with Numba coverage on packed "
          "facts) or clingo (answer set programming; extra 'symbolic')", choices=("enumerate", "clingo")),
    Param("acting", str, "thompson", "which program a lane acts on: a posterior draw (thompson) or the most probable "
          "(map)", choices=("thompson", "map")),
    Param("prior", str, "learned", "rule prior: learned (meta-trained; uniform before) or uniform (ablation)",
          choices=("learned", "uniform")),
    Param("noise", float, 1e-3, "probability that an outcome contradicts the true rule (the likelihood's slack)",
          low=0.0, high=0.499, low_exclusive=True),
    Param("floor", float, 0.05, "prior mass spread evenly over every argument pattern, so that a pattern never seen "
          "in training stays plausible (ood rules)", low=0.0, high=1.0),
    Param("pseudocount", float, 1.0, "pseudo-count added to every argument pattern when fitting the prior", low=0.0,
          low_exclusive=True, high=1e6),
    Param("prior_tasks", int, 4096, "training tasks whose hidden rules the prior is fitted to", low=1, high=1_000_000),
)
