"""The function registry: complete, consistent, and the single source of the reference."""

from pathlib import Path

import pytest

import dtl  # noqa: F401
from dtl.functions.reference import markdown
from dtl.functions.registry import REGISTRY, Signature

ROOT = Path(__file__).parent.parent


def test_no_function_is_registered_but_unimplemented():
    missing = [s.name for s in REGISTRY.specs() if not s.implemented]
    assert missing == []


def test_every_function_has_a_summary_and_category():
    for s in REGISTRY.specs():
        assert s.summary and s.summary.endswith("."), s.name
        assert s.category and s.doc.startswith("hub/dtl/"), s.name


def test_generated_reference_is_up_to_date():
    assert (ROOT / "docs" / "functions.md").read_text() == markdown() + "\n", \
        "run: dtl functions --format markdown > docs/functions.md"


@pytest.mark.parametrize("text,n,names", [
    ("A(value-expression{1})", 1, ["A"]),
    ("F(function-expression{0|1}), V(value-expression{1})", 1, ["V"]),
    ("F(function-expression{0|1}), V(value-expression{1})", 2, ["F", "V"]),
    ("V(value-expression{>=0})", 3, ["V", "V", "V"]),
    ("(C(boolean-expression{1}), T(value-expression{1}))+, E(value-expression{0|1})", 5,
     ["C", "T", "C", "T", "E"]),
    ("(C(boolean-expression{1}), T(value-expression{1}))+, E(value-expression{0|1})", 4,
     ["C", "T", "C", "T"]),
])
def test_signature_matching(text, n, names):
    assert [p.name for p in Signature.parse(text).match(n)] == names


def test_signature_arity():
    sig = Signature.parse("(C(boolean-expression{1}), T(value-expression{1}))+, "
                          "E(value-expression{0|1})")
    assert sig.arity == (2, None)
    assert sig.match(1) is None
    assert Signature.parse("A(string{1}), B(string{0|1})").arity == (1, 2)


def test_unknown_kind_is_rejected():
    with pytest.raises(Exception):
        Signature.parse("A(banana{1})")
