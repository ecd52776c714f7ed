"""The rule language: text and Prolog-style clauses round-trip, bad text is a one-line error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metaplastic.errors import ConfigError
from metaplastic.symbolic.language import Literal, Rule, Term, parse_program, parse_rule

names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda s: s not in ("not", "if", "then", "and",
                                                                                         "always"))
variables = st.from_regex(r"[A-Z][a-z0-9]{0,3}", fullmatch=True)
leaves = st.builds(Term, st.one_of(names, variables, st.integers(0, 99).map(str)))
terms = st.recursive(leaves, lambda inner: st.builds(Term, names, st.lists(inner, min_size=1, max_size=3).map(tuple)),
                     max_leaves=6)
atoms = st.one_of(st.builds(Term, names), st.builds(Term, names, st.lists(terms, min_size=1, max_size=3).map(tuple)))
rules = st.builds(Rule, atoms, st.lists(st.builds(Literal, atoms, st.booleans()), max_size=4).map(tuple))


@given(rules)
def test_prolog_and_text_round_trip(rule):
    assert parse_rule(rule.prolog()) == rule
    assert parse_rule(rule.text()) == rule


def test_readable_forms():
    rule = Rule(Term("open", (Term("D"),)), (Literal(Term("holding", (Term("K"),))),
                                             Literal(Term("door_open", (Term("D"),)), negated=True)))
    assert rule.prolog() == "open(D) :- holding(K), \\+ door_open(D)."
    assert rule.text() == "if holding(K) and not door_open(D) then open(D)"
    assert rule.variables() == {"D", "K"}
    assert parse_program("% a comment\nreward :- holding(red).\n\ngoal(blue).\n")[1] == Rule(Term("goal", (Term("blue"),)))


@pytest.mark.parametrize("text", ["reward :- holding(red)", "if holding(red) reward", "reward :- .", "f(a,).",
                                  "if then x", 3])
def test_malformed_rule_is_one_line(text):
    with pytest.raises(ConfigError) as err:
        parse_rule(text)
    assert "\n" not in str(err.value)
