"""Renders diagnostics for people: location, message, the offending line with a caret, a hint."""

from __future__ import annotations

from dtl.errors import Diagnostic


def render(d: Diagnostic, text: str | None = None) -> str:
    s = d.span
    out = [f"{s}: {d.level}[{d.code}]: {d.message}"]
    if text is not None and s.line is not None:
        lines = text.splitlines()
        if 1 <= s.line <= len(lines):
            line = lines[s.line - 1]
            width = 1
            if s.end_line == s.line and s.end_column and s.column and s.end_column > s.column:
                width = s.end_column - s.column
            out.append(f"  {s.line:>4} | {line}")
            out.append(f"       | {' ' * ((s.column or 1) - 1)}{'^' * width}")
    if d.hint:
        out.append(f"       = hint: {d.hint}")
    return "\n".join(out)


def render_all(diagnostics: list[Diagnostic], text: str | None = None) -> str:
    parts = [render(d, text) for d in diagnostics]
    n = len(diagnostics)
    if n:  # as `dtl config validate` ends (runtime.config.problems.render_problems)
        parts.append(f"{n} error{'s' if n != 1 else ''}")
    return "\n".join(parts)
