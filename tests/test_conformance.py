"""The documentation's DTL examples (the project's copy in tests/conformance) as a regression
test.

Every case must pass on every backend (expressions: closures, generated source, and vector
through the batch path), except those listed in KNOWN_FAILURES, each of which
docs/conformance.md explains.
"""

import pytest

from dtl.conformance import load_cases, run_case
from tests.corpus import CORPUS, CORPUS_DIR, shared_corpus_dir

# a constructed source whose expected result a real node contradicts (docs/conformance.md)
KNOWN_FAILURES = {"transforms/make-ni/3"}
OUR_ANSWERS = {"transforms/make-ni/3": [{"players-ni": ["~:hockey:1", "~:hockey:2"]}]}
SLOW = {"transforms/sleep!/1"}  # really sleeps 10 s; run once, on the default backend


CASES = load_cases(str(CORPUS))


@pytest.mark.parametrize("backend", ["auto", "closure", "vector"])
def test_corpus(backend):
    failing = set()
    for case in CASES:
        if case["id"] in SLOW and backend != "auto":
            continue
        r = run_case(case, backend=backend)
        if not r.passed:
            failing.add(f"{r.id}: {r.error or r.got}")
    unexpected = {f for f in failing if f.split(":")[0] not in KNOWN_FAILURES}
    assert not unexpected, "\n".join(sorted(unexpected))
    for case in CASES:
        if case["id"] in OUR_ANSWERS:
            r = run_case(dict(case, expected=OUR_ANSWERS[case["id"]]), backend=backend)
            assert r.passed, (case["id"], r.error or r.got)
    assert len(CASES) >= 594


def test_project_copy_matches_shared():
    """tests/conformance holds the same files as ../shared/conformance (when it is beside us:
    the shared folder is the source of the cases, the copy lets a plain clone run them)."""
    shared = shared_corpus_dir()
    if shared is None:
        pytest.skip("../shared/conformance is not beside this checkout: nothing to compare")
    names = sorted(p.name for p in shared.iterdir() if p.is_file())
    assert names == sorted(p.name for p in CORPUS_DIR.iterdir() if p.is_file())
    for name in names:
        assert (CORPUS_DIR / name).read_bytes() == (shared / name).read_bytes(), \
            f"tests/conformance/{name} differs from {shared / name}: copy it again"
