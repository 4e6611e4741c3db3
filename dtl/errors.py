"""Source spans and the DTL error hierarchy. Leaf module: stdlib only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node came from: line/column (1-based) in text, or a JSON pointer for objects."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    pointer: str = ""

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            return f"{where}:{self.line}:{self.column}"
        return f"{where}#{self.pointer or '/'}"

    def child(self, key: str | int) -> Span:
        """A span for a child reached by `key`, used when only pointers are known."""
        k = str(key).replace("~", "~0").replace("/", "~1")
        return Span(self.file, self.line, self.column, self.end_line, self.end_column,
                    f"{self.pointer}/{k}")


NO_SPAN = Span()


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a DTL document."""

    message: str
    span: Span
    code: str = "error"
    hint: str | None = None
    level: str = "error"  # or "warning": reported, but nothing is refused for it

    def to_json(self) -> dict:
        s = self.span
        return {"level": self.level, "code": self.code, "message": self.message,
                "hint": self.hint,
                "file": s.file, "line": s.line, "column": s.column, "pointer": s.pointer}


class DTLError(Exception):
    """Base of every error this package raises on purpose."""


class DTLSyntaxError(DTLError):
    """The text is not valid JSON, or a string sub-language (path, transit) did not parse."""

    def __init__(self, diagnostics: list[Diagnostic], source_text: str | None = None):
        self.diagnostics = list(diagnostics)
        self.source_text = source_text
        super().__init__(self.render())

    def render(self) -> str:
        from dtl.diagnostics import render_all
        return render_all(self.diagnostics, self.source_text)


class DTLCompileError(DTLSyntaxError):
    """The document parsed but failed the checks; carries every diagnostic at once."""


class DTLRuntimeError(DTLError):
    """Evaluation failed for one entity (bad data, `fail!`, a missing dataset ...)."""

    def __init__(self, message: str, span: Span | None = None, entity_id=None):
        self.message = message
        self.span = span
        self.entity_id = entity_id
        super().__init__(message)

    def __str__(self) -> str:
        span, eid = self.span, self.entity_id
        where = f" at {span}" if span is not None and span != NO_SPAN else ""
        ent = f" (entity _id={eid!r})" if eid is not None else ""
        return f"{self.message}{where}{ent}"


class DTLFailError(DTLRuntimeError):
    """Raised by `fail!`: the pump must stop."""


class DTLTripError(DTLRuntimeError):
    """Raised by `trip!`: the pipe's circuit breaker trips."""


class TransitError(DTLError, ValueError):
    """A transit-encoded string could not be decoded."""
