"""The documentation's DTL examples (shared/conformance) as a regression test.

Every case must pass on both backends, except those listed in KNOWN_FAILURES, each of which
docs/conformance.md explains.
"""

import os
from pathlib import Path

import pytest

from dtl.conformance import load_cases, run_case

CORPUS = Path(__file__).parent.parent.parent / "shared" / "conformance" / "dtl-doc-examples.jsonl"
KNOWN_FAILURES: set[str] = set()
SLOW = {"transforms/sleep!/1"}  # really sleeps 10 s; run once, on the default backend


def _cases():
    if not CORPUS.exists():
        if os.environ.get("CI"):
            raise FileNotFoundError(CORPUS)
        return []
    return load_cases(str(CORPUS))


CASES = _cases()


@pytest.mark.parametrize("backend", ["auto", "closure"])
def test_corpus(backend):
    if not CASES:
        pytest.skip("conformance corpus not present (shared/ is beside the checkout in CI)")
    failing = set()
    for case in CASES:
        if case["id"] in SLOW and backend != "auto":
            continue
        r = run_case(case, backend=backend)
        if not r.passed:
            failing.add(f"{r.id}: {r.error or r.got}")
    unexpected = {f for f in failing if f.split(":")[0] not in KNOWN_FAILURES}
    assert not unexpected, "\n".join(sorted(unexpected))
    assert len(CASES) >= 594
