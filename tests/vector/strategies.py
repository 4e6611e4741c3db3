"""Hypothesis strategies shared by the backend-agreement tests: entities with nulls, missing
properties, mixed types and lists (each property with one "home" type, so that typed Arrow
columns occur), and expressions built from the functions the vector backend has kernels for."""

from hypothesis import strategies as st

PROPS = ["a", "b", "c", "d"]
scalar = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                   st.integers(-100, 100),
                   st.floats(allow_nan=False, allow_infinity=False, width=64),
                   st.sampled_from([0.125, 2.675, 1.005, -0.0, 1e300, 12.345]),
                   st.text("aBß@~ -é", max_size=6))
value = st.one_of(scalar, st.lists(scalar, max_size=3),
                  st.lists(st.fixed_dictionaries({"x": scalar}), max_size=3))


@st.composite
def entities(draw, deleted=False):
    """1-12 entities; with `deleted`, some carry `_deleted: true`."""
    homes = {p: draw(st.sampled_from([st.integers(-50, 50), st.floats(-1e6, 1e6),
                                      st.text("abc@Z", max_size=4), st.booleans(), value]))
             for p in PROPS}
    n = draw(st.integers(1, 12))
    out = []
    for i in range(n):
        e = {"_id": str(i)}
        for p in PROPS:
            k = draw(st.integers(0, 9))
            if k == 0:
                continue  # missing
            e[p] = None if k == 1 else draw(value) if k == 2 else draw(homes[p])
        if deleted and draw(st.integers(0, 5)) == 0:
            e["_deleted"] = True
        out.append(e)
    return out


leaf = st.one_of(st.sampled_from([f"_S.{p}" for p in PROPS] + ["_S.a.x", "_S.b.x", "_T.o"]),
                 st.integers(-3, 3), st.sampled_from([1.5, 0.0, "@", "z", None, True, "é",
                                                      "-é", ["list"]]))


# the functions drawn with one and with two arguments (tests/test_capabilities.py checks that
# every vector kernel is among them), besides if, round with digits, first-of-split, concat
ONE = ("upper", "lower", "first", "is-null", "is-not-null", "count", "sum",
       "sorted-descending", "string", "length")
TWO = ("plus", "minus", "multiply", "+", "-", "*", "eq", "neq", "gt", "gte", "lt", "lte",
       "split", "if-null", "concat", "round")


def call(children):
    one = st.sampled_from(ONE)
    two = st.sampled_from(TWO)
    return st.one_of(
        st.tuples(one, children).map(lambda t: [t[0], t[1]]),
        st.tuples(two, children, children).map(lambda t: [t[0], t[1], t[2]]),
        st.tuples(st.sampled_from([1, 2, 3]), children).map(lambda t: ["round", t[0], t[1]]),
        st.tuples(children, children, children).map(lambda t: ["if", *t]),
        # the fused shape ["first", ["split", SEP, X]] and concat with several parts
        st.tuples(st.sampled_from(["@", "é", "ab", " "]), children).map(
            lambda t: ["first", ["split", t[0], t[1]]]),
        st.lists(children, min_size=3, max_size=4).map(lambda xs: ["concat", *xs]))


expressions = st.recursive(leaf, call, max_leaves=6)
