"""The one registry of DTL functions: every function is declared here once, by decorator.

A declaration gives the name, whether it is a transform or an expression function, its
category (the Sesam doc page), the signature in the docs' notation (argument-types.rst), a
one-line summary and the implementation. The parser/lowering, the checker, the closure
compiler, `dtl explain` and the generated reference all read `REGISTRY`.

Two ways to implement a function:

* ``impl`` (the common case): a Python function called with the evaluated argument values.
  Parameters are named after the signature's argument names in lower case
  (``VALUES`` -> ``values``); a ``function-expression`` argument arrives as a one-argument
  Python callable that evaluates the expression with ``_`` bound; a ``{>=0}``/``{>=1}``
  argument is a ``*args`` parameter. Optional arguments that were not given are not passed.
  With ``needs_env=True`` the evaluation environment is passed first.
* ``compiler``: a special form that builds its own closure from the IR (``if``, ``hops``,
  every transform): ``compiler(call, c) -> closure`` where ``c`` is the backend compiler.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Callable

from lark import Transformer

from dtl.syntax.grammars import parser

EXPRESSION = "expression"
TRANSFORM = "transform"

# Argument kinds of argument-types.rst, plus the ones the function pages use.
EXPR_KINDS = frozenset({
    "value-expression", "boolean-expression", "integer-expression", "numeric-expression",
    "character-expression", "string", "integer", "wildcard-string", "wildcard-string-list",
})
KINDS = EXPR_KINDS | {"function-expression", "transforms", "dict", "value"}


@dataclass(frozen=True, slots=True)
class Param:
    """One argument of a signature: ``NAME(kind{min|max})``; max None = unbounded."""

    name: str
    kind: str
    min: int
    max: int | None

    @property
    def pyname(self) -> str:
        return self.name.lower()

    def __str__(self):
        if self.max is None:
            card = f">={self.min}"
        elif self.min == self.max:
            card = str(self.min)
        else:
            card = f"{self.min}|{self.max}"
        return f"{self.name}({self.kind}{{{card}}})"


@dataclass(frozen=True, slots=True)
class Repeat:
    """A parenthesised group that occurs one or more times."""

    items: tuple

    def __str__(self):
        return "(" + ", ".join(map(str, self.items)) + ")+"


class _SigBuild(Transformer):
    def start(self, items):
        return tuple(i for i in items if i is not None)

    def arg(self, c):
        name, kind, (lo, hi) = c
        if str(kind) not in KINDS:
            raise ValueError(f"unknown argument kind {kind!r}")
        return Param(str(name), str(kind), lo, hi)

    def repeat(self, items):
        return Repeat(tuple(items))

    def exactly(self, c):
        return (int(c[0]), int(c[0]))

    def between(self, c):
        return (int(c[0]), int(c[1]))

    def at_least(self, c):
        return (int(c[0]), None)


@dataclass(frozen=True)
class Signature:
    """A parsed signature; `match(n)` assigns a Param to each of n arguments, or None."""

    text: str
    items: tuple

    @classmethod
    def parse(cls, text: str) -> Signature:
        return cls(text, _SigBuild().transform(parser("signature").parse(text)))

    @functools.cached_property
    def params(self) -> tuple[Param, ...]:
        out = []

        def walk(items):
            for it in items:
                if isinstance(it, Repeat):
                    walk(it.items)
                else:
                    out.append(it)
        walk(self.items)
        return tuple(out)

    @functools.cached_property
    def arity(self) -> tuple[int, int | None]:
        """(min, max) number of arguments; max None = unbounded."""
        def span(items):
            lo, hi = 0, 0
            for it in items:
                if isinstance(it, Repeat):
                    a, _ = span(it.items)
                    lo, hi = lo + a, None
                else:
                    lo += it.min
                    hi = None if hi is None or it.max is None else hi + it.max
            return lo, hi
        return span(self.items)

    @functools.lru_cache(maxsize=64)
    def match(self, n: int) -> tuple[Param, ...] | None:
        """The Param of each of `n` arguments: optional ones are filled left to right."""
        memo: dict = {}

        def go(items: tuple, i: int, left: int):
            key = (items, i, left)
            if key in memo:
                return memo[key]
            if i == len(items):
                res = () if left == 0 else None
            else:
                it = items[i]
                res = None
                if isinstance(it, Repeat):
                    # one or more repetitions of the group, then the rest
                    for reps in range(1, left + 1):
                        r = go(it.items * reps + items[i + 1:], 0, left)
                        if r is not None:
                            res = r
                            break
                else:
                    hi = left if it.max is None else min(it.max, left)
                    # prefer taking as many as possible, which fills optionals left to right
                    for take in range(hi, it.min - 1, -1):
                        rest = go(items, i + 1, left - take)
                        if rest is not None:
                            res = (it,) * take + rest
                            break
            memo[key] = res
            return res

        return go(self.items, 0, n)

    def __str__(self):
        return ", ".join(map(str, self.items))


@dataclass(frozen=True)
class FunctionSpec:
    """Everything known about one DTL function."""

    name: str
    kind: str  # EXPRESSION or TRANSFORM
    category: str
    signature: Signature
    summary: str
    impl: Callable | None = None
    compiler: Callable | None = None
    needs_env: bool = False
    pure: bool = True  # same arguments, same result, no effects: may be folded at compile time
    # the backends with code of their own for this function beyond the closure and the
    # `inline` template: "generated" (the generated-source compiler writes it, a special
    # form or transform), "vector" (a column kernel, or a columnar transform); for a form the
    # plan's ``sugar`` pass rewrites (dtl.ir.sugar.REWRITTEN) those of its core form. The
    # backends read it (vector analysis `native`, pysource `handles`), not tables of names.
    native: frozenset = frozenset()
    doc: str = ""
    aliases: tuple = ()
    spread: bool = field(default=False)  # impl takes a *args parameter
    # For the generated-source backend: a Python expression template for the common case,
    # deferring to the impl otherwise. {0}, {1}: argument code; {f}: the impl; {a}, {b}, {r}:
    # fresh temporaries. Written by us, never from a document. A dict maps arity -> template.
    # A tuple (inliner, template or None): `inliner(g, call, impl)` writes the code itself,
    # specializing on literal arguments (see RuleSource in dtl/backends/pysource), or returns
    # None to use the template.
    inline: str | dict | tuple | None = None
    boolean: bool = False  # always returns True or False (so it is its own truth value)

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.kind)

    @property
    def implemented(self) -> bool:
        return self.impl is not None or self.compiler is not None

    @property
    def backends(self) -> frozenset:
        """The backends that run this function with code of their own: "closure" (every
        implemented function), "generated" (an inline template, `native` code, or a direct
        call of a plain impl from the generated source, when given no function expression),
        "vector" (`native`: a column kernel
        or columnar transform; elsewhere a vector batch calls the impl per row or a closure).
        tests/test_capabilities.py checks each claim against the backend's own code."""
        if not self.implemented:
            return frozenset()
        out = {"closure", *self.native}
        if self.kind == EXPRESSION and self.impl is not None and not self.needs_env and \
                not any(p.kind == "function-expression" and p.min for p in self.signature.params):
            # an inline template, else a direct call of the impl (a call given a function
            # expression runs as a closure)
            out.add("generated")
        return frozenset(out)


class Registry:
    """Functions by (name, kind). Expression and transform functions may share a name (`if`)."""

    def __init__(self):
        self._specs: dict[tuple[str, str], FunctionSpec] = {}

    def add(self, spec: FunctionSpec) -> FunctionSpec:
        for name in (spec.name, *spec.aliases):
            key = (name, spec.kind)
            if key in self._specs:
                raise ValueError(f"DTL function {name!r} ({spec.kind}) is declared twice")
            self._specs[key] = spec
        return spec

    def get(self, name: str, kind: str) -> FunctionSpec | None:
        return self._specs.get((name, kind))

    def names(self, kind: str | None = None) -> list[str]:
        return sorted({n for (n, k) in self._specs if kind is None or k == kind})

    def specs(self) -> list[FunctionSpec]:
        seen, out = set(), []
        for s in self._specs.values():
            if id(s) not in seen:
                seen.add(id(s))
                out.append(s)
        return sorted(out, key=lambda s: (s.category, s.name, s.kind))

    def __contains__(self, key) -> bool:
        return key in self._specs


REGISTRY = Registry()


def _declare(kind, name, signature, *, category, summary, compiler=None, needs_env=False,
             pure=True, doc=None, aliases=(), native=(), inline=None, boolean=False):
    sig = Signature.parse(signature)

    def deco(fn):
        is_compiler = compiler is True
        spread = False
        if not is_compiler:
            spread = any(p.kind == inspect.Parameter.VAR_POSITIONAL
                         for p in inspect.signature(fn).parameters.values())
        REGISTRY.add(FunctionSpec(
            name=name, kind=kind, category=category, signature=sig, summary=summary,
            impl=None if is_compiler else fn, compiler=fn if is_compiler else None,
            needs_env=needs_env, pure=pure and not needs_env, native=frozenset(native),
            doc=doc or f"hub/dtl/dtl-functions-{category}.rst", aliases=tuple(aliases),
            spread=spread, inline=inline, boolean=boolean))
        return fn
    return deco


def expression(name, signature, *, category, summary, **kw):
    """Declare an expression function (see the module docstring for the calling convention)."""
    return _declare(EXPRESSION, name, signature, category=category, summary=summary, **kw)


def transform(name, signature, *, category="transforms", summary, **kw):
    """Declare a transform function; transforms are always special forms (compiler=True)."""
    return _declare(TRANSFORM, name, signature, category=category, summary=summary,
                    compiler=True, **kw)


def unimplemented(kind, name, signature, *, category, summary, doc=None):
    """Declare a function that exists in DTL but not here yet: compiling it is an error."""
    REGISTRY.add(FunctionSpec(name=name, kind=kind, category=category,
                              signature=Signature.parse(signature), summary=summary,
                              doc=doc or f"hub/dtl/dtl-functions-{category}.rst"))
