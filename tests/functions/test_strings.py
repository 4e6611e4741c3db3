"""String functions (dtl-functions-strings.rst): documented examples, edge cases and laws."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.errors import DTLError
from dtl.values import NI, URI, UUID, DateTime




# -- documented behaviour and edge cases ------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    (["concat", ["list", "a", "b", "c"]], "abc"),
    (["concat", "a", ["list", "b", "c"], "d", 123, ["list", "!"]], "abcd!"),
    (["concat", 123, 3.14], ""),
    (["concat", None, "x", None], "x"),
    (["concat", ["list", ["list", "deep"], "flat"]], "flat"),  # only one level is spliced
    (["is-string", "foo:bar"], True),
    (["is-string", 1], False),
    (["is-string", ["list", "foo:bar", 12345]], True),
    (["is-string", ["list", 1, "foo:bar"]], False),
    (["is-string", ["list"]], False),
    (["is-string", None], False),
    (["is-string", ["uri", "http://x/"]], False),
    (["join", "-", ["list", "a", "b", 123, "c"]], "a-b-c"),
    (["join", ", ", "single"], "single"),
    (["join", "-", ["list"]], ""),
    (["join", "-", None], None),
    (["join", "-", 7], ""),
    (["length", ["list", "", "a", "bb", "ccc"]], [0, 1, 2, 3]),
    (["length", "John"], 4),
    (["length", "å😀"], 2),  # characters, not bytes
    (["length", ["list", "ab", 12, None, "c"]], [2, 1]),
    (["length", 12], None),
    (["length", None], None),
    (["ljust", 10, "0", "123"], "1230000000"),
    (["ljust", 5, " ", ["list", "abc", "def", "ghijklm"]], ["abc  ", "def  ", "ghijklm"]),
    (["rjust", 10, "0", "123"], "0000000123"),
    (["rjust", 5, " ", ["list", "abc", "def", "ghijklm"]], ["  abc", "  def", "ghijklm"]),
    (["rjust", 3, "ab", "x"], None),  # fill must be one character
    (["rjust", 3, "", "x"], None),
    (["ljust", 3, "*", ["list", 1, "x"]], ["x**"]),
    (["lower", ["list", "A", "B", "C"]], ["a", "b", "c"]),
    (["lower", ["list", "A", 1, None, "B"]], ["a", "b"]),
    (["lower", 1], None),
    (["upper", ["list", "a", "b", "c"]], ["A", "B", "C"]),
    (["upper", "John"], "JOHN"),
    (["upper", None], None),
    (["lstrip", ["list", " ab ", "cd ", "ef"]], ["ab ", "cd ", "ef"]),
    (["lstrip", "  abc"], "abc"),
    (["lstrip", "xy", ["list", "123xyx", "xy456yx"]], ["123xyx", "456yx"]),
    (["rstrip", ["list", " ab ", "cd ", "ef"]], [" ab", "cd", "ef"]),
    (["rstrip", "  abc"], "  abc"),
    (["rstrip", "xy", ["list", "123xyx", "xy456yx"]], ["123", "xy456"]),
    (["strip", ["list", " ab ", "cd ", "ef"]], ["ab", "cd", "ef"]),
    (["strip", "\t\n abc \r"], "abc"),
    (["strip", "xy", ["list", "123xyx", "xy456yx"]], ["123", "456"]),
    (["strip", "", " a "], " a "),
    (["strip", 5], None),
    (["matches", "a*p*a", ["list", "alpha", "alpaca"]], True),
    (["matches", "a*p*a", ["list", "alpha", "beta"]], False),
    (["matches", "*_sport", "winter_sport"], True),
    (["matches", "*", None], False),
    (["matches", "*", ["list"]], False),
    (["matches", "*", ["list", "a", 1]], False),  # non-strings never match
    (["matches", "a?c", "abc"], True),
    (["matches", "a?c", "abbc"], False),
    (["matches", "[ab]", "a"], False),  # only * and ? are wildcards
    (["matches", "[ab]", "[ab]"], True),
    (["matches", "a.c", "abc"], False),
    (["matches", "ABC", "abc"], False),  # case-sensitive
    (["matches", "a*", "a\nb"], True),
    (["replace", "http://", "https://", "http://www.sesam.io/"], "https://www.sesam.io/"),
    (["replace", ":", ".", ["list", "10:15", 3, "1:2:3"]], ["10.15", "1.2.3"]),
    (["replace", {"Hello": "HELLO", "world": "WORLD"}, "Hello world!"], "HELLO WORLD!"),
    (["replace", ["dict", "a", "A", "b", "B"], "abc"], "ABc"),
    (["replace", {"a": "b", "b": "c"}, "ab"], "cc"),  # applied one after the other
    (["replace", "a", "b", 12], None),
    (["split", "-", "a-b-c"], ["a", "b", "c"]),
    (["split", "", "abc"], ["a", "b", "c"]),
    (["split", "", ["list", "ab", "cd", "e"]], ["a", "b", "c", "d", "e"]),
    (["split", "-", ["list", "a-b", "c-d", "e"]], ["a", "b", "c", "d", "e"]),
    (["split", "-", ["list", "a-b", 7, "c"]], ["a", "b", "c"]),
    (["split", "a  b\tc "], ["a", "b", "c"]),  # default: runs of whitespace
    (["split", ",", "a,,b"], ["a", "", "b"]),
    (["split", ",", ""], [""]),
    (["split", "-", None], None),
    (["substring", 2, 4, "abcdef"], "cd"),
    (["substring", 2, "abcdef"], "cdef"),
    (["substring", -3, -1, "abcdef"], "de"),
    (["substring", 1, ["list", "abc", 5, "xy"]], ["bc", "y"]),
    (["substring", 10, "abc"], ""),
    (["substring", 0, 2, None], None),
])
def test_examples(expr, expected):
    assert ev(expr) == expected


def test_paths_and_sources():
    src = {"name": "  John  ", "tags": ["x", "y", "z"], "date": "10:15"}
    assert ev(["concat", "Hello ", ["strip", "_S.name"], "!"], src) == "Hello John!"
    assert ev(["join", "-", "_S.tags"], src) == "x-y-z"
    assert ev(["concat", "_S.tags"], src) == "xyz"
    assert ev(["lstrip", "_S.name"], src) == "John  "
    assert ev(["rstrip", "_S.name"], src) == "  John"
    assert ev(["replace", ":", ".", "_S.date"], src) == "10.15"
    assert ev(["matches", "*", "_S.missing"], src) is False


def test_runtime_argument_checks_give_null():
    src = {"w": "5", "f": "ab", "sep": 3, "ws": [" ", "x"]}
    assert ev(["ljust", "_S.w", "0", "1"], src) is None
    assert ev(["ljust", 5, "_S.f", "1"], src) is None
    assert ev(["ljust", "_S.b", "0", "1"], {"b": True}) is None  # booleans are not integers
    assert ev(["join", "_S.sep", ["list", "a"]], src) is None
    assert ev(["split", "_S.sep", "a"], src) is None
    # only the first of several patterns is used
    assert ev(["matches", ["list", "a*", "b*"], "abc"]) is True
    assert ev(["matches", ["list", "b*", "a*"], "abc"]) is False


def test_literal_kinds_are_checked_at_compile_time():
    with pytest.raises(DTLError):
        ev(["join", 1, ["list", "a"]])
    with pytest.raises(DTLError):
        ev(["substring", "1", "abc"])
    with pytest.raises(DTLError):
        ev(["ljust", True, "0", "1"])


# -- string conversion of every type ----------------------------------------------------------

def test_string_documented_example():
    expr = ["string", ["list", "abc", ["list", 1, 2, 3], {"b": 2, "a": 1},
                       ["uri", "http://www.example.org/"], 124.4, 12345]]
    assert ev(expr) == ["abc", "[1, 2, 3]", '{"a": 1, "b": 2}', "http://www.example.org/",
                        "124.4", "12345"]


@pytest.mark.parametrize("value, expected", [
    (1, "1"),
    ("hello", "hello"),
    ("~rhello", "~rhello"),
    (None, None),
    (True, "true"),
    (False, "false"),
    (2.0, "2.0"),
    (-0.5, "-0.5"),
    (10**30, "1" + "0" * 30),
    (Decimal("1.50"), "1.50"),
    (Decimal("1E+3"), "1000"),
    (DateTime.from_parts(2015, 7, 28, 9, 46, 0, 123450000), "2015-07-28T09:46:00.12345Z"),
    (DateTime.from_parts(2015, 7, 28), "2015-07-28T00:00:00Z"),
    (NI("foo:bar"), "foo:bar"),
    (URI("http://example.org/"), "http://example.org/"),
    (UUID("9f598f65-eea5-4906-a8f5-82f6d8e69726"), "9f598f65-eea5-4906-a8f5-82f6d8e69726"),
    (b"abc", "abc"),
    ("å".encode("utf-8"), "å"),
    (b"\xff\xfe", None),  # not UTF-8
    ({}, "{}"),
    ([[]], ["[]"]),
    ({"z": [None, True], "a": {"c": 1.5, "b": "x"}},
     '{"a": {"b": "x", "c": 1.5}, "z": [null, true]}'),
    ({"k": "å"}, '{"k": "\\u00e5"}'),
    ({"d": Decimal("1.10"), "t": DateTime.from_parts(2020, 1, 2), "n": NI("a:b"),
      "u": URI("x:y"), "b": b"abc"},
     '{"b": "YWJj", "d": 1.10, "n": "a:b", "t": "2020-01-02T00:00:00Z", "u": "x:y"}'),
])
def test_string_of_every_type(value, expected):
    assert ev(["string", "_S.v"], {"v": value}) == expected


def test_string_drops_nulls_in_lists():
    assert ev(["string", ["list", 1, None, "a"]]) == ["1", "a"]


# -- laws ---------------------------------------------------------------------------------------

texts = st.text(max_size=20)
text_lists = st.lists(st.one_of(texts, st.integers(), st.none()), max_size=6)


@settings(max_examples=200)
@given(text_lists)
def test_concat_and_join_agree(values):
    strs = [v for v in values if isinstance(v, str)]
    assert ev(["concat", "_S.v"], {"v": values}) == "".join(strs)
    assert ev(["join", "", "_S.v"], {"v": values}) == "".join(strs)
    assert ev(["join", "/", "_S.v"], {"v": values}) == "/".join(strs)


@settings(max_examples=200)
@given(texts, st.text(min_size=1, max_size=3))
def test_split_join_round_trip(s, sep):
    parts = ev(["split", "_S.sep", "_S.s"], {"s": s, "sep": sep})
    assert ev(["join", "_S.sep", "_S.p"], {"p": parts, "sep": sep}) == s


@settings(max_examples=200)
@given(text_lists)
def test_broadcasting_drops_non_strings(values):
    strs = [v for v in values if isinstance(v, str)]
    src = {"v": values}
    assert ev(["length", "_S.v"], src) == [len(s) for s in strs]
    assert ev(["upper", "_S.v"], src) == [s.upper() for s in strs]
    assert ev(["strip", "_S.v"], src) == [s.strip() for s in strs]


@settings(max_examples=200)
@given(texts, st.integers(min_value=0, max_value=30), st.characters(exclude_categories=["Cs"]))
def test_justify_width(s, width, fill):
    src = {"s": s, "w": width, "f": fill}
    left = ev(["ljust", "_S.w", "_S.f", "_S.s"], src)
    right = ev(["rjust", "_S.w", "_S.f", "_S.s"], src)
    assert len(left) == len(right) == max(width, len(s))
    assert left.startswith(s) and right.endswith(s)


@settings(max_examples=200)
@given(texts)
def test_matches_star_and_literal(s):
    assert ev(["matches", "*", "_S.s"], {"s": s}) is True
    plain = s.replace("*", "").replace("?", "")
    assert ev(["matches", "_S.p", "_S.s"], {"p": plain, "s": plain}) is True
