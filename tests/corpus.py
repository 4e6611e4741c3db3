"""The project's copy of the conformance corpus (tests/conformance/, the cases of the
documentation's DTL examples in ../shared/conformance), so the suite runs from a plain clone."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parent.parent
CORPUS_DIR = Path(__file__).parent / "conformance"
CORPUS = CORPUS_DIR / "dtl-doc-examples.jsonl"


def shared_corpus_dir() -> Path | None:
    """../shared/conformance beside the checkout (or beside the worktrees' folder), if any."""
    for base in (ROOT.parent, ROOT.parent.parent):
        d = base / "shared" / "conformance"
        if d.is_dir():
            return d
    return None
