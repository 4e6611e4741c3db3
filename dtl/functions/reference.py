"""Generates the function reference (docs/functions.md) from the registry alone."""

from __future__ import annotations

from collections import defaultdict

from dtl.backends import backends_of
from dtl.functions.registry import REGISTRY


def markdown() -> str:
    by_cat = defaultdict(list)
    for spec in REGISTRY.specs():
        by_cat[spec.category].append(spec)
    total = len(REGISTRY.specs())
    out = ["# DTL function reference", "",
           "Generated from the function registry (`dtl/functions/registry.py`) by "
           "`dtl functions --format markdown`; do not edit by hand.", "",
           f"{total} functions. Signatures use the notation of Sesam's `argument-types.rst`; "
           "the reference for each category is the Sesam page named beside it.", ""]
    for cat in sorted(by_cat):
        specs = sorted(by_cat[cat], key=lambda s: (s.name, s.kind))
        out.append(f"## {cat}")
        out.append("")
        out.append(f"Reference: `{specs[0].doc}`")
        out.append("")
        out.append("| function | kind | arguments | summary | backends |")
        out.append("|---|---|---|---|---|")
        for s in specs:
            sig = str(s.signature).replace("|", "\\|")
            backends = ", ".join(backends_of(s)) or "not implemented"
            out.append(f"| `{s.name}` | {s.kind} | `{sig}` | {s.summary} | {backends} |")
        out.append("")
    return "\n".join(out)
