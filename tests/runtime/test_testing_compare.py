"""Verify/update comparison rules of the offline test runner (test-runner.md §6, §7)."""

import json

import pytest

from runtime.testing.diff import unified
from runtime.testing.spec import SpecError, parse_spec
from runtime.testing.update import expected_json
from runtime.testing.verify import (Options, SortError, blacklisted, compare_bytes, compare_json,
                                    compare_xml, filter_entity, fix_numbers, sort_entities)


def spec(obj=None, name="people"):
    s, _ = parse_spec(json.dumps(obj or {}), f"expected/{name}.test.json")
    return s


# -- filtering --------------------------------------------------------------------------------
def test_internal_keys_dropped_at_every_depth_except_id_and_true_deleted():
    e = {"_id": "a", "_updated": 3, "_deleted": False, "x": {"_id": "in", "_ts": 1, "y": 2},
         "l": [{"_hash": "h", "z": 1}]}
    assert filter_entity(e, []) == {"_id": "a", "x": {"_id": "in", "y": 2}, "l": [{"z": 1}]}
    assert filter_entity({"_id": "a", "_deleted": True}, []) == {"_id": "a", "_deleted": True}


@pytest.mark.parametrize("path,pattern,hit", [
    (["foo"], "foo", True),
    (["foo", "bar"], "foo.bar", True),
    (["foos", "A", "bar"], "foos.*.bar", True),
    (["foos", "A", "bar"], "foos[].bar", True),
    (["a", "b", "c"], "a*", True),            # "*" crosses dots, as fnmatch does
    (["ns1:bar"], "ns1:bar", True),
    (["Foo"], "foo", False),                  # case-sensitive on every platform
    (["foo.bar"], "foo\\.bar", True),         # ours: an escaped dot names a dotted key
    (["foo", "bar"], "foo\\.bar", False),
])
def test_blacklist_patterns(path, pattern, hit):
    assert blacklisted(path, [pattern]) is hit


def test_blacklist_applies_inside_lists_with_parent_path_and_before_underscore_rule():
    e = {"_id": "1", "items": [{"ts": 1, "v": 2}, {"ts": 3}], "ts": 9}
    assert filter_entity(e, ["items.ts"]) == {"_id": "1", "items": [{"v": 2}, {}], "ts": 9}
    assert filter_entity(e, ["_id"]) == {"items": [{"ts": 1, "v": 2}, {"ts": 3}], "ts": 9}


# -- numbers ------------------------------------------------------------------------------------
def test_fix_numbers():
    assert fix_numbers({"a": 1.0, "b": [2.5, 3.0], "c": 1e16}) == {"a": 1, "b": [2.5, 3], "c": 1e16}
    big = 12345678901234567
    assert fix_numbers(big) == 12345678901234568
    assert fix_numbers(big, large_int_bugs=False) == big
    assert fix_numbers(9007199254740991) == 9007199254740991
    assert fix_numbers(True) is True


def test_sort_by_fields_then_whole_entity():
    es = [{"_id": "b", "k": {"z": 1}}, {"_id": "a", "k": {"y": 1}}, {"_id": "a", "k": {"a": 0}}]
    assert [e["k"] for e in sort_entities(es, ["_id"])] == [{"a": 0}, {"y": 1}, {"z": 1}]
    assert [e["_id"] for e in sort_entities(es, ["k"])] == ["a", "a", "b"]
    with pytest.raises(SortError):
        sort_entities([{"_id": "a", "n": 1}, {"_id": "b", "n": "x"}], ["n"])


# -- verify -------------------------------------------------------------------------------------
def test_compare_passes_after_filtering_normalising_and_sorting():
    s = spec({"blacklist": ["stamp"]})
    expected = [{"_id": "2", "n": 2}, {"_id": "1", "n": 1}]
    current = [{"_id": "1", "n": 1.0, "_updated": 5, "stamp": "now"}, {"_id": "2", "n": 2}]
    assert compare_json(s, expected, current, Options()).passed


def test_unexpected_deletes_are_ignored_but_expected_deletes_compared():
    s = spec()
    current = [{"_id": "1"}, {"_id": "2", "_deleted": True}]
    assert compare_json(s, [{"_id": "1"}], current, Options()).passed
    out = compare_json(spec({"ignore_deletes": False}), [{"_id": "1"}], current, Options())
    assert (out.passed, out.kind) == (False, "length")
    assert "expected 1 got 2" in out.message
    both = [{"_id": "1"}, {"_id": "2", "_deleted": True}]
    assert compare_json(s, both, current, Options()).passed


def test_content_mismatch_has_a_labelled_unified_diff():
    out = compare_json(spec(), [{"_id": "1", "name": "Ann"}], [{"_id": "1", "name": "Bob"}],
                       Options())
    assert out.kind == "content"
    assert out.message == "Pipe verify failed! Content mismatch for test spec " \
                          "'expected/people.json'"
    assert out.diff.startswith("--- expected/people.json\n+++ current-output.json\n")
    assert '-    "name": "Ann"\n+    "name": "Bob"\n' in out.diff


def test_expected_file_is_used_as_stored():
    # expected 1.0 is not normalised, so it never equals an int in the current output
    assert not compare_json(spec(), [{"_id": "1", "n": 1.0}], [{"_id": "1", "n": 1}],
                            Options()).passed


def test_bytes_and_xml():
    s = spec({"endpoint": "csv", "file": "people.csv"})
    assert compare_bytes(s, b"a\r\n", b"a\r\n").passed
    out = compare_bytes(s, b"_id\r\nx\r\n", b"_id\r\ny\r\n")
    assert not out.passed and "-x\r\n+y\r\n" in out.diff
    x = spec({"endpoint": "xml", "file": "people.xml"})
    assert compare_xml(x, b"<a><b>1</b></a>", b"<a>\n  <b>1</b>\n</a>").passed
    assert not compare_xml(x, b"<a><b>1</b></a>", b"<a><b>2</b></a>").passed
    assert not compare_xml(x, b"<a", b"<b").passed


def test_diff_splits_only_on_newlines():
    assert unified("a\u2028b\n", "a\u2028c\n", "x", "y") == \
        "--- x\n+++ y\n@@ -1 +1 @@\n-a\u2028b\n+a\u2028c\n"


# -- update -------------------------------------------------------------------------------------
def test_update_bytes_escape_html_and_drop_all_deletes():
    current = [{"_id": "b", "t": "<x & y>", "_deleted": False},
               {"_id": "a", "ø": 1.0}, {"_id": "c", "_deleted": True}]
    data = expected_json(spec(), current, Options())
    assert data == ('[\n  {\n    "_id": "a",\n    "ø": 1\n  },\n  {\n    "_id": "b",\n'
                    '    "t": "\\u003cx \\u0026 y\\u003e"\n  }\n]\n').encode()
    raw = expected_json(spec({"ignore_deletes": False}), current,
                        Options(html_escape=False, unicode_encoding=True))
    assert b'"\\u00f8": 1' in raw and b"<x & y>" in raw and b'"_deleted": true' in raw
    assert expected_json(spec(), [], Options()) == b"[]\n"


# -- spec parsing ---------------------------------------------------------------------------------
def test_spec_defaults():
    s = spec(name="foo")
    assert (s.id, s.pipe, s.file, s.endpoint, s.stage, s.ignore, s.ignore_deletes) == \
        ("foo", "foo", "expected/foo.json", "json", None, False, True)
    s = spec({"file": "expected/sub/x.csv", "pipe": "p", "_id": "t", "ignore": "yes"})
    assert (s.file, s.pipe, s.id, s.ignore) == ("expected/sub/x.csv", "p", "t", False)


def test_spec_errors_are_positioned():
    with pytest.raises(SpecError) as e:
        parse_spec('{\n  "pipe": 3,\n  "stage": "sinks"\n}', "expected/x.test.json")
    msgs = [(str(d.span), d.message) for d in e.value.diagnostics]
    assert ("expected/x.test.json:2:11", "'pipe' must be a string") in msgs
    assert any(m == "unknown stage 'sinks'" for _, m in msgs)
    with pytest.raises(SpecError, match="must be a JSON object"):
        parse_spec("[]", "expected/x.test.json")
    with pytest.raises(SpecError):
        parse_spec("{", "expected/x.test.json")
    _, warnings = parse_spec('{"blacklst": []}', "expected/x.test.json")
    assert warnings[0].hint == "did you mean 'blacklist'?"
    s, _ = parse_spec('\ufeff{"ignore": true}', "expected/x.test.json")
    assert s.ignore


# -- portal JSON layout (what convert/init write) ---------------------------------------------
def test_portal_json_layout():
    from runtime.testing.portal_json import dumps
    assert dumps([]) == "[]\n" and dumps({}) == "{}\n"
    assert dumps({"z": 1, "_ts": 2, "type": "pipe", "_id": "p", "$audit": 0, "a": [1, 2]}) == \
        '{\n  "_id": "p",\n  "type": "pipe",\n  "a": [1, 2],\n  "z": 1,\n  "$audit": 0,\n' \
        '  "_ts": 2\n}\n'
    assert dumps([{"_id": "a", "o": {"k": {}}}, {"_id": "b"}]) == \
        '[{\n  "_id": "a",\n  "o": {\n    "k": {}\n  }\n}, {\n  "_id": "b"\n}]\n'
    assert dumps({"rules": [["copy", "_id"], ["add", "n", ["upper", "_S.x"]]]}) == \
        '{\n  "rules": [\n    ["copy", "_id"],\n    ["add", "n",\n' \
        '      ["upper", "_S.x"]\n    ]\n  ]\n}\n'
    assert dumps([[], 1, [[2]]]) == '[\n  [], 1,\n  [\n    [2]\n  ]\n]\n'
    assert dumps({"s": "ø\"\n"}) == '{\n  "s": "ø\\"\\n"\n}\n'


# -- update then verify always passes -----------------------------------------------------------
from hypothesis import given, strategies as st  # noqa: E402

_keys = st.sampled_from(["_id", "a", "b", "_ts", "_deleted", "x.y", "<&>", "ø"])
_leaf = st.none() | st.booleans() | st.integers() | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=4)
_value = st.recursive(_leaf, lambda c: st.lists(c, max_size=3) |
                      st.dictionaries(_keys, c, max_size=3), max_leaves=12)
_entity = st.builds(lambda i, body, deleted: {**body, "_id": str(i), "_deleted": deleted},
                    st.integers(0, 5), st.dictionaries(_keys, _value, max_size=4), st.booleans())


@given(st.lists(_entity, max_size=6), st.booleans(), st.booleans(), st.booleans(),
       st.sampled_from([[], ["a"], ["b.*"], ["_id"]]))
def test_update_then_verify_passes(current, ignore_deletes, unicode, escape, blacklist):
    s = spec({"ignore_deletes": ignore_deletes, "blacklist": blacklist,
              "fields_to_sort_by": ["_deleted"]})
    opts = Options(unicode_encoding=unicode, html_escape=escape)
    try:
        written = expected_json(s, current, opts)
    except SortError:
        return
    assert compare_json(s, json.loads(written), current, opts).passed
