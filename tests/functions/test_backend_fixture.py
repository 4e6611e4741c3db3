"""The `dtl_backend` fixture really changes where `ev` runs: on "vector" through the batch
path (a VectorStage runs the rule), elsewhere never."""

from tests.functions.backends import ev


def test_ev_runs_on_the_fixture_backend(dtl_backend, monkeypatch):
    from dtl.backends.vector.runner import VectorStage
    batches = []
    real = VectorStage.rows
    monkeypatch.setattr(VectorStage, "rows",
                        lambda self, *a, **k: batches.append(1) or real(self, *a, **k))
    assert ev(["upper", "_S.n"], {"n": "ab"}) == "AB"
    assert ev(["concat", "_S.n", "!"], {"n": "x"}) == "x!"
    assert bool(batches) == (dtl_backend == "vector")
