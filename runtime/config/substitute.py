"""`$ENV(...)` and `$SECRET(...)` substitution on positioned trees (spans are kept).

(ours) References are expanded in every string value of a pipe, system or metadata entity,
DTL rules included, but never in keys. A string that is exactly one `$ENV(x)` takes the value of
`x` with its JSON type; a string with several references or surrounding text is a string (non-
string values are written as JSON text). Anything made from a secret becomes a `Secret`.
"""

from __future__ import annotations

import json

from dtl.errors import Span
from dtl.syntax.jsontree import JList, JNode, JObject, JScalar
from runtime.config.loader import Secrets
from runtime.config.problems import Problems, did_you_mean
from runtime.config.refs import Ref, RefSyntaxError, has_refs, parse_refs
from runtime.config.secret import Secret


def graft(value, span: Span) -> JNode:
    """A tree for a substituted JSON value: every node carries the span of the reference."""
    if isinstance(value, dict):
        return JObject(tuple((str(k), span, graft(v, span)) for k, v in value.items()), span)
    if isinstance(value, list | tuple):
        return JList(tuple(graft(v, span) for v in value), span)
    return JScalar(value, span)


class Substituter:
    def __init__(self, env: dict, secrets: Secrets, problems: Problems,
                 env_file: str | None = None):
        self.env = env
        self.secrets = secrets
        self.problems = problems
        self.env_file = env_file
        self.used_env: set[str] = set()

    def entity(self, node: JNode, role: str, entity_id: str | None) -> JNode:
        """`role` is "pipe", "system" or "metadata": secrets are for systems only."""
        return self._walk(node, role, entity_id)

    def _walk(self, node: JNode, role, eid, dtl=False) -> JNode:
        if isinstance(node, JScalar):
            if isinstance(node.value, str) and has_refs(node.value):
                return self._string(node, role, eid, dtl)
            return node
        if isinstance(node, JList):
            return JList(tuple(self._walk(c, role, eid, dtl) for c in node.items), node.span)
        # the rules of a dtl transform keep their $SECRET(...) references: DTL resolves them
        # at run time (the key arguments of encrypt/decrypt/hmac) and never keeps the value
        rules = role == "pipe" and _is_dtl(node)
        return JObject(tuple((k, ks, self._walk(v, role, eid, dtl or (rules and k == "rules")))
                             for k, ks, v in node.items), node.span)

    def _string(self, node: JScalar, role, eid, dtl=False) -> JNode:
        try:
            pieces = parse_refs(node.value)
        except RefSyntaxError:
            if dtl:
                return node   # DTL reports its own malformed references
            self.problems.error("malformed $ENV/$SECRET reference", node.span, "bad-reference",
                                "write $ENV(name) or $SECRET(name); references cannot be nested")
            return node
        if dtl and len(pieces) == 1 and isinstance(pieces[0], Ref) and pieces[0].kind == "secret":
            return node
        values, secret, ok = [], False, True
        for piece in pieces:
            if not isinstance(piece, Ref):
                values.append(piece)
                continue
            value = self._lookup(piece, node.span, role, eid)
            if value is _NOTHING:
                ok = False
                continue
            secret = secret or piece.kind == "secret"
            values.append(value)
        if not ok:
            return node
        if len(pieces) == 1 and isinstance(pieces[0], Ref):
            value = values[0]
            return JScalar(Secret(value), node.span) if secret else graft(value, node.span)
        text = "".join(v if isinstance(v, str) else json.dumps(v) for v in values)
        return JScalar(Secret(text) if secret else text, node.span)

    def _lookup(self, ref: Ref, span: Span, role, eid):
        if ref.kind == "env":
            if ref.name in self.env:
                self.used_env.add(ref.name)
                return self.env[ref.name]
            where = f" (environment from {self.env_file})" if self.env_file else \
                " (no profile environment file was found)"
            # a node accepts the configuration and leaves the reference as it is: a warning
            self.problems.warn(f"environment variable {ref.name!r} is not set{where}", span,
                               "unknown-env", did_you_mean(ref.name, self.env))
            return _NOTHING
        if role != "system":
            self.problems.warn(f"$SECRET({ref.name}) in a {role}: secrets can only be used in "
                               "systems and as DTL key arguments; the reference is left as "
                               "it is", span, "secret-not-allowed",
                               "move the value to a system property, or use $ENV(...)")
            return _NOTHING
        value = self.secrets.lookup(ref.name, eid)
        if value is None:
            # never print secret values; names are fine
            self.problems.warn(f"secret {ref.name!r} is not defined for system {eid!r}", span,
                               "unknown-secret", did_you_mean(ref.name, self.secrets.names(eid)))
            return _NOTHING
        return value


_NOTHING = object()


def _is_dtl(node: JNode) -> bool:
    t = node.get("type") if isinstance(node, JObject) else None
    return isinstance(t, JScalar) and t.value == "dtl"
