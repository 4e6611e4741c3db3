"""With namespaced identifiers on, `_S.x` is `["path", "x", "_S."]`, and `path` is namespace
aware (hub/dtl/namespaces.rst): an unqualified element matches that identifier in every
namespace, `ns:x` only that one, `::x` the key as written. Same on every backend."""

import pytest

import dtl

OPTS = {"namespaced_identifiers": True, "namespaces": {"identity": "p", "property": "p"}}
RULES = {"default": [["add", "k", ["list", "_S.x", "_S.p:x", "_S.::plain", "_S.q:x",
                                   ["string", "_S.n"], "_S.sub.y"]]]}
SOURCE = {"_id": "p:1", "p:x": 1, "q:x": 2, "plain": 3, "p:n": 7, "p:sub": {"o:y": "deep"}}


@pytest.mark.parametrize("backend", ["closure", "auto", "vector"])
def test_shorthand_paths_are_namespace_aware(backend):
    t = dtl.compile(RULES, options=OPTS, backend=backend)
    expected = [[1, 2], 1, 3, 2, "7", "deep"]
    assert t.apply(dict(SOURCE))[0]["p:k"] == expected
    # and through a batch (the vector backend's columnar path)
    assert [o[0]["p:k"] for o in t.apply_each([dict(SOURCE), dict(SOURCE)])] == [expected] * 2


def test_without_namespaced_identifiers_paths_read_keys_as_written():
    t = dtl.compile(RULES)
    assert t.apply(dict(SOURCE))[0]["k"] == [None, 1, None, 2, None, None]
