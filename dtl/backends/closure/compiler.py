"""The closure backend: IR -> nested Python closures ``f(env) -> value``.

No user string ever becomes code here: literals, property names and path elements are only
ever held as data inside closures.
"""

from __future__ import annotations

import inspect

from dtl.backends.closure.env import DISCARDED, FILTERED, Context, Env
from dtl.errors import DTLError, DTLRuntimeError
from dtl.functions.registry import FunctionSpec
from dtl.ir.nodes import Call, Lambda, Literal, Path, Program, TransformList
from dtl.paths import walk_path
from dtl.values import NI


def copy_value(v):
    """A fresh copy of a JSON-like constant (lists and dicts copied, leaves shared)."""
    t = type(v)
    if t is list:
        return [copy_value(x) for x in v]
    if t is dict:
        return {k: copy_value(x) for k, x in v.items()}
    return v


def _positioned(e: DTLRuntimeError, span) -> DTLRuntimeError:
    """Errors raised by a function implementation get the position of the call."""
    if e.span is None:
        e.span = span
    return e


def _wrap_error(spec_name, span, exc: Exception):
    return DTLRuntimeError(f"{spec_name}: {type(exc).__name__}: {exc}", span)


_PARAM_CACHE: dict = {}


def _py_params(spec: FunctionSpec):
    # keyed by id, so the entry holds the spec itself: an id is unique only while its object
    # lives, and a spec built later at a freed one's address (a test's own registry) must
    # not get that one's parameters (seen: `["split", X]` binding X as SEPARATOR)
    hit = _PARAM_CACHE.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    params = list(inspect.signature(spec.impl).parameters.values())
    if spec.needs_env:
        params = params[1:]
    names = [(p.name, p.kind == inspect.Parameter.VAR_POSITIONAL) for p in params]
    _PARAM_CACHE[id(spec)] = (spec, names)
    return names


class Compiler:
    """Compiles IR nodes to closures. Special forms reach back through `expr`/`transforms`."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    # -- expressions ------------------------------------------------------------------------

    def expr(self, node):
        if isinstance(node, Literal):
            v = node.value
            if isinstance(v, list | dict):
                # each evaluation gets its own copy: targets must never share mutable state
                return lambda env: copy_value(v)
            return lambda env: v
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Lambda):
            return self.expr(node.body)
        raise TypeError(f"cannot compile {type(node).__name__}")  # pragma: no cover

    def func(self, node: Lambda):
        """A function-expression: returns ``g(env) -> (value -> result)``."""
        body = self.expr(node.body)

        def bind(env):
            return lambda v: body(env.with_u(v))
        return bind

    def path(self, node: Path):
        els = node.elements
        head = node.head
        if head == "_S" and els == ("$ids",) and not node.is_alias:
            return self._dynamic_ids()
        if els and self.ctx.options.namespaced_identifiers:
            return self._ns_path(node)
        if node.is_alias:
            def get(env, _h=head):
                return env.aliases.get(_h) if env.aliases else None
        elif head == "_S":
            if len(els) == 1:
                el = els[0]

                def s1(env):
                    s = env.S
                    if type(s) is dict:
                        return s.get(el)
                    return walk_path(s, els)
                return s1
            get = _get_S
        elif head == "_T":
            get = _get_T
        elif head == "_":
            get = _get_U
        elif head == "_P":
            get = _get_P
        elif head == "_R":
            get = _get_R
        else:  # _B
            get = _get_B
        if not els:
            return get
        if len(els) == 1:
            el = els[0]

            def p1(env):
                v = get(env)
                if type(v) is dict:
                    return v.get(el)
                return walk_path(v, els)
            return p1
        return lambda env: walk_path(get(env), els)

    def _dynamic_ids(self):
        """`_S.$ids` is dynamic (caveats.rst): a source entity without `$ids` has its own
        `_id` as its one identity, an NI, in the pipe's identity namespace when namespaced
        identifiers are on and the `_id` is not qualified."""
        opts = self.ctx.options
        prefix = f"{opts.identity_namespace}:" if opts.namespaced_identifiers and \
            opts.identity_namespace else ""

        def ids(env):
            s = env.S
            if type(s) is not dict:
                return walk_path(s, ("$ids",))
            if "$ids" in s:
                return s["$ids"]
            eid = s.get("_id")
            if type(eid) is not str:
                return None
            return [NI(eid if ":" in eid or not prefix else prefix + eid)]
        return ids

    def _ns_path(self, node: Path):
        """`_S.x` is `["path", "x", "_S."]`, and `path` is namespace aware: with namespaced
        identifiers an unqualified element matches that identifier in every namespace."""
        from dtl.functions.dictionaries import _ns_getter, _walk_ns
        getters = [_ns_getter(e, self.ctx.options) for e in node.elements]
        get = self.path(Path(node.head, (), node.span, node.is_alias))   # the head alone
        return lambda env: _walk_ns(get(env), getters)

    def call(self, node: Call):
        spec = node.spec
        if spec.compiler is not None:
            return spec.compiler(node, self)
        return self.eager(node, spec)

    def eager(self, node: Call, spec: FunctionSpec):
        impl, name, span = spec.impl, spec.name, node.span
        args = []
        for arg, param in zip(node.args, node.params):
            if param.kind == "function-expression":
                args.append((param.pyname, self.func(arg), False))
            else:
                args.append((param.pyname, self.expr(arg), True))
        if spec.pure and all(isinstance(a, Literal) for a in node.args):
            folded = self._fold(node, spec, args)
            if folded is not None:
                return folded
        fns = [f for _, f, _ in args]
        positional = self._positional(spec, [n for n, _, _ in args])
        if not positional and not spec.spread:
            order = reorder(spec, [n for n, _, _ in args])
            if order is not None:  # call in the impl's own parameter order, positionally
                by_name = {n: f for n, f, _ in args}
                fns, positional = [by_name[n] for n in order], True
        env_first = spec.needs_env
        if positional and not env_first:
            n = len(fns)
            if n == 0:
                def c0(env):
                    try:
                        return impl()
                    except DTLRuntimeError as e:
                        raise _positioned(e, span)
                    except DTLError:
                        raise
                    except Exception as e:
                        raise _wrap_error(name, span, e) from e
                return c0
            if n == 1:
                a0 = fns[0]

                def c1(env):
                    try:
                        return impl(a0(env))
                    except DTLRuntimeError as e:
                        raise _positioned(e, span)
                    except DTLError:
                        raise
                    except Exception as e:
                        raise _wrap_error(name, span, e) from e
                return c1
            if n == 2:
                a0, a1 = fns

                def c2(env):
                    try:
                        return impl(a0(env), a1(env))
                    except DTLRuntimeError as e:
                        raise _positioned(e, span)
                    except DTLError:
                        raise
                    except Exception as e:
                        raise _wrap_error(name, span, e) from e
                return c2
            if n == 3:
                a0, a1, a2 = fns

                def c3(env):
                    try:
                        return impl(a0(env), a1(env), a2(env))
                    except DTLRuntimeError as e:
                        raise _positioned(e, span)
                    except DTLError:
                        raise
                    except Exception as e:
                        raise _wrap_error(name, span, e) from e
                return c3
        if positional:
            def cn(env):
                try:
                    vals = [f(env) for f in fns]
                    return impl(env, *vals) if env_first else impl(*vals)
                except DTLRuntimeError as e:
                    raise _positioned(e, span)
                except DTLError:
                    raise
                except Exception as e:
                    raise _wrap_error(name, span, e) from e
            return cn
        names = [n for n, _, _ in args]

        def ckw(env):
            try:
                kw = {n: f(env) for n, f in zip(names, fns)}
                return impl(env, **kw) if env_first else impl(**kw)
            except DTLRuntimeError as e:
                raise _positioned(e, span)
            except DTLError:
                raise
            except Exception as e:
                raise _wrap_error(name, span, e) from e
        return ckw

    def _positional(self, spec, names: list[str]) -> bool:
        """Whether the matched arguments line up with the impl's leading parameters."""
        py = _py_params(spec)
        i = 0
        for pyname, is_spread in py:
            if i == len(names):
                return True
            if is_spread:
                return all(n == pyname for n in names[i:])
            if names[i] != pyname:
                return False
            i += 1
        return i == len(names)

    def constant(self, node, spec):
        """The value of a pure call on constants, evaluated now (raises what it raises)."""
        return self.eager(node, _unpure(spec))(Env({}, {}, self.ctx))

    def _fold(self, node, spec, args):
        """Evaluate a pure call on constants once, at compile time."""
        try:
            value = self.constant(node, spec)
        except Exception:
            return None
        if isinstance(value, dict | list):
            return None  # mutable results must stay fresh per evaluation
        return lambda env: value

    def args_by_name(self, call: Call) -> dict[str, list]:
        """Compiled arguments of a special form by signature name (repeats give lists):
        transforms as closure tuples, function-expressions as binders, the rest as closures."""
        out: dict = {}
        for arg, p in zip(call.args, call.params):
            if p.kind == "transforms":
                fn = self.transforms(arg)
            elif p.kind == "function-expression":
                fn = self.func(arg)
            else:
                fn = self.expr(arg)
            out.setdefault(p.name, []).append(fn)
        return out

    # -- transforms ---------------------------------------------------------------------------

    def transforms(self, node: TransformList | tuple):
        items = node.items if isinstance(node, TransformList) else node
        fns = tuple(self.call(c) for c in items)
        return fns

    def program(self, program: Program):
        """Compile every rule into ctx.rules; returns the default rule's closures."""
        for rule in program.rules:
            self.ctx.rules[rule.name] = ()
        for rule in program.rules:
            self.ctx.rules[rule.name] = self.transforms(rule.transforms)
        return self.ctx.rules.get("default", ())


def reorder(spec, names: list[str]) -> list[str] | None:
    """The given parameter names in the impl's order, if they are its leading parameters."""
    py = [n for n, spread in _py_params(spec)]
    if set(py[: len(names)]) == set(names) and len(set(names)) == len(names):
        return py[: len(names)]
    return None


def _unpure(spec: FunctionSpec) -> FunctionSpec:
    from dataclasses import replace
    return replace(spec, pure=False)


def run_rule(fns, env) -> str | None:
    """Run a rule's transforms in order; FILTERED/DISCARDED if one stopped it."""
    for f in fns:
        r = f(env)
        if r is not None:
            return r
    return None


def _get_S(env):
    return env.S


def _get_T(env):
    return env.T


def _get_U(env):
    return env.U


def _get_P(env):
    return env.P


def _get_R(env):
    return env.root_dict()


def _get_B(env):
    return env.B


__all__ = ["Compiler", "run_rule", "walk_path", "FILTERED", "DISCARDED"]
