"""The generated-source backend: each rule becomes one Python function, for speed.

Closures cost a Python call per IR node; here a rule's straight-line transforms (`add`,
`copy`, `filter`, `if`, ...) and their expressions become one function body, and function
calls go straight to the registry's implementations, or are written out by the registry's
inline templates and inliners (which specialize on literal arguments). Whatever this backend
does not handle is delegated per node to the closure backend (`C[i](env)`), so both always
agree. A default rule that needs no closure also becomes the transform's entry points
(`compile_entity`): `apply` in one call per entity, and loops over a list of entities for
`apply_batch` and `apply_each`, with the target built by one dict display.

No user string ever becomes code: every string, property name and path element is placed in
the constants table `K` and referenced by index; of a document's values only integers,
booleans and None are written as literals (via repr), other literals are the compiler's own
(round's 1e-6, builtin type names). Function names, rule names and variables never appear in
the source.
`tests/test_pysource.py` checks both properties with hypothesis.
"""

from __future__ import annotations

import re
import sys

from dtl.backends.closure.compiler import Compiler, reorder
from dtl.backends.closure.env import DISCARDED, FILTERED
from dtl.ir.nodes import Call, Lambda, Literal, Path, Rule, TransformList, label
from dtl.paths import walk_path


class RuleSource:
    """Builds the source of one rule function."""

    def __init__(self, closures: Compiler, entity: str | None = None,
                 mark_filtered: bool = False):
        self.c = closures
        # entity mode writes a whole entry point of Transform (see compile_entity): "one"
        # returns an entity's outputs, "all"/"each" loop over entities, `out` collecting
        # every output ("all") or each entity's list of outputs ("each")
        self.entity = entity
        self.mark_filtered = mark_filtered
        # the depth of the rule's own transforms
        self.top = {None: 1, "one": 2}.get(entity, 3)
        self.strings: dict = {}  # str constant -> index in K
        # entity mode: T is built by one dict display from the leading adds and copies
        # (key const -> value code, or None for a copy); `made` once T exists
        self.pending: dict = {}
        self.made = not entity
        self.ns = closures.ctx.options.namespaced_identifiers
        self.K: list = []  # constants
        self.F: list = []  # function implementations
        self.C: list = []  # closure fallbacks
        self.lines: list[str] = []
        self.pre: list[str] = []  # prelude statements for the next line
        self.walks: dict = {}  # loops over source lists for the next line (see walk)
        self.tmp = 0
        self.fallbacks: list[str] = []  # what the current transform hands to closures
        self.plan: list[str] = []  # per top-level transform: how it runs (for explain)

    # -- tables -------------------------------------------------------------------------------

    # Tables are bound as default arguments (k0=..., f0=..., c0=...) so that the body reads
    # them as fast locals; the names are ours, only the bound values come from the document.

    def const(self, v) -> str:
        t = type(v)
        if v is None or t is bool or t is int:
            return repr(v)
        if t is str:  # one name per text: the same path element reads as the same code
            i = self.strings.get(v)
            if i is None:
                i = self.strings[v] = len(self.K)
                # interned, as the keys of parsed entities are (orjson interns them): a dict
                # lookup then matches the key by identity instead of comparing the text
                self.K.append(sys.intern(v))
            return f"k{i}"
        self.K.append(v)
        return f"k{len(self.K) - 1}"

    def func(self, f) -> str:
        self.F.append(f)
        return f"f{len(self.F) - 1}"

    def closure(self, node) -> str:
        self.fallbacks.append(label(node))
        self.C.append(self.c.expr(node) if not isinstance(node, Call) or node.kind != "transform"
                      else self.c.call(node))
        return f"c{len(self.C) - 1}(env)"

    def temp(self) -> str:
        self.tmp += 1
        return f"_v{self.tmp}"

    # -- expressions --------------------------------------------------------------------------

    def expr(self, node) -> str:
        if isinstance(node, Literal):
            v = node.value
            if isinstance(v, list | dict):
                return self.closure(node)  # keep one code path for mutable constants
            return self.const(v)
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, Call) and node.kind == "expression":
            return self.call(node)
        return self.closure(node)

    def path(self, node: Path) -> str:
        if node.is_alias or node.head not in ("_S", "_T") or (self.ns and node.elements) or \
                (node.head == "_S" and node.elements == ("$ids",)):   # dynamic: closure's
            return self.closure(node)
        var = "S" if node.head == "_S" else "T"
        els = node.elements
        if not els:
            return var
        if len(els) == 1:
            return f"{var}.get({self.const(els[0])})"
        # a dict on the way is one .get; a list (gathered) or anything else: walk_path
        prefix, k = self.split_path(node)
        a = self.temp()
        return (f"({a}.get({k}) if type({a} := {prefix}) is dict else "
                f"(None if {a} is None else _walk({a}, {self.const(els[-1:])})))")

    # -- for inliners (registry `inline=` callables: ``inline(g, call, impl) -> code | None``;
    # None only before generating anything, and then the template or a call is used)

    NO = object()  # `known`: not a literal

    def known(self, node):
        """The value of a scalar literal argument (to specialize on at compile time), or NO."""
        if isinstance(node, Literal) and not isinstance(node.value, list | dict):
            return node.value
        return self.NO

    def split_path(self, node) -> tuple[str, str] | None:
        """(code for a plain path without its last element, that element's constant) for a
        path of two or more elements: walking them one after the other is walking the path."""
        if not isinstance(node, Path) or len(node.elements) < 2 or node.is_alias or \
                node.head not in ("_S", "_T") or self.ns:
            return None
        return (self.path(Path(node.head, node.elements[:-1], node.span)),
                self.const(node.elements[-1]))

    def truth(self, node) -> str:
        if isinstance(node, Call) and node.kind == "expression" and node.spec.boolean:
            return self.expr(node)  # always True or False: its own truth
        v = self.temp()
        return f"(({v} := {self.expr(node)}) is not None and {v} is not False and {v} != [])"

    def call(self, node: Call) -> str:
        spec = node.spec
        name = node.name
        if name == "if" and spec.compiler is not None:
            a = node.args
            other = self.expr(a[2]) if len(a) > 2 else "None"
            return f"({self.expr(a[1])} if {self.truth(a[0])} else {other})"
        if name == "if-null":
            v = self.temp()
            value, fallback = self.expr(node.args[0]), self.expr(node.args[1])
            return (f"({fallback} if ({v} := {value}) is None or (type({v}) is list and "
                    f"(not {v} or {v}[0] is None)) else {v})")
        if spec.impl is None or spec.needs_env or any(
                isinstance(a, Lambda) for a in node.args):
            return self.closure(node)
        if spec.pure and all(isinstance(a, Literal) for a in node.args):
            folded = self.c._fold(node, spec, None)
            if folded is not None:
                return self.const(folded(None))
        inliner = spec.inline[0] if isinstance(spec.inline, tuple) else None
        if inliner is not None:
            code = inliner(self, node, spec.impl)
            if code is not None:
                return code
        positional = self.c._positional(spec, [p.pyname for p in node.params])
        template = _template(spec.inline, len(node.args))
        if positional and template is not None:
            codes = [self.expr(a) for a in node.args]
            return template.format(*codes, f=self.func(spec.impl), a=self.temp(),
                                   b=self.temp(), c=self.temp(), r=self.temp())
        if positional:
            args = ", ".join(self.expr(a) for a in node.args)
        elif spec.spread:
            return self.closure(node)
        else:
            order = reorder(spec, [p.pyname for p in node.params])
            if order is not None:  # the impl's own parameter order, positionally
                codes = {p.pyname: self.expr(a) for a, p in zip(node.args, node.params)}
                args = ", ".join(codes[n] for n in order)
            else:  # keywords: parameter names come from the registry's signature grammar
                args = ", ".join(f"{p.pyname}={self.expr(a)}"
                                 for a, p in zip(node.args, node.params))
        return f"{self.func(spec.impl)}({args})"

    # -- transforms ---------------------------------------------------------------------------

    def emit(self, line: str, depth: int):
        for pre in self.walk_lines() + self.pre:  # what the expressions of this line need first
            self.lines.append("    " * depth + pre)
        self.pre = []
        self.lines.append("    " * depth + line)

    def prelude(self, lines: list[str]):
        """For an inliner: statements to run before the statement its code is part of. They
        run whether or not that code is reached, so they may only read (the source, and
        temporaries), and anything unusual goes to the function or raises (then the entity
        runs on the closures)."""
        self.pre.extend(lines)

    GIVE_UP = "<give up>"  # a line of a walk's body: the values are not all plain

    def walk(self, node: Path, acc: str, init: list[str], body, after):
        """For an inliner: a prelude loop over the list at a `_S` path (of two or more
        elements) without its last element, reading that element of each item (the items
        must be dicts holding it). Walks of the same list in one statement share one loop,
        as a hand-written loop would. `acc` is the walk's accumulator, set before the loop
        (None) and by `init`; ``body(v)`` gives the lines for one item's value `v`, where the
        line GIVE_UP stops every walk of the loop with None in every accumulator (so each
        falls back to its general function in ``after(lst)``, the lines after the loop)."""
        key = (node.head, node.elements[:-1])
        w = self.walks.get(key)
        if w is None:
            src, _ = self.split_path(node)
            w = self.walks[key] = {"list": self.temp(), "item": self.temp(), "src": src,
                                   "accs": [], "init": [], "body": [], "after": []}
        v = self.temp()
        w["accs"].append(acc)
        w["init"] += init
        w["body"] += [f"{v} = {w['item']}[{self.const(node.elements[-1])}]", *body(v)]
        w["after"] += after(w["list"])

    def walk_lines(self) -> list[str]:
        out = []
        for w in self.walks.values():
            accs = " = ".join(w["accs"])
            body = []
            for line in w["body"]:
                if line.strip() == self.GIVE_UP:
                    pad = line[:len(line) - len(line.lstrip())]
                    body += [f"{pad}{accs} = None", f"{pad}break"]
                else:
                    body.append(line)
            out += [f"{w['list']} = {w['src']}", f"{accs} = None",
                    f"if type({w['list']}) is list:",
                    *("    " + x for x in w["init"]),
                    "    try:",
                    f"        for {w['item']} in {w['list']}:",
                    *("            " + x for x in body),
                    "    except (KeyError, TypeError):",  # an item not a dict, or without it
                    f"        {accs} = None",
                    *w["after"]]
        self.walks = {}
        return out

    def stop(self, name: str, depth: int):
        """The line(s) for a `filter` or `discard` that holds."""
        if not self.entity:
            self.emit(f"return {'FILTERED' if name == 'filter' else 'DISCARDED'}", depth)
        elif name == "filter" and self.mark_filtered:
            k = self.const("_filtered")
            if self.made:
                self.emit(f"T[{k}] = True", depth)
            self.output("T" if self.made else f"{{{k}: True}}", depth)  # else: nothing added
        else:
            self.output(None, depth)

    def output(self, target: str | None, depth: int):
        """Entity mode: the entity is done, with `target` as its output (None: no output)."""
        if self.entity == "one":
            self.emit(f"return [{target or ''}]", depth)
            return
        if target is not None or self.entity == "each":
            self.emit(f"app([{target or ''}])" if self.entity == "each" else f"app({target})",
                      depth)
        self.emit("continue", depth)

    def flush(self, depth: int):
        """Entity mode: make T from the pending adds and copies, in their order (a copy of
        a missing property holds _NO until it is deleted again; a copy of `_id`, which
        nearly every entity has, reads S[k]: without one, the KeyError sends the entity
        to the general path, which gives the same result)."""
        if self.made:
            return
        ident = self.strings.get("_id")
        read = lambda k: f"S[{k}]" if k == f"k{ident}" else f"S.get({k}, _NO)"  # noqa: E731
        items = ", ".join(f"{k}: {read(k) if v is None else v}" for k, v in self.pending.items())
        self.emit(f"T = {{{items}}}", depth)
        for k, v in self.pending.items():
            if v is None and k != f"k{ident}":
                self.emit(f"if T[{k}] is _NO:", depth)
                self.emit(f"del T[{k}]", depth + 1)
        self.made = True

    def transforms(self, calls, depth: int):
        if not calls:
            self.emit("pass", depth)
        for call in calls:
            if depth == self.top:
                self.fallbacks = []
            self.transform(call, depth)
            if depth == self.top:
                fb = self.fallbacks
                if fb == [label(call)]:
                    self.plan.append("closure")
                else:
                    names = ", ".join(dict.fromkeys(fb))
                    self.plan.append("pysource" + (f"; closure for {names}" if fb else ""))

    def transform(self, call: Call, depth: int):
        name, a = call.name, call.args
        lit = [x.value if isinstance(x, Literal) else _NOT for x in a]
        plain = lambda i: i < len(lit) and type(lit[i]) is str  # noqa: E731
        simple = (name == "add" and plain(0) or name == "copy" and len(a) == 1 and plain(0)
                  and "*" not in lit[0] and "?" not in lit[0]) and not self.ns
        if not self.made and depth == self.top and not (simple or name == "comment" or
                                                       name in ("filter", "discard") and
                                                       not self.pending):
            self.flush(depth)
        if name == "add" and plain(0) and not self.ns:
            k, code = self.const(lit[0]), self.expr(a[1])
            if not self.made and (k in self.pending or _READS_T.search(code)):
                self.flush(depth)
            if self.made:
                self.emit(f"T[{k}] = {code}", depth)
            else:
                self.pending[k] = code
        elif name == "default" and plain(0) and not self.ns:
            k = self.const(lit[0])
            self.emit(f"if {k} not in T:", depth)
            self.emit(f"T[{k}] = {self.expr(a[1])}", depth + 1)
        elif name == "copy" and len(a) == 1 and lit[0] == "*" and not self.ns:
            self.emit("T.update(S)", depth)
        elif name == "copy" and len(a) == 1 and plain(0) and not self.ns and \
                "*" not in lit[0] and "?" not in lit[0]:
            k = self.const(lit[0])
            if not self.made and k in self.pending:
                self.flush(depth)
            if self.made:
                self.emit(f"if {k} in S:", depth)
                self.emit(f"T[{k}] = S[{k}]", depth + 1)
            else:
                self.pending[k] = None
        elif name == "remove" and plain(0) and not self.ns and \
                "*" not in lit[0] and "?" not in lit[0]:
            self.emit(f"T.pop({self.const(lit[0])}, None)", depth)
        elif name == "comment":
            pass
        elif name in ("filter", "discard"):
            if a:
                self.emit(f"if not {self.truth(a[0])}:", depth)
                depth += 1
            self.stop(name, depth)
        elif name == "if":
            self.emit(f"if {self.truth(a[0])}:", depth)
            self.transforms(a[1].items, depth + 1)
            if len(a) > 2 and a[2].items:
                self.emit("else:", depth)
                self.transforms(a[2].items, depth + 1)
        else:
            r = self.temp()
            self.emit(f"{r} = {self.closure(call)}", depth)
            self.emit(f"if {r} is not None:", depth)
            self.emit(f"return {r}", depth + 1)


_NOT = object()


def handles(spec) -> str | None:
    """How this backend runs a function, as the registry declares it (FunctionSpec.backends):
    "inline" (code of its own: `native` special forms and transforms, in their common literal
    forms, or an `inline` template), "call" (the impl called from the generated code), or
    None (a closure called from the generated function)."""
    if "generated" not in spec.backends:
        return None
    return "inline" if "generated" in spec.native or spec.inline is not None else "call"


def _arity(template: str) -> int:
    import string
    nums = {int(f) for _, f, _, _ in string.Formatter().parse(template) if f and f.isdigit()}
    return len(nums)


def _template(inline, n: int) -> str | None:
    if isinstance(inline, tuple):  # (inliner, template or None)
        inline = inline[1]
    if inline is None:
        return None
    if isinstance(inline, dict):
        return inline.get(n)
    return inline if _arity(inline) == n else None


def plan_rule(rule: Rule, closures: Compiler) -> list[str]:
    """How each transform of a rule runs on this backend (what `dtl explain` shows)."""
    b = RuleSource(closures)
    b.transforms(rule.transforms, 1)
    return b.plan


def _binds(b: RuleSource) -> list[str]:
    return [f"k{i}=K[{i}]" for i in range(len(b.K))] + \
        [f"f{i}=F[{i}]" for i in range(len(b.F))] + [f"c{i}=C[{i}]" for i in range(len(b.C))]


def _define(src: str, b: RuleSource, **names):
    ns = {"K": tuple(b.K), "F": tuple(b.F), "C": tuple(b.C), "_walk": walk_path,
          "FILTERED": FILTERED, "DISCARDED": DISCARDED, **names}
    code = compile(src, "<dtl rule>", "exec")
    exec(code, ns)  # noqa: S102 - the source holds only our own tokens (see module docstring)
    fn = ns["_rule"]
    fn.__dtl_source__ = src
    return fn


def _calls(rule):
    return rule.transforms if isinstance(rule, Rule) else (
        rule.items if isinstance(rule, TransformList) else rule)


def compile_rule(rule: Rule | TransformList | tuple, closures: Compiler, slow):
    """A function ``f(S, T, env) -> None | FILTERED | DISCARDED`` for a rule; `slow` is the
    closure version, used when the source is not a dict. When the rule needs no closure
    (`fn.needs_env` false) env may be None, and a caller with a dict source can skip building
    an Env at all."""
    b = RuleSource(closures)
    b.transforms(_calls(rule), 1)
    assert not b.pre and not b.walks, "a prelude without its statement"
    src = "\n".join([f"def _rule(S, T, env, {', '.join(_binds(b) + ['_walk=_walk', '_slow=_slow'])}):",
                     "    if type(S) is not dict:",
                     "        return _slow(env)",
                     *b.lines,
                     "    return None"])
    fn = _define(src, b, _slow=slow)
    fn.needs_env = bool(b.C)
    return fn


def compile_entity(rule: Rule, closures: Compiler, general, mark_filtered: bool,
                   mode: str = "one"):
    """An entry point of a single-rule-set transform whose default rule needs no closure,
    with the rule's code inside and the target built in place (None if the rule needs
    closures):

    - "one": ``apply(entity, *, bindings=None) -> list``, one Python call per entity;
    - "all": ``f(entities) -> list``, every output in order (`apply_batch`), a loop with no
      call per entity;
    - "each": ``f(entities) -> list``, per entity its list of outputs (`apply_each`).

    Anything else (bindings, a non-dict source, an exception, which gets its position from
    the closures) goes to `general(entity)`: the full `Transform.apply`, and for "each" one
    that returns the exception instead of raising it."""
    b = RuleSource(closures, entity=mode, mark_filtered=mark_filtered)
    b.transforms(_calls(rule), b.top)
    if b.C:
        return None
    b.flush(b.top)
    assert not b.pre and not b.walks, "a prelude without its statement"
    binds = ", ".join(_binds(b) + ["_walk=_walk", "_general=_general", "_NO=_NO"])
    body = _read_once(b.lines, b.top)
    if mode == "one":
        src = [f"def _rule(S, *, bindings=None, {binds}):",
               "    if bindings is not None or type(S) is not dict:",
               "        return _general(S, bindings=bindings)",
               "    try:",
               *body,
               "    except Exception:",
               "        return _general(S)",
               "    return [T]"]
    else:
        slow = "app(_general(S))" if mode == "each" else "out.extend(_general(S))"
        src = [f"def _rule(entities, {binds}):",
               "    out = []",
               "    app = out.append",
               "    for S in entities:",
               "        if type(S) is not dict:",
               f"            {slow}",
               "            continue",
               "        try:",
               *body,
               "        except Exception:",
               f"            {slow}",
               "            continue",
               f"        app({'[T]' if mode == 'each' else 'T'})",
               "    return out"]
    return _define("\n".join(src), b, _general=general, _NO=_NOT)


_READS_T = re.compile(r"(?<![\w.])T(?!\w)")  # the target variable in generated code
_S_GET = re.compile(r"\bS\.get\((k\d+)\)")


def _read_once(lines: list[str], depth: int) -> list[str]:
    """Source properties read more than once, read once into a local first (the source is
    never changed while a rule runs, and reading a property cannot fail or have effects):
    just before the first statement of the rule that reads it, so a filter before it saves
    the read."""
    counts: dict = {}
    for line in lines:
        for k in _S_GET.findall(line):
            counts[k] = counts.get(k, 0) + 1
    if all(n == 1 for n in counts.values()):
        return lines
    sub = lambda m: f"_s{m.group(1)}" if counts[m.group(1)] > 1 else m.group(0)  # noqa: E731
    indent = "    " * depth
    out, bound, stmt = [], set(), 0  # stmt: where the current top-level statement starts
    for line in lines:
        if not line.startswith(indent + " ") and not line.startswith(indent + "else:"):
            stmt = len(out)
        for k in _S_GET.findall(line):
            if counts[k] > 1 and k not in bound:
                bound.add(k)
                out.insert(stmt, f"{indent}_s{k} = S.get({k})")
                stmt += 1
        out.append(_S_GET.sub(sub, line))
    return out
