"""JSON documents as positioned trees: every value knows the span it came from.

Text goes through `grammar/json.lark`; an already-loaded Python object is wrapped the same
way with JSON-pointer spans, so lowering and error reporting have one input shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from lark import Token, Transformer, v_args
from lark.exceptions import (UnexpectedCharacters, UnexpectedEOF, UnexpectedInput,
                             UnexpectedToken, VisitError)

from dtl.errors import Diagnostic, DTLSyntaxError, Span
from dtl.syntax.grammars import parser


@dataclass(frozen=True, slots=True)
class JScalar:
    """A JSON string, number, boolean or null (strings not yet transit-decoded)."""

    value: object
    span: Span


@dataclass(frozen=True, slots=True)
class JList:
    items: tuple
    span: Span


@dataclass(frozen=True, slots=True)
class JObject:
    """An object; `items` are (key, key_span, value) in document order."""

    items: tuple
    span: Span

    def get(self, key: str):
        for k, _, v in self.items:
            if k == key:
                return v
        return None

    def keys(self):
        return [k for k, _, _ in self.items]


JNode = JScalar | JList | JObject


def _span(meta, file, pointer="") -> Span:
    if getattr(meta, "empty", True):
        return Span(file, None, None, None, None, pointer)
    return Span(file, meta.line, meta.column, meta.end_line, meta.end_column, pointer)


class _Build(Transformer):
    def __init__(self, file):
        super().__init__()
        self.file = file

    @v_args(meta=True)
    def string(self, meta, children):
        tok: Token = children[0]
        try:
            value = json.loads(tok)
        except ValueError as e:  # e.g. a raw control character inside the quotes
            raise _BadString(f"invalid JSON string: {e.msg}", _span(meta, self.file)) from None
        return JScalar(value, _span(meta, self.file))

    @v_args(meta=True)
    def number(self, meta, children):
        text = str(children[0])
        if any(c in text for c in ".eE"):
            value = float(text)
        else:
            value = int(text)
        return JScalar(value, _span(meta, self.file))

    @v_args(meta=True)
    def true(self, meta, _):
        return JScalar(True, _span(meta, self.file))

    @v_args(meta=True)
    def false(self, meta, _):
        return JScalar(False, _span(meta, self.file))

    @v_args(meta=True)
    def null(self, meta, _):
        return JScalar(None, _span(meta, self.file))

    @v_args(meta=True)
    def array(self, meta, children):
        items = tuple(c for c in children if c is not None)
        return JList(items, _span(meta, self.file))

    @v_args(meta=True)
    def pair(self, meta, children):
        key, value = children
        return (key.value, key.span, value)

    @v_args(meta=True)
    def object(self, meta, children):
        items = tuple(c for c in children if c is not None)
        return JObject(items, _span(meta, self.file))


def _with_pointers(node: JNode, pointer: str = "") -> JNode:
    """Fill in JSON pointers (text positions stay), so every span has both."""
    if isinstance(node, JScalar):
        return JScalar(node.value, _replace_pointer(node.span, pointer))
    if isinstance(node, JList):
        return JList(tuple(_with_pointers(c, f"{pointer}/{i}") for i, c in enumerate(node.items)),
                     _replace_pointer(node.span, pointer))
    items = []
    for k, ks, v in node.items:
        p = f"{pointer}/{_escape(k)}"
        items.append((k, _replace_pointer(ks, p), _with_pointers(v, p)))
    return JObject(tuple(items), _replace_pointer(node.span, pointer))


def _escape(key) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _replace_pointer(span: Span, pointer: str) -> Span:
    return Span(span.file, span.line, span.column, span.end_line, span.end_column, pointer)


# A string, or a bracket; the scan below skips strings whole
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def nesting_error(text: str, file: str | None = None, limit: int | None = None):
    """A positioned Diagnostic where `text` nests deeper than `limit` (transit.MAX_DEPTH)
    brackets, else None. Checked before parsing: building the tree recurses per level."""
    from dtl.transit import MAX_DEPTH
    limit = MAX_DEPTH if limit is None else limit
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    for m in _NESTING.finditer(text):
        c = text[m.start()]
        if c == "[" or c == "{":
            depth += 1
            if depth > limit:
                pos = m.start()
                line = text.count("\n", 0, pos) + 1
                col = pos - (text.rfind("\n", 0, pos) + 1) + 1
                return Diagnostic(f"JSON nested deeper than {limit} levels", Span(file, line, col),
                                  code="json-too-deep",
                                  hint="flatten the document; no entity or configuration needs "
                                       "this depth")
        elif c == "]" or c == "}":
            depth -= 1
    return None


def parse_json_text(text: str, file: str | None = None) -> JNode:
    """Parse JSON text into a positioned tree; syntax errors name file:line:col."""
    deep = nesting_error(text, file)
    if deep is not None:
        raise DTLSyntaxError([deep], text)
    try:
        tree = parser("json").parse(text)
    except UnexpectedInput as e:
        raise DTLSyntaxError([_json_error(e, file, text)], text) from None
    try:
        node = _Build(file).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, _BadString):
            raise DTLSyntaxError([Diagnostic(e.orig_exc.message, e.orig_exc.span,
                                             code="json-syntax")], text) from None
        raise
    return _with_pointers(node)


class _BadString(Exception):
    def __init__(self, message, span):
        super().__init__(message)
        self.message, self.span = message, span


def _json_error(e: UnexpectedInput, file, text: str) -> Diagnostic:
    line, col = getattr(e, "line", None), getattr(e, "column", None)
    pos = getattr(e, "pos_in_stream", None)
    if isinstance(e, UnexpectedToken) and e.token.value in ("]", "}") and pos is not None \
            and text[:pos].rstrip().endswith(","):
        return Diagnostic(f"invalid JSON: trailing comma before {e.token.value!r}",
                          Span(file, line, col), code="json-syntax",
                          hint="JSON allows no comma after the last element")
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        msg = "unexpected end of JSON text"
    elif isinstance(e, UnexpectedCharacters):
        msg = f"invalid JSON: unexpected character {e.char!r}"
    elif isinstance(e, UnexpectedToken):
        msg = f"invalid JSON: unexpected {e.token.value!r}"
    else:  # pragma: no cover - lark has no other kinds today
        msg = "invalid JSON"
    if line is None or line < 0:
        line, col = None, None
    return Diagnostic(msg, Span(file, line, col), code="json-syntax")


def from_python(obj, file: str | None = None, pointer: str = "") -> JNode:
    """Wrap an already-loaded JSON-like Python object; spans are JSON pointers."""
    span = Span(file, pointer=pointer)
    if isinstance(obj, list | tuple):
        return JList(tuple(from_python(x, file, f"{pointer}/{i}") for i, x in enumerate(obj)), span)
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            p = f"{pointer}/{_escape(k)}"
            items.append((str(k) if not isinstance(k, str) else k, Span(file, pointer=p),
                          from_python(v, file, p)))
        return JObject(tuple(items), span)
    return JScalar(obj, span)


def to_python(node: JNode):
    """The plain JSON value of a tree (strings not transit-decoded)."""
    if isinstance(node, JScalar):
        return node.value
    if isinstance(node, JList):
        return [to_python(c) for c in node.items]
    return {k: to_python(v) for k, _, v in node.items}
