"""The rule language: atoms over a state's symbolic facts, literals, and rules (a
conjunction of literals implying an action or an outcome), printed as readable text and as
Prolog-style clauses and parsed back from either.

An argument starting with an upper-case letter is a variable; anything else is a constant.

Example:
    >>> rule = parse_rule("reward :- holding(red), tried(door(blue)), \\\\+ door_open(blue).")
    >>> rule.prolog()
    'reward :- holding(red), tried(door(blue)), \\\\+ door_open(blue).'
    >>> rule.text()
    'if holding(red) and tried(door(blue)) and not door_open(blue) then reward'
    >>> parse_rule(rule.text()) == rule
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from metaplastic.errors import ConfigError

_NAME = re.compile(r"[a-z][A-Za-z0-9_]*|[A-Z_][A-Za-z0-9_]*|-?[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class Term:
    """A constant, a variable, or a compound ``name(args)`` (e.g. ``door(blue)``)."""

    name: str
    args: tuple["Term", ...] = ()

    @property
    def is_variable(self) -> bool:
        return not self.args and (self.name[:1].isupper() or self.name[:1] == "_")

    def text(self) -> str:
        return self.name if not self.args else f"{self.name}({', '.join(a.text() for a in self.args)})"

    def variables(self) -> set[str]:
        if self.is_variable:
            return {self.name}
        return set().union(*(a.variables() for a in self.args)) if self.args else set()


@dataclass(frozen=True)
class Literal:
    """An atom (a :class:`Term` used as a statement), possibly negated."""

    atom: Term
    negated: bool = False

    def prolog(self) -> str:
        return ("\\+ " if self.negated else "") + self.atom.text()

    def text(self) -> str:
        return ("not " if self.negated else "") + self.atom.text()


@dataclass(frozen=True)
class Rule:
    """``head`` holds (an action to take, or an outcome such as ``reward`` or
    ``door_open(blue)``) when every literal of ``body`` holds."""

    head: Term
    body: tuple[Literal, ...] = ()

    def prolog(self) -> str:
        if not self.body:
            return f"{self.head.text()}."
        return f"{self.head.text()} :- {', '.join(lit.prolog() for lit in self.body)}."

    def text(self) -> str:
        if not self.body:
            return f"always {self.head.text()}"
        return f"if {' and '.join(lit.text() for lit in self.body)} then {self.head.text()}"

    def variables(self) -> set[str]:
        return self.head.variables().union(*(lit.atom.variables() for lit in self.body))

    def __str__(self) -> str:
        return self.text()


# -- parsing ----------------------------------------------------------------------------------
class _Reader:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def fail(self, what: str) -> ConfigError:
        return ConfigError(f"cannot parse rule {self.text!r}: {what} at character {self.pos}; write e.g. "
                           "'reward :- holding(red), tried(door(blue)).' or 'if holding(red) then reward'")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, token: str) -> bool:
        self.skip()
        return self.text.startswith(token, self.pos)

    def take(self, token: str) -> bool:
        if self.peek(token):
            self.pos += len(token)
            return True
        return False

    def name(self) -> str:
        self.skip()
        m = _NAME.match(self.text, self.pos)
        if not m:
            raise self.fail("expected a name")
        self.pos = m.end()
        return m.group(0)

    def term(self) -> Term:
        name = self.name()
        if not self.take("("):
            return Term(name)
        args = [self.term()]
        while self.take(","):
            args.append(self.term())
        if not self.take(")"):
            raise self.fail("expected ')'")
        return Term(name, tuple(args))

    def literal(self, negations: tuple[str, ...]) -> Literal:
        for neg in negations:
            if self.peek(neg):
                end = self.pos + len(neg)
                if neg.isalpha() and (end >= len(self.text) or not self.text[end].isspace()):
                    continue  # 'notable(x)' is an atom, not a negation
                self.pos = end
                return Literal(self.term(), negated=True)
        return Literal(self.term())

    def end(self) -> None:
        self.skip()
        if self.pos != len(self.text):
            raise self.fail("unexpected text")


def parse_rule(text: str) -> Rule:
    """A rule from its Prolog-style clause (``head :- a, \\+ b.``) or its readable text
    (``if a and not b then head``; ``always head``). A one-line ConfigError when malformed.

    Example:
        >>> parse_rule("if holding(red) then pick(K)").prolog()
        'pick(K) :- holding(red).'
    """
    if not isinstance(text, str):
        raise ConfigError(f"a rule is text, got {type(text).__name__}")
    r = _Reader(text.strip())
    if r.take("always "):
        head = r.term()
        r.end()
        return Rule(head)
    if r.take("if "):
        body = [r.literal(("not ",))]
        while r.take(" and ") or r.take("and "):
            body.append(r.literal(("not ",)))
        if not r.take("then"):
            raise r.fail("expected 'then'")
        head = r.term()
        r.end()
        return Rule(head, tuple(body))
    head = r.term()
    body: list[Literal] = []
    if r.take(":-"):
        body.append(r.literal(("\\+", "not ")))
        while r.take(","):
            body.append(r.literal(("\\+", "not ")))
    if not r.take("."):
        raise r.fail("expected '.' at the end of the clause")
    r.end()
    return Rule(head, tuple(body))


def parse_program(text: str) -> tuple[Rule, ...]:
    """Rules of a Prolog-style program, one clause per line (``%`` starts a comment)."""
    lines = (line.split("%", 1)[0].strip() for line in text.splitlines())
    return tuple(parse_rule(line) for line in lines if line)


# -- executing rules ---------------------------------------------------------------------------
def _unify(pattern: Term, fact: Term, binding: dict[str, Term]) -> dict[str, Term] | None:
    if pattern.is_variable:
        bound = binding.get(pattern.name)
        if bound is None:
            return {**binding, pattern.name: fact}
        return binding if bound == fact else None
    if pattern.name != fact.name or len(pattern.args) != len(fact.args):
        return None
    for p, f in zip(pattern.args, fact.args):
        binding = _unify(p, f, binding)
        if binding is None:
            return None
    return binding


def _substitute(term: Term, binding: dict[str, Term]) -> Term:
    if term.is_variable:
        return binding.get(term.name, term)
    return Term(term.name, tuple(_substitute(a, binding) for a in term.args))


def _solutions(body: tuple[Literal, ...], facts: frozenset[Term], binding: dict[str, Term]):
    if not body:
        yield binding
        return
    first, rest = body[0], body[1:]
    if first.negated:  # negation as failure, on the literal as bound so far
        ground = _substitute(first.atom, binding)
        if not any(_unify(ground, f, {}) is not None for f in facts):
            yield from _solutions(rest, facts, binding)
        return
    for fact in sorted(facts, key=Term.text):  # a fixed order: the same binding in every process
        found = _unify(first.atom, fact, binding)
        if found is not None:
            yield from _solutions(rest, facts, found)


def fire(rules: tuple[Rule, ...], facts: frozenset[Term]) -> Term | None:
    """The head of the first rule whose body holds in ``facts`` (a state's true ground
    facts), its variables bound by the first match; ``None`` when no rule fires (a policy
    then explores). Rules are tried in order (a decision list).

    Example:
        >>> rules = parse_program("try(door(D)) :- holding(K), opener(K, D).\\npick(key(red)) :- \\\\+ holding(red).")
        >>> fire(rules, frozenset({parse_rule("holding(red).").head, parse_rule("opener(red, blue).").head})).text()
        'try(door(blue))'
        >>> fire(rules, frozenset()).text()
        'pick(key(red))'
        >>> fire(rules, frozenset({parse_rule("holding(red).").head})) is None
        True
    """
    for rule in rules:
        for binding in _solutions(rule.body, facts, {}):
            return _substitute(rule.head, binding)
    return None
