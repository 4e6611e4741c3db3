"""A unified diff of two texts, labelled like the client's."""

from __future__ import annotations

from difflib import unified_diff


def _lines(text: str) -> list[str]:
    # split on "\n" only (str.splitlines would also split on \x0b, \u2028 … inside JSON strings)
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def unified(a: str, b: str, a_label: str, b_label: str) -> str:
    return "".join(unified_diff(_lines(a), _lines(b), fromfile=a_label, tofile=b_label))
