"""Collecting every configuration problem at once, and rendering them like DTL's diagnostics."""

from __future__ import annotations

import difflib

from dtl.diagnostics import render
from dtl.errors import Diagnostic, DTLError, Span


def did_you_mean(word: str, choices) -> str | None:
    close = difflib.get_close_matches(word, [c for c in choices if isinstance(c, str)], n=1,
                                      cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


class Problems:
    """Errors and warnings of one load, each tagged with the entity (`_id`) it belongs to."""

    def __init__(self):
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.invalid: set[str] = set()   # entity ids with at least one error
        self.entity: str | None = None   # the entity being checked
        # errors of the configuration as a whole (unreadable files, duplicate _ids, ...): a
        # node refuses such an upload; every other error stays with its pipe or system
        self.unscoped: list[Diagnostic] = []

    def error(self, message: str, span: Span, code: str, hint: str | None = None, *,
              whole: bool = False):
        d = Diagnostic(message, span, code, hint)
        self.errors.append(d)
        if self.entity is not None and not whole:
            self.invalid.add(self.entity)
        else:
            self.unscoped.append(d)

    def warn(self, message: str, span: Span, code: str, hint: str | None = None):
        self.warnings.append(Diagnostic(message, span, code, hint))

    def extend(self, diagnostics):
        for d in diagnostics:
            self.error(d.message, d.span, d.code, d.hint)


def _order(files: list):
    rank = {f: i for i, f in enumerate(files)}

    def key(d: Diagnostic):
        s = d.span
        return (rank.get(s.file, len(rank)), s.line or 0, s.column or 0, s.pointer)
    return key


def render_problems(errors, warnings=(), texts: dict | None = None) -> str:
    """Every diagnostic with its own file's line and caret; errors first, then a count."""
    texts = texts or {}
    key = _order(list(texts))
    parts = [render(d, texts.get(d.span.file)) for d in sorted(errors, key=key)]
    for d in sorted(warnings, key=key):
        parts.append(render(d, texts.get(d.span.file)).replace(": error[", ": warning[", 1))
    if errors:
        n = len(errors)
        parts.append(f"{n} error{'s' if n != 1 else ''}" + (
            f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""))
    return "\n".join(parts)


class ConfigError(DTLError):
    """The configuration has errors; `diagnostics` holds all of them, each positioned."""

    def __init__(self, diagnostics, warnings=(), texts: dict | None = None):
        self.texts = dict(texts or {})
        key = _order(list(self.texts))
        self.diagnostics = sorted(diagnostics, key=key)
        self.warnings = sorted(warnings, key=key)
        super().__init__(self.render())

    def render(self) -> str:
        return render_problems(self.diagnostics, self.warnings, self.texts)
