"""Bytes, URI, UUID and boolean functions: documented examples, edge cases and round trips."""

import base64
import string
import uuid as _uuid
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.values import URI, UUID, deep_equal




# -- booleans -----------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    (["boolean", "false"], False),
    (["boolean", "TrUe"], True),
    (["boolean", True], True),
    (["boolean", None], None),
    (["boolean", "yes"], None),
    (["boolean", 1], None),
    (["boolean", ["list", "true", "~rhttp://www.example.org/", "True", False, 1234]],
     [True, True, False]),
    (["boolean", ["boolean", False], ["list", "true", "~rhttp://www.example.org/", "124.4",
                                      "FALSE"]], [True, False, False, False]),
    (["boolean", ["string", "n/a"], ["list", "true", "~rhttp://www.example.org/", "124.4"]],
     [True, "n/a", "n/a"]),
    (["boolean", ["string", "_."], ["list", "true", "~rhttp://www.example.org/", "False"]],
     [True, "http://www.example.org/", False]),
    (["boolean", "dflt", "maybe"], "dflt"),
    (["boolean", "dflt", None], None),  # null is not converted, so not replaced either
    (["boolean", "dflt", ["list", None, "x"]], ["dflt"]),
    (["boolean", " true"], None),
    (["is-boolean", False], True),
    (["is-boolean", "True"], False),
    (["is-boolean", ["list", True, "12345"]], True),
    (["is-boolean", ["list", "12345", True]], False),
    (["is-boolean", ["list", ["boolean", "FALSE"], 1234]], True),
    (["is-boolean", ["list"]], False),
    (["is-boolean", 0], False),
])
def test_booleans(expr, expected):
    assert deep_equal(ev(expr), expected)


# -- bytes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    (["base64-decode", "YWJj"], b"abc"),
    (["base64-decode", ["list", 1, "YWJj", 2, "ZGVm", 3]], [b"abc", b"def"]),
    (["base64-decode", "YWI"], b"ab"),  # missing padding is tolerated
    (["base64-decode", "YWI="], b"ab"),
    (["base64-decode", "YWI=="], None),  # too much padding
    (["base64-decode", "-_8"], b"\xfb\xff"),  # URL-safe alphabet
    (["base64-decode", "not base64!"], None),
    (["base64-decode", "Y"], None),  # impossible length
    (["base64-decode", ""], b""),
    (["base64-decode", "~bYWJj"], None),  # already bytes: not a string
    (["base64-encode", ["bytes", "abc"]], "YWJj"),
    (["base64-encode", ["list", 1, ["bytes", "abc"], 2, ["bytes", "def"], 3]],
     ["YWJj", "ZGVm"]),
    (["base64-encode", "abc"], None),  # strings are not bytes
    (["base64-encode", "~b+/8="], "+/8="),
    (["bytes", "abc"], b"abc"),
    (["bytes", "å"], "å".encode("utf-8")),
    (["bytes", ["list", "a", 1, None, "~bYWJj"]], [b"a", b"abc"]),
    (["bytes", 12], None),
    (["bytes", None], None),
    (["is-bytes", ["bytes", "abc"]], True),
    (["is-bytes", "~bYWJj"], True),
    (["is-bytes", "some-string"], False),
    (["is-bytes", ["list", "~bYWJj", "12345"]], True),
    (["is-bytes", ["list", "12345", "~bYWJj"]], False),
    (["is-bytes", ["list"]], False),
])
def test_bytes(expr, expected):
    assert deep_equal(ev(expr), expected)


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_base64_round_trip(b):
    text = ev(["base64-encode", "_S.b"], {"b": b})
    assert text == base64.b64encode(b).decode("ascii")
    assert ev(["base64-decode", "_S.t"], {"t": text}) == b
    # unpadded and URL-safe spellings decode to the same bytes
    url = base64.urlsafe_b64encode(b).decode("ascii").rstrip("=")
    assert ev(["base64-decode", "_S.t"], {"t": url}) == b


@settings(max_examples=200)
@given(st.text(max_size=30).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)))
def test_bytes_string_round_trip(s):
    assert ev(["string", ["bytes", "_S.s"]], {"s": s}) == s


# -- URIs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    (["is-uri", ["uri", "foo:bar"]], True),
    (["is-uri", "foo:bar"], False),
    (["is-uri", ["list", ["uri", "foo:bar"], 12345]], True),
    (["is-uri", ["list", 1, ["uri", "foo:bar"]]], False),
    (["is-uri", "~rhttp://x/"], True),
    (["uri", "http://www.example.org/"], URI("http://www.example.org/")),
    (["uri", ["list", "http://www.example.org/", "http://www.sesam.io/", 12345]],
     [URI("http://www.example.org/"), URI("http://www.sesam.io/")]),
    (["uri", "a b"], URI("a b")),  # no escaping
    (["uri", "~rhttp://x/"], URI("http://x/")),
    (["uri", ""], None),
    (["uri", 1], None),
    (["url-quote", "/foo bar/baz"], "%2Ffoo%20bar%2Fbaz"),
    (["url-quote", "/", "/foo bar/baz"], "/foo%20bar/baz"),
    (["url-quote", ["list", "å", 1, 2, ["uri", "http://example.com"], "foo bar"]],
     ["%C3%A5", "foo%20bar"]),
    (["url-quote", "å/", "å/"], "%C3%A5/"),  # only ASCII safe characters count
    (["url-quote", "a-b_c.d~e"], "a-b_c.d~e"),
    (["url-quote", 5], None),
    (["url-unquote", "%2Ffoo%20bar%2Fbaz"], "/foo bar/baz"),
    (["url-unquote", ["list", 1, "%C3%A5", ["uri", "http://example.com"], "foo%20bar"]],
     ["å", "foo bar"]),
    (["url-unquote", "a+b"], "a+b"),
    (["url-unquote", None], None),
])
def test_uris(expr, expected):
    assert deep_equal(ev(expr), expected)


no_surrogates = st.text(max_size=30).filter(
    lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))
safe_chars = st.text(alphabet=string.printable.replace("%", ""), max_size=5)


@settings(max_examples=200)
@given(no_surrogates, safe_chars)
def test_url_quote_round_trip(s, safe):
    quoted = ev(["url-quote", "_S.safe", "_S.s"], {"s": s, "safe": safe})
    assert quoted == quote(s, safe=safe)
    assert all(c.isascii() for c in quoted)
    assert ev(["url-unquote", "_S.q"], {"q": quoted}) == s


@settings(max_examples=200)
@given(no_surrogates)
def test_url_quote_default_keeps_only_unreserved(s):
    quoted = ev(["url-quote", "_S.s"], {"s": s})
    allowed = set(string.ascii_letters + string.digits + "-_.~%")
    assert set(quoted) <= allowed


# -- UUIDs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    (["is-uuid", ["uuid"]], True),
    (["is-uuid", "~u9f598f65-eea5-4906-a8f5-82f6d8e69726"], True),
    (["is-uuid", "some-string"], False),
    (["is-uuid", ["list", ["uuid"], "12345"]], True),
    (["is-uuid", ["list", "12345", ["uuid"]]], False),
    (["is-uuid", "9f598f65-eea5-4906-a8f5-82f6d8e69726"], False),  # a plain string
    (["uuid", "abc98f65-ddf5-1234-a8f5-82f6d8e69726"],
     UUID("abc98f65-ddf5-1234-a8f5-82f6d8e69726")),
    (["uuid", ["list", "abc98f65-ddf5-1234-a8f5-82f6d8e601a8", 2,
               "9f598f65-eea5-4906-a8f5-82f6d8e69726"]],
     [UUID("abc98f65-ddf5-1234-a8f5-82f6d8e601a8"), UUID("9f598f65-eea5-4906-a8f5-82f6d8e69726")]),
    (["uuid", "ABC98F65DDF51234A8F582F6D8E69726"], UUID("abc98f65-ddf5-1234-a8f5-82f6d8e69726")),
    (["uuid", "~u9f598f65-eea5-4906-a8f5-82f6d8e69726"],
     UUID("9f598f65-eea5-4906-a8f5-82f6d8e69726")),
    (["uuid", "not-a-uuid"], None),
    (["uuid", None], None),
])
def test_uuids(expr, expected):
    assert deep_equal(ev(expr), expected)


def test_uuid_without_arguments_is_fresh_version_4():
    expr = dtl.compile_expression(["uuid"])
    a, b = expr({}), expr({})
    assert isinstance(a, _uuid.UUID) and a.version == 4
    assert a != b  # not folded at compile time


@settings(max_examples=200)
@given(st.uuids())
def test_uuid_string_round_trip(u):
    assert ev(["uuid", ["string", "_S.u"]], {"u": u}) == u
