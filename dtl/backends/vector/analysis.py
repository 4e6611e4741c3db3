"""Which parts of a DTL program the vector backend runs as column kernels: pure functions of
the IR, shared by the compiler and `dtl explain`.

`expr_reason(node)` is None when an expression vectorizes (its kernels still check column
types at run time and hand a column to the registry function per row when they do not match),
else a short reason why the expression runs as closures per row. `transform_reason(call, ns)`
is the same for a top-level transform: a transform that is not columnar makes the rule run per
entity."""

from __future__ import annotations

from dtl.ir.nodes import Call, HopsSpec, Lambda, Literal, Path, label, walk



def native(call: Call) -> bool:
    """Whether the registry declares vector code for the function (FunctionSpec.native): a
    column kernel (compiler.KERNELS, or the special forms if / if-null), or a columnar
    transform."""
    return "vector" in call.spec.native


def pure(node) -> bool:
    """No call in the subtree has effects (hops record dependencies, uuid/now differ per call)."""
    return all(n.spec.pure for n in walk(node) if isinstance(n, Call))


def hops_reason(call: Call, namespaced: bool = False) -> str | None:
    from dtl.backends.closure.env import Options
    from dtl.functions.hops import plan_hops
    if len(call.args) != 1 or not isinstance(call.args[0], HopsSpec):
        return "hops with several specs"
    spec = call.args[0]
    try:
        steps, filters = plan_hops(spec, Options(namespaced) if namespaced else None)
    except Exception:
        return "hops plan error"
    branches = [b for s in steps for b in s.branches]
    if any(b.extra for b in branches):
        return "hops with an or-join whose branches add conditions"
    if any(b.path is None for b in branches):
        if all(isinstance(b.new_side, Path) for b in branches if b.path is None):
            return "hops join on a namespace-aware path (an unqualified element)"
        return "hops join on an expression of the dataset alias"
    if len(spec.datasets) != 1 or spec.subsets or spec.returns is not None or spec.options:
        return "hops beyond one plain eq join"
    if filters or any(expr_reason(b.bound_side, namespaced) is not None for b in branches):
        return "hops beyond one plain eq join"
    return None


def expr_reason(node, namespaced: bool = False) -> str | None:
    if isinstance(node, Literal):
        return None
    if isinstance(node, Path):
        if node.is_alias:
            return "hop alias"
        if node.head not in ("_S", "_T") or not node.elements:
            return f"path {node.head}" + ("" if node.elements else " (whole entity)")
        if node.head == "_S" and node.elements == ("$ids",):
            return "the dynamic _S.$ids (the _id when there is no $ids)"
        return None
    if not isinstance(node, Call) or node.kind != "expression":
        return "not an expression"
    if node.name == "hops":
        return hops_reason(node, namespaced)
    if any(isinstance(a, Lambda) for a in node.args):
        return f"{node.name} takes a function expression"
    if node.name in ("if", "if-null") and not pure(node):
        return f"{node.name} with effects in a branch"
    spec = node.spec
    if not native(node) and (spec.impl is None or spec.needs_env or spec.compiler):
        return f"{node.name} is a special form"
    return None


def describe(node, namespaced: bool = False) -> str:
    """How an expression runs: "vector", "vector (kernel)", or "closure: <reason>"."""
    r = expr_reason(node, namespaced)
    if r is not None:
        return f"closure: {r}"
    if isinstance(node, Call):
        return "vector (kernel)" if native(node) or node.name == "hops" else \
            "vector (per-row call)"
    return "vector"


def transform_reason(call: Call, namespaced: bool) -> str | None:
    name, a = call.name, call.args
    if not native(call):
        return f"transform {name}"
    if namespaced and name in ("add", "default", "copy", "remove"):
        return "namespaced identifiers"
    if name in ("add", "default", "copy", "remove"):
        if not a or not isinstance(a[0], Literal) or type(a[0].value) is not str:
            return f"{name} with a computed property name"
        if name in ("copy", "remove") and (len(a) != 1 or "*" in a[0].value
                                           or "?" in a[0].value):
            return f"{name} with wildcards"
    if name == "default" and not pure(a[1]):
        return "default with effects"
    return None


def pays_in_batches(program, namespaced: bool) -> bool:
    """Whether backend="auto" should run a program's batches columnar: a default rule that is
    columnar and has a columnar hops join, whose batch probe beats one index lookup per
    entity (2.1x for a 1M pipe, bench/RESULTS-pipes.md). Plain maps over dicts gain about nothing from columns once
    the dicts are converted both ways, so auto keeps those row at a time."""
    rule = program.rule("default")
    calls = rule.transforms if rule is not None else ()
    if not calls or any(transform_reason(c, namespaced) for c in calls):
        return False
    return any(isinstance(n, Call) and n.name == "hops" and hops_reason(n, namespaced) is None
               for c in calls for n in walk(c))


def explain_transform(call: Call, namespaced: bool) -> str:
    """The `dtl explain` label of a top-level transform on the vector backend."""
    r = transform_reason(call, namespaced)
    if r is not None:
        return f"closure per entity: {r}"
    parts = []
    for a in call.args:
        for n in _exprs(a, namespaced):
            d = describe(n, namespaced)
            if d.startswith("closure"):
                parts.append(f"{label(n)} -> {d}")
    return "vector" + (f"; {', '.join(dict.fromkeys(parts))}" if parts else "")


def _exprs(node, namespaced: bool = False):
    """The outermost non-vectorizable expressions under a vectorizable one."""
    if expr_reason(node, namespaced) is not None:
        yield node
        return
    if isinstance(node, Call) and node.name != "hops":
        for a in node.args:
            yield from _exprs(a, namespaced)
