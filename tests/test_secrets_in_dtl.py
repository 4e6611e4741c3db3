"""$SECRET(name) in DTL keys: resolved through the secrets service, never kept in the IR."""

import pytest

import dtl
from dtl.ir.explain import render_text


def test_encrypt_decrypt_with_secret_references():
    secrets = {"k": "correct horse battery staple"}
    expr = ["decrypt", "$SECRET(k)", ["encrypt", "$SECRET(k)", ["list", "a", "b"]]]
    e = dtl.compile_expression(expr, services={"secrets": secrets.get})
    assert e({}) == ["a", "b"]
    # the same ciphertext is readable with the literal key: the reference really resolved
    enc = dtl.compile_expression(["encrypt", "$SECRET(k)", "x"],
                                 services={"secrets": secrets.get})({})
    assert dtl.evaluate(["decrypt", secrets["k"], "_S.v"], {"v": enc}) == "x"


def test_undefined_secret_is_a_clear_error_without_values():
    e = dtl.compile_expression(["encrypt", "$SECRET(nope)", "x"], services={"secrets": {}.get})
    with pytest.raises(dtl.DTLRuntimeError, match="secret 'nope' is not defined"):
        e({})


def test_secret_values_never_reach_explain():
    t = dtl.compile({"default": [["add", "x", ["encrypt", "$SECRET(k)", "_S.v"]]]},
                    services={"secrets": {"k": "s3cr3t-value"}.get})
    assert "s3cr3t-value" not in render_text(t.plan)
    assert "$SECRET(k)" in render_text(t.plan)
