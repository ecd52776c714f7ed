"""The ``symbolic`` backend: readable rules induced from a few episodes, with a
meta-learned prior over rules (algorithm ``rule-induction``). The substance is
:mod:`metaplastic.symbolic`.

Meta-training fits the rule prior to ``prior_tasks`` training tasks' hidden rules (it reads
them: that is what the outer loop learns from; agents never see them) and saves it as
readable JSON (``rule_prior.json``). Agents induce the rule of their task from the trial's
transitions and act on it; ``agent.explain()`` lists the rules believed.

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("symbolic", prior_tasks=500)
    >>> _ = learner.meta_train(metaplastic.make_tasks("keydoor"), budget=1, seed=0, show_progress=False)
    >>> learner.rule_prior.prob("goal", "K = D") > 0.95
    True
"""

from __future__ import annotations

import time
from typing import Any, Callable

from metaplastic.backends.base import SEED_PARAM, VectorBackedLearner, fitted_tasks, single_fit, train_progress
from metaplastic.core import Agent, Capabilities, TaskDistribution, VectorAgent
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runs.rundir import Checkpoint, RunDir
from metaplastic.symbolic.params import SYMBOLIC_PARAMS

#: The task families with a domain theory (``metaplastic.symbolic.domains.DOMAINS``).
FAMILIES = ("keydoor", "blocks")


class SymbolicLearner(VectorBackedLearner):
    """Rule induction with a meta-learned prior over rule templates."""

    name = "symbolic"
    capabilities = Capabilities(meta_train=True, algorithms=("rule-induction",), families=FAMILIES)
    config_params = (SEED_PARAM, *SYMBOLIC_PARAMS)

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.rule_prior: Any = None
        self.tasks_spec: str | None = None

    def _domain(self, tasks: TaskDistribution) -> Any:
        from metaplastic.symbolic.domains import domain_for

        return domain_for(tasks)

    def _prior(self, domain: Any) -> Any:
        from metaplastic.symbolic.prior import RulePrior

        if self.config["prior"] == "uniform" or self.rule_prior is None:
            return RulePrior.uniform(domain)
        fits = set(self.rule_prior.probs) == set(domain.templates) and all(
            set(ps) == set(domain.pattern_names) for ps in self.rule_prior.probs.values())
        if not fits:
            raise ConfigError(f"backend symbolic: this learner's rule prior was fitted to {self.tasks_spec!r}, whose "
                              f"templates differ from {domain.tasks.name}'s; meta-train it on these tasks")
        return self.rule_prior

    def prepare(self, tasks: TaskDistribution) -> None:
        """Check that ``tasks`` have a domain theory."""
        self._domain(tasks)

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> VectorAgent:
        from metaplastic.symbolic.agent import SymbolicVectorAgent
        from metaplastic.tasks.base import task_spec

        domain = self._domain(tasks)
        if self.tasks_spec is None:
            self.tasks_spec = task_spec(tasks)
        return SymbolicVectorAgent(tasks, domain, self._prior(domain), num_lanes, noise=self.config["noise"],
                                   acting=self.config["acting"], engine=self.config["engine"])

    def agent(self, tasks: TaskDistribution) -> Agent:
        """One agent; ``agent.explain()`` lists the rules it believes, with their probabilities."""
        from metaplastic.symbolic.agent import SymbolicAgent

        return SymbolicAgent(self.vector_agent(tasks, 1), tasks.observation_space, tasks.action_space)

    def meta_train(self, tasks: TaskDistribution, *, budget: Any, seed: int,
                   callback: Callable[..., Any] | None = None, show_progress: bool = True, state: Any = None) -> Any:
        """Fit the rule prior to ``prior_tasks`` training tasks' hidden rules (one update)."""
        from metaplastic.symbolic.prior import RulePrior
        from metaplastic.tasks.base import task_spec

        domain = self._domain(tasks)
        start = time.perf_counter()
        train = tasks.sample(self.config["prior_tasks"], seed=int(seed), split="train")
        self.rule_prior = RulePrior.fit(domain, [domain.patterns(r) for r in tasks.rules(train)],
                                        self.config["pseudocount"], self.config["floor"])
        self.tasks_spec = task_spec(tasks)
        return single_fit(seed, self.rule_prior, started=start, tasks_seen=len(train), callback=callback)

    def _save_state(self, ckpt: Checkpoint) -> None:
        if self.rule_prior is not None:
            ckpt.save_text(RunDir.RULE_PRIOR, self.rule_prior.to_json())
        ckpt.write_progress(tasks=self.tasks_spec, progress={})

    def _load_state(self, run: RunDir) -> None:
        from metaplastic.symbolic.prior import RulePrior

        train_progress(run)
        self.tasks_spec = run.tasks_spec()
        if run.has(RunDir.RULE_PRIOR):
            domain = self._domain(fitted_tasks(run, "a rule prior"))
            try:
                self.rule_prior = RulePrior.from_json(run.read_text(RunDir.RULE_PRIOR, "rule prior"), domain)
            except ConfigError as exc:
                raise RunDirError(f"{str(run.file(RunDir.RULE_PRIOR))!r}: {exc}; the run directory is corrupt or "
                                  "foreign") from None
