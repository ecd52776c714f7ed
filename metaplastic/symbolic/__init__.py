"""Symbolic rule learning: a rule language over a state's symbolic facts, rule induction
from the transitions of a trial, and a meta-learned prior over rules. Knows no registry.
"""
