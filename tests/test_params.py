import pytest

from metaplastic.errors import ConfigError
from metaplastic.params import Param, coerce, format_spec, parse_spec

K = Param("k", int, 5, "arms", low=2)
P = Param("p", float, 0.5, "prob", low=0.0, high=1.0)
FLAG = Param("flag", bool, False, "a flag")


def test_parse_and_format_round_trip():
    name, raw = parse_spec(" bandits:k=5, n=10 ")
    assert (name, raw) == ("bandits", {"k": "5", "n": "10"})
    assert parse_spec(format_spec("bandits", {"k": 5, "p": 0.25, "flag": True})) == (
        "bandits", {"k": "5", "p": "0.25", "flag": "true"})
    assert parse_spec("bandits") == ("bandits", {})


@pytest.mark.parametrize("spec, fragment", [
    ("", "empty spec"),
    ("bandits:", "nothing after ':'"),
    ("bandits:k", "'k' is not key=value"),
    ("bandits:k=", "'k=' is not key=value"),
    ("bandits:k=1,k=2", "given twice"),
    (":k=1", "is not a name"),
    ("ban dits", "is not a name"),
])
def test_malformed_specs(spec, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_spec(spec)


@pytest.mark.parametrize("given, fragment", [
    ({"k": "abc"}, "k must be an integer >= 2, got 'abc'"),
    ({"k": "1"}, "k must be an integer >= 2"),
    ({"k": 2.5}, "k must be an integer"),
    ({"k": True}, "k must be an integer"),
    ({"p": "1.5"}, "p must be a number >= 0 and <= 1"),
    ({"p": "nan"}, "p must be a number"),
    ({"flag": "maybe"}, "flag must be true/false"),
    ({"x": 1}, "unknown parameter 'x'; known parameters: k, p, flag"),
])
def test_bad_values(given, fragment):
    with pytest.raises(ConfigError) as err:
        coerce("fam", (K, P, FLAG), given)
    assert fragment in str(err.value)


def test_good_values_convert():
    assert coerce("fam", (K, P, FLAG), {"k": "7", "p": 1, "flag": "yes"}) == {"k": 7, "p": 1.0, "flag": True}
