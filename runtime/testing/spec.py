"""Test specifications: `expected/<name>.test.json`, parsed with positions.

Defaults and truthiness follow the Sesam client (a spec's `ignore`/`ignore_deletes` count only when
they are exactly `true`/`false`); on top of that we report wrongly typed and unknown properties
with file:line:col, as warnings where the client would quietly carry on and as errors where it
would crash or fetch a meaningless URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dtl.errors import Diagnostic, DTLSyntaxError, Span
from dtl.syntax.jsontree import JObject, parse_json_text, to_python
from runtime.config.problems import did_you_mean

SUFFIX = ".test.json"
KNOWN = ("_id", "type", "description", "pipe", "file", "endpoint", "stage", "parameters",
         "blacklist", "ignore", "ignore_deletes", "fields_to_sort_by", "name")
STAGES = ("source", "before-transforms", "after-transforms", "sink")


@dataclass
class TestSpec:
    path: str                      # relative to the repository root, e.g. "expected/foo.test.json"
    name: str                      # the file name without ".test.json"
    data: dict = field(default_factory=dict)
    spans: dict = field(default_factory=dict)   # property -> Span of its value

    @property
    def id(self) -> str:
        i = self.data.get("_id")
        return i if isinstance(i, str) else self.name

    @property
    def pipe(self) -> str:
        return self.data.get("pipe", self.name)

    @property
    def file(self) -> str:
        """The expected file relative to the repository root (the client keeps an explicit
        leading "expected/" instead of adding a second one)."""
        f = self.data.get("file", self.name + ".json")
        return f if f.startswith("expected/") else "expected/" + f

    @property
    def endpoint(self) -> str:
        return self.data.get("endpoint", "json")

    @property
    def is_json(self) -> bool:
        return self.endpoint in ("json", "excel")

    @property
    def stage(self) -> str | None:
        return self.data.get("stage")

    @property
    def parameters(self) -> dict:
        p = self.data.get("parameters")
        return p if isinstance(p, dict) else {}

    @property
    def blacklist(self) -> list:
        b = self.data.get("blacklist")
        return [x for x in b if isinstance(x, str)] if isinstance(b, list) else []

    @property
    def ignore(self) -> bool:
        return self.data.get("ignore", False) is True

    @property
    def ignore_deletes(self) -> bool:
        return self.data.get("ignore_deletes", True) is True

    @property
    def fields_to_sort_by(self) -> list:
        f = self.data.get("fields_to_sort_by", ["_id"])
        return f if isinstance(f, list) else ["_id"]

    def span(self, prop: str | None = None) -> Span:
        return self.spans.get(prop) or self.spans.get(None) or Span(self.path)


class SpecError(Exception):
    def __init__(self, diagnostics, texts):
        self.diagnostics, self.texts = list(diagnostics), dict(texts)
        super().__init__("; ".join(d.message for d in self.diagnostics))


# property -> (check, description, is an error when wrong)
def _is_str(v): return isinstance(v, str)
def _is_bool(v): return isinstance(v, bool)
def _is_strs(v): return isinstance(v, list) and all(isinstance(x, str) for x in v)
def _is_obj(v): return isinstance(v, dict)


_TYPES = {
    "_id": (_is_str, "a string", False), "type": (_is_str, "a string", False),
    "description": (_is_str, "a string", False), "pipe": (_is_str, "a string", True),
    "file": (_is_str, "a string", True), "endpoint": (_is_str, "a string", True),
    "stage": (_is_str, "a string", True), "parameters": (_is_obj, "an object", False),
    "blacklist": (_is_strs, "a list of strings", False), "ignore": (_is_bool, "a boolean", False),
    "ignore_deletes": (_is_bool, "a boolean", False),
    "fields_to_sort_by": (_is_strs, "a list of strings", True),
}


def parse_spec(text: str, path: str) -> tuple[TestSpec, list[Diagnostic]]:
    """Parse one spec; returns it with its warnings, raises SpecError on errors."""
    if text.startswith("\ufeff"):  # the client reads specs as utf-8-sig
        text = text[1:]
    name = Path(path).name[:-len(SUFFIX)]
    try:
        node = parse_json_text(text, path)
    except DTLSyntaxError as e:
        raise SpecError(e.diagnostics, {path: text}) from None
    if not isinstance(node, JObject):
        raise SpecError([Diagnostic("a test spec must be a JSON object", node.span,
                                    "wrong-type")], {path: text})
    spec = TestSpec(path, name, to_python(node), {None: node.span})
    errors, warnings = [], []
    for key, key_span, value in node.items:
        spec.spans[key] = value.span
        if key not in KNOWN:
            warnings.append(Diagnostic(f"unknown test spec property {key!r}", key_span,
                                       "unknown-property", did_you_mean(key, KNOWN),
                                       level="warning"))
            continue
        check = _TYPES.get(key)
        v = to_python(value)
        if check and not check[0](v):
            d = Diagnostic(f"{key!r} must be {check[1]}", value.span, "wrong-type",
                           None if check[2] else "the Sesam client ignores this value",
                           level="error" if check[2] else "warning")
            (errors if check[2] else warnings).append(d)
    stage = spec.data.get("stage")
    if isinstance(stage, str) and stage not in STAGES:
        errors.append(Diagnostic(f"unknown stage {stage!r}", spec.span("stage"), "invalid-value",
                                 did_you_mean(stage, STAGES) or f"one of {', '.join(STAGES)}"))
    if errors:
        raise SpecError(errors + warnings, {path: text})
    return spec, warnings


def load_spec(root: Path, path: str) -> tuple[TestSpec, list[Diagnostic]]:
    return parse_spec((root / path).read_text(encoding="utf-8"), path)


