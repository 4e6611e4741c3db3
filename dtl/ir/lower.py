"""Lowering: positioned JSON trees -> IR, with every static check of the document.

All problems of a document are collected and raised together as one DTLCompileError.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from lark.exceptions import UnexpectedInput

from dtl import transit
from dtl.errors import Diagnostic, DTLCompileError, Span, TransitError
from dtl.functions.registry import EXPRESSION, REGISTRY, TRANSFORM, Param
from dtl.ir.nodes import (VARIABLES, Call, HopsSpec, Lambda, Literal, Path, Program, Rule,
                          TransformList, walk)
from dtl.syntax.grammars import parser
from dtl.syntax.jsontree import JList, JNode, JObject, JScalar, to_python

HOPS_KEYS = ("datasets", "where", "return", "recurse", "exclude_root", "max_depth",
             "track-dependencies", "trace", "subsets", "prefilters")


@dataclass
class _Scope:
    aliases: tuple = ()  # hop aliases visible here (innermost hops last)
    in_hops: bool = False


@dataclass
class Lowerer:
    """One lowering run; `diagnostics` collects every problem found."""

    text: str | None = None
    diagnostics: list = field(default_factory=list)
    rule_refs: list = field(default_factory=list)  # (rule name, span, function)
    p_uses: list = field(default_factory=list)  # (rule name or None, span)
    current_rule: str | None = None

    def error(self, message: str, span: Span, code: str, hint: str | None = None):
        self.diagnostics.append(Diagnostic(message, span, code, hint))

    def fail_if_errors(self):
        if self.diagnostics:
            raise DTLCompileError(self.diagnostics, self.text)

    # -- expressions ------------------------------------------------------------------------

    def expr(self, node: JNode, scope: _Scope):
        if isinstance(node, JScalar):
            return self.scalar(node, scope)
        if isinstance(node, JObject):
            return Literal(self.constant(node), node.span)
        return self.call(node, EXPRESSION, scope)

    def constant(self, node: JNode):
        """A JSON value taken as data (dict literals, `literal`), transit-decoded."""
        try:
            return transit.decode(to_python(node))
        except TransitError as e:
            self.error(str(e), node.span, "transit")
            return None

    def scalar(self, node: JScalar, scope: _Scope):
        v = node.value
        if not isinstance(v, str):
            return Literal(v, node.span)
        if v[:1] == "~":
            try:
                return Literal(transit.parse_literal(v), node.span)
            except TransitError as e:
                self.error(str(e), node.span, "transit",
                           'write ["literal", ...] or use "~~" for a plain string starting with "~"')
                return Literal(v, node.span)
        path = self.path(v, node.span, scope)
        return path if path is not None else Literal(v, node.span)

    def path(self, text: str, span: Span, scope: _Scope) -> Path | None:
        """A Path if `text` is a path string in this scope, else None (a plain string)."""
        if "." not in text:
            return None
        try:
            tree = parser("path").parse(text)
        except UnexpectedInput:
            head = text.split(".", 1)[0]
            if head in VARIABLES or head in scope.aliases:
                self.error(f"invalid path {text!r}", span, "path-syntax",
                           "quote elements containing dots as 'a.b', and '' for a quote")
            return None
        head = str(tree.children[0])
        elements = tuple(_element(c) for c in tree.children[1:] if c is not None)
        if head in VARIABLES:
            if head == "_P":
                self.p_uses.append((self.current_rule, span))
            return Path(head, elements, span, False, text)
        if head in scope.aliases:
            return Path(head, elements, span, True, text)
        if scope.in_hops and " " not in text:
            known = ", ".join(scope.aliases) or "none"
            self.error(f"hop alias {head!r} is not declared in this hops' datasets "
                       f"(declared: {known})", span, "undeclared-alias",
                       'declare it as "<dataset> ' + head + '" or write ["literal", ...]')
        return None

    def call(self, node: JList, kind: str, scope: _Scope):
        items = node.items
        if not items:
            self.error("an empty list is not a DTL function call", node.span, "empty-call",
                       'use ["list"] for an empty list')
            return Literal(None, node.span)
        head = items[0]
        if not isinstance(head, JScalar) or not isinstance(head.value, str):
            self.error("a DTL function call must start with the function name", head.span,
                       "not-a-call", 'use ["list", ...] to build a list value')
            return Literal(None, node.span)
        name = head.value
        spec = REGISTRY.get(name, kind)
        if spec is None:
            other = TRANSFORM if kind == EXPRESSION else EXPRESSION
            if REGISTRY.get(name, other) is not None:
                self.error(f"{name!r} is a{'n' if other == EXPRESSION else ''} {other} function "
                           f"and cannot be used as a{'n' if kind == EXPRESSION else ''} {kind}",
                           head.span, "wrong-function-kind")
            else:
                close = difflib.get_close_matches(name, REGISTRY.names(kind), n=3, cutoff=0.6)
                hint = ("did you mean " + " or ".join(repr(c) for c in close) + "?") if close else None
                self.error(f"unknown {kind} function {name!r}", head.span, "unknown-function", hint)
            return Literal(None, node.span)
        if not spec.implemented:
            self.error(f"DTL function {name!r} is not implemented yet", head.span,
                       "not-implemented")
            return Literal(None, node.span)
        args = items[1:]
        params = spec.signature.match(len(args))
        if params is None:
            lo, hi = spec.signature.arity
            want = (f"{lo}" if lo == hi else f"{lo} to {hi}" if hi is not None else f"at least {lo}")
            self.error(f"{name!r} takes {want} argument{'s' if want != '1' else ''}, "
                       f"got {len(args)}", head.span, "arity",
                       f"signature: {name}({spec.signature})")
            return Literal(None, node.span)
        lowered = tuple(self.argument(a, p, spec, scope) for a, p in zip(args, params))
        if name == "literal" and kind == EXPRESSION and isinstance(lowered[0], Literal):
            return Literal(lowered[0].value, node.span)  # a constant, whatever it looks like
        if name in ("apply", "apply-hops") and lowered and isinstance(lowered[0], Literal):
            self.rule_refs.append((lowered[0].value, lowered[0].span, name))
        return Call(name, kind, lowered, tuple(params), node.span)

    def argument(self, node: JNode, param: Param, spec, scope: _Scope):
        kind = param.kind
        if kind == "transforms":
            return self.transforms(node, scope)
        if kind == "value":
            return Literal(self.constant(node), node.span)
        if kind == "dict":
            if not isinstance(node, JObject):
                self.error(f"argument {param.name} of {spec.name!r} must be a dict", node.span,
                           "argument-kind")
                return Literal(None, node.span)
            if spec.name in ("hops", "apply-hops"):
                return self.hops_spec(node, scope)
            return Literal(self.constant(node), node.span)
        if kind == "function-expression":
            return Lambda(self.expr(node, scope), node.span)
        value = self.expr(node, scope)
        if isinstance(value, Literal):
            self.check_literal_kind(value, param, spec)
        return value

    def check_literal_kind(self, lit: Literal, param: Param, spec):
        v, kind = lit.value, param.kind
        if v is None:
            return
        bad = None
        if kind in ("string", "wildcard-string") and not isinstance(v, str):
            bad = "a string"
        elif kind in ("integer", "integer-expression") and (type(v) is not int):
            bad = "an integer"
        elif kind == "numeric-expression" and (isinstance(v, bool) or
                                               not isinstance(v, int | float | _Decimal)):
            bad = "a number"
        elif kind == "wildcard-string-list" and not (
                isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))):
            bad = "a string or a list of strings"
        if bad:
            from dtl.values import type_name
            self.error(f"argument {param.name} of {spec.name!r} must be {bad}, "
                       f"got {type_name(v)}", lit.span, "argument-kind")

    def transforms(self, node: JNode, scope: _Scope) -> TransformList:
        if not isinstance(node, JList):
            self.error("expected a transform or a list of transforms", node.span, "not-a-transform")
            return TransformList((), node.span)
        if not node.items:
            return TransformList((), node.span)
        if isinstance(node.items[0], JScalar) and isinstance(node.items[0].value, str):
            items = (node,)
        else:
            items = node.items
        out = []
        for it in items:
            if not isinstance(it, JList) or not it.items:
                self.error("expected a transform function call like [\"add\", ...]", it.span,
                           "not-a-transform")
                continue
            c = self.call(it, TRANSFORM, scope)
            if isinstance(c, Call):
                out.append(c)
        return TransformList(tuple(out), node.span)

    def hops_spec(self, node: JObject, scope: _Scope) -> HopsSpec:
        for key, kspan, _ in node.items:
            if key not in HOPS_KEYS:
                close = difflib.get_close_matches(key, HOPS_KEYS, n=1)
                self.error(f"unknown key {key!r} in hops spec", kspan, "hops-key",
                           f"did you mean {close[0]!r}?" if close else
                           "known keys: " + ", ".join(HOPS_KEYS[:-1]))
        datasets = []
        dnode = node.get("datasets")
        if dnode is None:
            self.error("hops spec needs a 'datasets' list", node.span, "hops-key")
        elif not isinstance(dnode, JList) or not dnode.items:
            self.error("'datasets' must be a non-empty list of \"<dataset> <alias>\" strings",
                       dnode.span, "hops-datasets")
        else:
            for d in dnode.items:
                parts = d.value.split() if isinstance(d, JScalar) and isinstance(d.value, str) else []
                if len(parts) not in (1, 2):
                    self.error("expected \"<dataset id> <alias>\"", d.span, "hops-datasets")
                    continue
                ds, alias = parts[0], parts[-1]
                if alias in VARIABLES:
                    self.error(f"alias {alias!r} clashes with a built-in variable", d.span,
                               "hops-datasets")
                datasets.append((ds, alias))
        inner = _Scope(scope.aliases + tuple(a for _, a in datasets), True)
        where = []
        wnode = node.get("where")
        if wnode is None:
            self.error("hops spec needs a 'where' clause", node.span, "hops-key")
        elif isinstance(wnode, JList) and wnode.items and isinstance(wnode.items[0], JList):
            where = [self.expr(w, inner) for w in wnode.items]
        else:
            where = [self.expr(wnode, inner)]
        returns = None
        rnode = node.get("return")
        if rnode is not None:
            if isinstance(rnode, JScalar) and isinstance(rnode.value, str) and "." not in rnode.value:
                names = tuple(a.strip() for a in rnode.value.split(","))
                for n in names:
                    if n not in inner.aliases:
                        self.error(f"return names {n!r}, which is not a declared alias",
                                   rnode.span, "undeclared-alias")
                returns = names
            else:
                returns = self.expr(rnode, inner)
        options = []
        for key in ("recurse", "exclude_root", "max_depth", "track-dependencies", "trace"):
            v = node.get(key)
            if v is not None:
                options.append((key, to_python(v)))
        subsets = []
        snode = node.get("subsets") or node.get("prefilters")
        if isinstance(snode, JObject):
            for alias, aspan, expr in snode.items:
                if alias not in inner.aliases:
                    self.error(f"subset for undeclared alias {alias!r}", aspan, "undeclared-alias")
                subsets.append((alias, self.expr(expr, _Scope(scope.aliases, True))))
        return HopsSpec(tuple(datasets), tuple(where), returns, tuple(options), tuple(subsets),
                        node.span)

    # -- programs ---------------------------------------------------------------------------

    def program(self, node: JNode) -> Program:
        if not isinstance(node, JObject):
            self.error("DTL rules must be an object of named rules", node.span, "rules")
            return Program((), node.span)
        rules = []
        for name, kspan, body in node.items:
            self.current_rule = name
            tl = self.transforms(body, _Scope())
            rules.append(Rule(name, tl.items, kspan))
        self.current_rule = None
        names = {r.name for r in rules}
        if "default" not in names:
            self.error("the rules have no 'default' rule", node.span, "no-default",
                       "every DTL transform starts with the rule named 'default'")
        for rname, span, fn in self.rule_refs:
            if isinstance(rname, str) and rname not in names:
                close = difflib.get_close_matches(rname, sorted(names), n=1)
                self.error(f"{fn} names rule {rname!r}, which does not exist", span,
                           "unknown-rule", f"did you mean {close[0]!r}?" if close else
                           "rules: " + ", ".join(sorted(names)))
        applied = {r for r, _, _ in self.rule_refs}
        for rname, span in self.p_uses:
            if rname not in applied:
                self.error("_P is only available inside a rule run by apply or apply-hops",
                           span, "p-outside-apply")
        return Program(tuple(rules), node.span)


def _element(tok) -> str:
    text = str(tok.children[0])
    if tok.data == "quoted":
        return text[1:-1].replace("''", "'")
    return text


from decimal import Decimal as _Decimal  # noqa: E402  (used in kind checks)


def lower_expression(node: JNode, text: str | None = None):
    """Lower one expression; `_P` is an error outside rules."""
    low = Lowerer(text)
    out = low.expr(node, _Scope())
    for _, span in low.p_uses:
        low.error("_P is only available inside a rule run by apply or apply-hops", span,
                  "p-outside-apply")
    low.fail_if_errors()
    return out


def lower_program(node: JNode, text: str | None = None) -> Program:
    low = Lowerer(text)
    prog = low.program(node)
    low.fail_if_errors()
    return prog


def functions_used(node) -> list[str]:
    return sorted({n.name for n in walk(node) if isinstance(n, Call)})
