"""Every backend covers what it claims, and agrees with the registry's implementation.

The registry declares per function what each backend has code of its own for
(`FunctionSpec.native`, `FunctionSpec.backends`); the backends read that, and these tests
hold the claims to the backends' own code:

- the functions claiming vector code are exactly the vector compiler's kernels (and its
  special forms), and the differential tests draw every kernel;
- every transform claiming generated or vector code is written by that backend (no closure
  for it in the generated source; a columnar stage) with the closure's results;
- an expression function claims generated code exactly when the generated source writes it
  (an inline template or a call of the impl) instead of calling a closure;
- every expression function the generated-source backend runs itself gives the closure
  backend's value or error, on drawn values of mixed types;
- every expression the vector analysis says vectorizes (kernels and per-row registry calls)
  gives, through a batch, the closure backend's values."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dtl
from dtl.backends.pysource.compiler import handles
from dtl.backends.vector import analysis
from dtl.errors import DTLError
from dtl.functions.registry import REGISTRY
from dtl.ir.lower import lower_expression
from dtl.syntax.jsontree import from_python
from dtl.transit import dumps
from tests.vector.strategies import scalar

pytestmark = pytest.mark.usefixtures("strict_batches")

value = st.one_of(scalar, st.lists(scalar, max_size=3))
source = st.fixed_dictionaries({}, optional={"a": value, "b": value, "c": value})


def _call(spec) -> list:
    lo, hi = spec.signature.arity
    n = max(lo, 1) if hi is None or hi >= 1 else 0
    return [spec.name, *["_S.a", "_S.b", "_S.c"][:min(n, 3)]]


def _generated_specs():
    return [s for s in REGISTRY.specs() if s.kind == "expression" and s.pure
            and handles(s) is not None and s.signature.arity[0] <= 3]


def _vector_specs():
    out = []
    for s in REGISTRY.specs():
        if s.kind != "expression" or not s.pure or s.signature.arity[0] > 3:
            continue
        try:
            node = lower_expression(from_python(_call(s)))
        except DTLError:
            continue
        if analysis.expr_reason(node) is None:
            out.append(s)
    return out


def _huge(v) -> bool:
    """An integer past 64 bits somewhere in `v` (["^", 9, 99999] draws them): not compared,
    since encoding one of thousands of digits fails or takes the process down."""
    if type(v) is int:
        return v.bit_length() > 63
    if isinstance(v, (list, tuple)):
        return any(_huge(x) for x in v)
    if isinstance(v, dict):
        return any(_huge(x) for x in v.values())
    return False


def _outcome(fn):
    try:
        v = fn()
    except DTLError:
        return "error", None
    if _huge(v):
        return "error", None
    return "ok", dumps(v)


def _names(kind, backend) -> set:
    """The functions of `kind` the registry says `backend` has code of its own for."""
    return {n for s in REGISTRY.specs() if s.kind == kind and backend in s.native
            for n in (s.name, *s.aliases)}


def test_vector_claims_are_the_compilers_kernels():
    from dtl.backends.vector.compiler import KERNELS, VectorCompiler
    from dtl.ir.sugar import REWRITTEN
    # if / if-null are special forms the vector compiler writes itself (VectorCompiler.if_);
    # a form the plan rewrites (case) runs as its core form
    assert _names("expression", "vector") - REWRITTEN == set(KERNELS) | {"if", "if-null"}
    assert hasattr(VectorCompiler, "if_") and hasattr(VectorCompiler, "if_null")


# a common literal form of each transform the registry says runs as code of its own
FORMS = {"add": ["add", "x", "_S.a"], "default": ["default", "x", "_S.a"],
         "copy": ["copy", "a"], "remove": ["remove", "b"], "comment": ["comment", "c"],
         "filter": ["filter", ["eq", "_S.a", 1]], "discard": ["discard", ["eq", "_S.a", 1]],
         "if": ["if", ["eq", "_S.a", 1], ["add", "y", 2]],
         "case": ["case", ["eq", "_S.a", 1], ["add", "y", 2], ["eq", "_S.a", 2], ["add", "y", 3]]}


def test_every_claimed_transform_has_a_form():
    assert _names("transform", "vector") | _names("transform", "generated") == set(FORMS)


@pytest.mark.parametrize("name", sorted(FORMS))
def test_claimed_transforms_run_as_their_backends_code(name):
    """A transform the registry says a backend writes is written by it (the generated
    source without a closure for it; a columnar vector stage), with the closure's results."""
    from dtl.plan import build
    spec = REGISTRY.get(name, "transform")
    doc = {"default": [["copy", "_id"], ["add", "b", "_S.b"], FORMS[name]]}
    labels = build(doc).labels(0)["default"]
    assert (labels[2] == "pysource") == ("generated" in spec.backends), labels
    vec = dtl.compile(doc, backend="vector")
    assert (vec.vector[0].run is not None) == ("vector" in spec.backends)
    ents = [{"_id": str(i), "a": a, "b": 1} for i, a in enumerate([1, 2, None, "x"])]
    ref = dtl.compile(doc, backend="closure", mark_filtered=True)
    want = [r for e in ents for r in ref.apply(e)]
    assert dtl.compile(doc, backend="vector", mark_filtered=True).apply_batch(ents) == want
    assert [r for e in ents for r in dtl.compile(doc, mark_filtered=True).apply(e)] == want


def test_generated_claims_are_what_the_generated_source_writes():
    """Every expression function: the registry claims "generated" exactly when the
    generated-source compiler writes it (an inline template or a call of the impl) rather
    than calling a closure for it."""
    from dtl.plan import build
    wrong = []
    for spec in REGISTRY.specs():
        if spec.kind != "expression" or not spec.implemented:
            continue
        try:
            labels = build({"default": [["add", "v", _call(spec)]]}).labels(0)["default"]
        except DTLError:
            continue  # no call of three paths fits its signature
        by_closure = spec.name in labels[0].partition("closure for ")[2].split(", ")
        if by_closure == ("generated" in spec.backends):
            wrong.append((spec.name, labels[0]))
    assert wrong == []


def test_differential_strategies_draw_every_kernel():
    from dtl.backends.vector.compiler import KERNELS
    from tests.vector.strategies import ONE, TWO
    assert set(KERNELS) <= set(ONE) | set(TWO), sorted(set(KERNELS) - set(ONE) - set(TWO))


def test_every_backend_claims_something():
    gen, vec = _generated_specs(), _vector_specs()
    assert len(gen) > 80 and len(vec) > 60
    assert {"upper", "concat", "eq", "plus"} <= {s.name for s in gen} & {s.name for s in vec}


@pytest.mark.parametrize("spec", _generated_specs(), ids=lambda s: s.name)
def test_generated_source_agrees_with_the_implementation(spec):
    expr = _call(spec)
    doc = {"default": [["add", "v", expr]]}
    try:
        gen = dtl.compile(doc, backend="auto")
        ref = dtl.compile_expression(expr)
    except DTLError:
        return  # a compile error is the same for every backend (the plan's checks)
    assert gen.stages[0][2] is not None

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True,
              database=None)
    @given(source)
    def agree(src):
        want = _outcome(lambda: ref(src))
        got = _outcome(lambda: gen.apply(src)[0]["v"])
        assert got == want, (expr, src)
    agree()


@pytest.mark.parametrize("spec", _vector_specs(), ids=lambda s: s.name)
def test_vector_agrees_with_the_implementation(spec):
    expr = _call(spec)
    doc = {"default": [["copy", "_id"], ["add", "v", expr]]}
    try:
        vec = dtl.compile(doc, backend="vector")
        ref = dtl.compile(doc, backend="closure")
    except DTLError:
        return
    assert vec.vector[0].run is not None, expr

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True,
              database=None)
    @given(st.lists(source, min_size=1, max_size=6))
    def agree(srcs):
        ents = [{"_id": str(i), **s} for i, s in enumerate(srcs)]
        want = [_outcome(lambda e=e: ref.apply(e)) for e in ents]
        if any(k == "error" for k, _ in want):
            return  # a failing entity reruns the batch per entity: tested in tests/vector
        got = [dumps(r) for r in vec.apply_batch(ents)]
        assert got == [dumps(r) for e in ents for r in ref.apply(e)], (expr, ents)
    agree()
