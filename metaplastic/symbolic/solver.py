"""The optional solver engine (extra ``symbolic``): the programs consistent with a trial's
transitions, found by answer set programming with clingo (installed from PyPI; no system
Prolog).

The encoding is generic over a domain's ground rules: each transition row's true facts
``f(T, I)`` and outcomes ``h(T, J)``, each rule's body (``body``/``nbody``: facts that must
hold / must not) and head, and each candidate program's rules (``in(P, R)``). clingo
chooses one program; a rule of it *fires* on a row when its body holds, and the program is
consistent when the outcomes it predicts are exactly those observed, on every row. The
answer sets are the programs the enumeration engine leaves with zero mispredictions (its
``noise -> 0`` limit); a test checks that the two agree on shared trials.

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.symbolic.domains import domain_for
    >>> dom = domain_for(metaplastic.make_tasks("blocks"))
    >>> progs = np.array([[0], [1]])          # STACK, UNSTACK
    >>> facts = np.array([[True, False, False]]); heads = np.array([[False]])   # a column, no reward
    >>> consistent_programs(dom, progs, facts, heads).tolist()                 # STACK is refuted
    [1]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metaplastic.errors import ConfigError

_ENCODING = """
1 { chosen(P) : prog(P) } 1.
active(R) :- chosen(P), in(P, R).
fails(T, R) :- active(R), row(T), body(R, I), not f(T, I).
fails(T, R) :- active(R), row(T), nbody(R, I), f(T, I).
pred(T, J) :- active(R), row(T), head(R, J), not fails(T, R).
:- pred(T, J), not h(T, J).
:- h(T, J), not pred(T, J).
#show chosen/1.
"""


def _clingo() -> Any:
    try:
        import clingo
    except ImportError:
        raise ConfigError("symbolic: engine clingo needs the 'symbolic' extra (clingo); "
                          "pip install 'metaplastic[symbolic]'") from None
    return clingo


def consistent_programs(domain: Any, programs: np.ndarray, facts: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``programs`` (rule indices per program, -1 for none) that
    predict ``heads`` exactly from ``facts`` (one row per transition), sorted."""
    clingo = _clingo()
    lines = []
    for t, (frow, hrow) in enumerate(zip(np.asarray(facts, bool), np.asarray(heads, bool))):
        lines.append(f"row({t}).")
        lines += [f"f({t},{i})." for i in np.flatnonzero(frow)]
        lines += [f"h({t},{j})." for j in np.flatnonzero(hrow)]
    used = sorted({int(r) for r in np.asarray(programs).ravel() if r >= 0})
    for r in used:
        lines += [f"body({r},{i})." for i in np.flatnonzero(domain.must[r])]
        lines += [f"nbody({r},{i})." for i in np.flatnonzero(domain.must_not[r])]
        lines.append(f"head({r},{int(domain.rule_head[r])}).")
    for p, rules in enumerate(np.asarray(programs)):
        lines.append(f"prog({p}).")
        lines += [f"in({p},{int(r)})." for r in rules if r >= 0]
    ctl = clingo.Control(["0", "--warn=none"])
    ctl.add("base", [], _ENCODING + "\n".join(lines))
    ctl.ground([("base", [])])
    found: list[int] = []
    ctl.solve(on_model=lambda m: found.extend(s.arguments[0].number for s in m.symbols(shown=True)))
    return np.array(sorted(found), dtype=np.int64)
