"""Runs conformance cases (the format of shared/conformance/README.md) and compares results."""

from __future__ import annotations

import json
import math
import signal
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from dtl import transit
from dtl.api import compile as compile_rules, compile_expression
from dtl.errors import DTLError
from dtl.provider import InMemoryProvider
from dtl.values import NI, URI, UUID, DateTime, type_name


@dataclass
class CaseResult:
    id: str
    category: str
    passed: bool
    got: object  # transit-encoded JSON result, or None
    error: str | None
    expected: object = None


def load_cases(path: str) -> list[dict]:
    cases = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                cases.append(json.loads(line))
    return cases


def _num(v) -> bool:
    return type(v) in (int, float, Decimal)


def values_equal(expected, got, *, want_decimal_check: bool = True) -> bool:
    """Structural comparison per the corpus rules (numbers by value, instants, NIs...)."""
    te, tg = type(expected), type(got)
    if te is bool or tg is bool:
        return te is tg and expected == got
    if _num(expected) and _num(got):
        if want_decimal_check and te is Decimal and tg is not Decimal:
            return False
        if te is int and tg is int:
            return expected == got
        a, b = float(expected), float(got)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if a == b:
            return True
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    if te is list and tg is list:
        return len(expected) == len(got) and all(values_equal(x, y) for x, y in zip(expected, got))
    if te is dict and tg is dict:
        return expected.keys() == got.keys() and all(values_equal(expected[k], got[k])
                                                      for k in expected)
    if te is UUID and tg is UUID:
        return expected == got
    if te in (DateTime, NI, URI, str, bytes, type(None)):
        return te is tg and expected == got
    return expected == got


def _unordered_equal(expected: list, got) -> bool:
    if type(got) is not list or len(got) != len(expected):
        return False
    remaining = list(got)
    for e in expected:
        for i, g in enumerate(remaining):
            if values_equal(e, g):
                del remaining[i]
                break
        else:
            return False
    return True


class _Timeout(Exception):
    pass


def run_case(case: dict, timeout: float = 30.0, backend: str = "auto") -> CaseResult:
    cid = case["id"]
    category = cid.split("/", 1)[0]
    got, error = None, None
    try:
        value = _evaluate(case, timeout, backend)
        got = json.loads(transit.dumps(value))
    except DTLError as e:
        error = str(e)
    except _Timeout:
        error = f"timed out after {timeout}s"
    except Exception as e:  # a bug in us, reported as a failure rather than a crash
        error = f"internal error: {type(e).__name__}: {e}"
    passed = _judge(case, got, error)
    return CaseResult(cid, category, passed, got, error, case.get("expected"))


def _evaluate(case, timeout, backend):
    datasets = {k: transit.decode(v) for k, v in (case.get("datasets") or {}).items()}
    provider = InMemoryProvider(datasets)
    options = case.get("options")
    source = transit.decode(case.get("source") or {})
    if case["kind"] == "expression":
        run = expression_runner(case["expr"], backend, options=options, provider=provider)
        return _with_timeout(lambda: run(source), timeout)
    rules = case["rules"]
    t = compile_rules({"type": "dtl", "rules": rules}, options=options, provider=provider,
                      backend="vector" if backend == "vector" else backend)
    if backend == "vector":  # through the batch path, so columnar rules really run columnar
        return _with_timeout(lambda: t.apply_batch([source]), timeout)
    return _with_timeout(lambda: t.apply(source), timeout)


# How the tests run one expression on each backend (see expression_runner)
EXPRESSION_BACKENDS = ("closure", "generated", "vector")


def expression_runner(expr, backend: str = "closure", *, options=None, provider=None,
                      datasets=None, rules=None, services=None):
    """`run(source) -> value` of one DTL expression on a backend: "closure" is
    dtl.compile_expression; "generated" (or "auto") the value of ``["add", "v", expr]`` in a
    transform run on one entity (the generated-source backend); "vector" the same transform
    run over a batch of entities (column kernels where the expression has them). `rules`
    are more named rules, as for compile_expression."""
    if backend == "closure":
        fn = compile_expression(expr, options=options, provider=provider, datasets=datasets,
                                rules=rules, services=services)
        return lambda source=None: fn(source if source is not None else {})
    doc = _add_rule(expr, rules)
    t = compile_rules(doc, options=options, provider=provider, datasets=datasets,
                      services=services, backend="vector" if backend == "vector" else "auto")

    def run(source=None):
        source = source if source is not None else {}
        out = t.apply_batch([source]) if backend == "vector" else t.apply(source)
        (value,) = out[0].values()  # "v", or its namespaced name
        return value
    return run


def _add_rule(expr, rules):
    """``{"default": [["add", "v", expr]], **rules}``, as JSON text where expr is JSON text
    (so numbers are read as compile_expression reads them)."""
    if isinstance(expr, str):
        from dtl.api import _looks_like_json
        text = expr.strip() if _looks_like_json(expr) else json.dumps(expr)  # e.g. _S.name
        more = "".join(f", {json.dumps(k)}: {json.dumps(v)}" for k, v in (rules or {}).items())
        return '{"default": [["add", "v", ' + text + ']]' + more + '}'
    return {"default": [["add", "v", expr]], **(rules or {})}


def _with_timeout(fn, timeout):
    if threading.current_thread() is not threading.main_thread():
        return fn()

    def handler(signum, frame):
        raise _Timeout()
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _judge(case, got, error) -> bool:
    if case.get("expected_error"):
        return error is not None
    if error is not None:
        return False
    value = transit.decode(got)
    if "expected_type" in case:
        return type_name(value) == case["expected_type"]
    expected = transit.decode(case["expected"])
    if case.get("unordered"):
        return _unordered_equal(expected, value)
    return values_equal(expected, value)


def run_all(cases: list[dict], progress=None, backend: str = "auto") -> list[CaseResult]:
    out = []
    for c in cases:
        out.append(run_case(c, backend=backend))
        if progress:
            progress(out[-1])
    return out


def summarize(results: list[CaseResult]) -> dict:
    per = defaultdict(Counter)
    for r in results:
        per[r.category]["total"] += 1
        per[r.category]["passed"] += r.passed
    total = len(results)
    passed = sum(r.passed for r in results)
    return {"total": total, "passed": passed,
            "rate": (passed / total) if total else 0.0,
            "categories": {k: dict(v) for k, v in sorted(per.items())}}


def report(results: list[CaseResult]) -> dict:
    return {"summary": summarize(results),
            "cases": [{"id": r.id, "got": r.got, "error": r.error, "passed": r.passed}
                      for r in results]}
