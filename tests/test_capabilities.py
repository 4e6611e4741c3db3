"""Every backend covers what it claims, and agrees with the registry's implementation.

- the vector analysis' kernel names (kept light: the plan reads them at load time, without
  pyarrow) are exactly the kernels the vector compiler has, and the differential tests draw
  every kernel;
- every expression function the generated-source backend runs itself ("inline" templates and
  direct "call"s, `dtl functions` lists them) gives the closure backend's value or error,
  on drawn values of mixed types;
- every expression the vector analysis says vectorizes (kernels and per-row registry calls)
  gives, through a batch, the closure backend's values.
"""

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


def test_analysis_kernel_names_are_the_compilers_kernels():
    from dtl.backends.vector.compiler import KERNELS, VectorCompiler
    # if / if-null are special forms the vector compiler writes itself (VectorCompiler.if_)
    assert analysis.KERNELS == frozenset(KERNELS) | {"if", "if-null"}
    assert hasattr(VectorCompiler, "if_") and hasattr(VectorCompiler, "if_null")


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
