"""Rule induction: each lane's posterior over the programs (hypotheses) of its task,
updated after every transition. A program's likelihood counts the outcomes its rules
mispredict (each mismatch has probability ``noise``); its prior comes from the meta-learned
:class:`~metaplastic.symbolic.prior.RulePrior`. Rule bodies are evaluated over the
transitions' bit-packed fact rows by the Numba coverage kernel
(:func:`metaplastic.symbolic.bits.coverage`); each update adds one row's mismatches, so the
work is incremental.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from metaplastic.core import OpCounts
from metaplastic.symbolic.bits import bit_ops, coverage, pack, unpack
from metaplastic.symbolic.prior import RulePrior


@numba.njit(cache=True)
def _add_mismatches(fires, lanes, programs, n_programs, rule_head, heads, mism):
    """``mism[lane, p] +=`` the outcomes program ``p`` mispredicts on the lane's new row."""
    n_heads = heads.shape[1]
    pred = np.zeros(n_heads, dtype=np.bool_)
    for r in range(lanes.shape[0]):
        lane = lanes[r]
        for p in range(n_programs[lane]):
            pred[:] = False
            for s in range(programs.shape[2]):
                rule = programs[lane, p, s]
                if rule >= 0 and fires[rule, r]:
                    pred[rule_head[rule]] = True
            m = 0
            for h in range(n_heads):
                if pred[h] != heads[r, h]:
                    m += 1
            mism[lane, p] += m


class Inducer:
    """The posterior over programs of ``num_lanes`` lanes (see the module doc)."""

    def __init__(self, domain: Any, num_lanes: int, prior: RulePrior, noise: float, counts: OpCounts):
        self.domain, self.num_lanes, self.prior, self.noise, self.counts = domain, int(num_lanes), prior, noise, counts
        self.must, self.must_not = pack(domain.must), pack(domain.must_not)
        self.max_slots = domain.max_slots
        self.n_programs = np.zeros(self.num_lanes, dtype=np.int64)
        self.programs = np.full((self.num_lanes, 1, self.max_slots), -1, dtype=np.int64)
        self.log_prior = np.full((self.num_lanes, 1), -np.inf)
        self.mism = np.zeros((self.num_lanes, 1), dtype=np.int64)
        self.rows = np.zeros(self.num_lanes, dtype=np.int64)

    def reset(self) -> None:
        self.n_programs[:] = 0
        self.mism[:] = 0
        self.rows[:] = 0

    def start(self, lanes: np.ndarray, obs: np.ndarray) -> None:
        """Enumerate the programs of each lane's task from its first observation."""
        built = [self.domain.programs_for(obs[i]) for i in range(len(lanes))]
        top = max([len(p) for p, _ in built] + [self.programs.shape[1]])
        if top > self.programs.shape[1]:
            grow = top - self.programs.shape[1]
            self.programs = np.pad(self.programs, ((0, 0), (0, grow), (0, 0)), constant_values=-1)
            self.log_prior = np.pad(self.log_prior, ((0, 0), (0, grow)), constant_values=-np.inf)
            self.mism = np.pad(self.mism, ((0, 0), (0, grow)))
        for lane, (progs, _) in zip(lanes, built):
            n, s = progs.shape
            self.programs[lane] = -1
            self.programs[lane, :n, : s - 1] = progs[:, :-1]  # the opens rules; empty door slots stay -1
            self.programs[lane, :n, -1] = progs[:, -1]  # the goal rule, always last
            self.log_prior[lane] = -np.inf
            self.log_prior[lane, :n] = self.domain.log_prior(progs, self.prior)
            self.mism[lane] = 0
            self.n_programs[lane] = n
            self.rows[lane] = 0

    def update(self, lanes: np.ndarray, facts: np.ndarray, heads: np.ndarray) -> None:
        """Fold one transition (a fact row and an outcome row) into each of ``lanes``."""
        table = pack(facts)
        fires = unpack(coverage(table, self.must, self.must_not), len(lanes))
        _add_mismatches(fires, lanes, self.programs, self.n_programs, self.domain.rule_head, heads, self.mism)
        self.rows[lanes] += 1
        c = self.counts
        c.posterior_updates += len(lanes)
        c.rule_evals += len(self.domain.rules) * len(lanes) + int((self.programs[lanes] >= 0).sum())
        c.bit_ops += bit_ops(len(self.domain.rules), len(lanes), table.shape[1])

    def refuted(self, lanes: np.ndarray, programs: np.ndarray) -> np.ndarray:
        """Whether each lane's program ``programs[i]`` has mispredicted an outcome."""
        return self.mism[lanes, programs] > 0

    def log_posterior(self, lane: int) -> np.ndarray:
        n = self.n_programs[lane]
        heads = len(self.domain.heads)
        m = self.mism[lane, :n]
        lp = self.log_prior[lane, :n] + m * np.log(self.noise) + (self.rows[lane] * heads - m) * np.log1p(-self.noise)
        return lp - np.logaddexp.reduce(lp)

    def posterior(self, lane: int) -> np.ndarray:
        return np.exp(self.log_posterior(lane))

    def sample(self, lanes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One program index per lane, drawn from its posterior."""
        return np.array([rng.choice(self.n_programs[lane], p=self.posterior(lane)) for lane in lanes], dtype=np.int64)

    def best(self, lane: int) -> int:
        return int(np.argmax(self.log_posterior(lane)))

    def rule_marginals(self, lane: int) -> dict[int, float]:
        """The posterior probability of each rule (index into the domain's pool) of a lane."""
        post = self.posterior(lane)
        progs = self.programs[lane, : self.n_programs[lane]]
        out: dict[int, float] = {}
        for rule in np.unique(progs[progs >= 0]):
            out[int(rule)] = float(post[(progs == rule).any(axis=1)].sum())
        return out


class SolverInducer(Inducer):
    """The same interface with the clingo engine (:mod:`metaplastic.symbolic.solver`): the
    posterior is the prior restricted to the programs consistent with every transition (the
    ``noise -> 0`` limit of :class:`Inducer`). Each lane keeps its transition rows; a solve
    runs when a lane's posterior is read after new rows."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.facts_log: list[list[np.ndarray]] = [[] for _ in range(self.num_lanes)]
        self.heads_log: list[list[np.ndarray]] = [[] for _ in range(self.num_lanes)]
        self.cache: dict[int, np.ndarray] = {}

    def start(self, lanes: np.ndarray, obs: np.ndarray) -> None:
        super().start(lanes, obs)
        for lane in lanes:
            self.facts_log[int(lane)], self.heads_log[int(lane)] = [], []
            self.cache.pop(int(lane), None)

    def update(self, lanes: np.ndarray, facts: np.ndarray, heads: np.ndarray) -> None:
        for row, lane in enumerate(lanes):
            self.facts_log[int(lane)].append(facts[row])
            self.heads_log[int(lane)].append(heads[row])
            self.cache.pop(int(lane), None)
        self.rows[lanes] += 1
        self.counts.posterior_updates += len(lanes)

    def consistent(self, lane: int) -> np.ndarray:
        """Whether each of the lane's programs is consistent with all its transitions."""
        from metaplastic.symbolic.solver import consistent_programs

        lane = int(lane)
        if lane not in self.cache:
            n = self.n_programs[lane]
            ok = np.zeros(n, dtype=bool)
            if self.facts_log[lane]:
                progs = self.programs[lane, :n]
                ok[consistent_programs(self.domain, progs, np.array(self.facts_log[lane]),
                                       np.array(self.heads_log[lane]))] = True
                used = len(np.unique(progs[progs >= 0]))
                self.counts.rule_evals += used * len(self.facts_log[lane])  # the ground rule bodies clingo checks
            else:
                ok[:] = True
            self.cache[lane] = ok
        return self.cache[lane]

    def log_posterior(self, lane: int) -> np.ndarray:
        n = self.n_programs[lane]
        ok = self.consistent(lane)
        if not ok.any():  # no program explains the data (not in a deterministic domain): the prior
            ok = np.ones(n, dtype=bool)
        lp = np.where(ok, self.log_prior[lane, :n], -np.inf)
        return lp - np.logaddexp.reduce(lp)

    def refuted(self, lanes: np.ndarray, programs: np.ndarray) -> np.ndarray:
        return np.array([not self.consistent(int(lane))[int(p)] for lane, p in zip(lanes, programs)], dtype=bool)
