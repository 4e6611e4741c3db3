"""`dtl explain`: a deterministic account of what a compiled transform will do.

For each program (a pipe may chain several dtl transforms): its rules with one numbered line
per transform, the functions used (with their registry summaries), datasets and hop aliases,
the `_S` properties read, the `_T` properties written, and the backend of each expression.
"""

from __future__ import annotations

from dtl.backends.closure.compiler import Compiler
from dtl.backends.closure.env import Context, Options
from dtl.backends.pysource.compiler import plan_rule
from dtl.functions.registry import REGISTRY
from dtl.ir.nodes import Call, HopsSpec, Literal, Path, Program, walk
from dtl.ir.printer import compact

# transforms that write the target property named by their first argument
_WRITES_ARG0 = {"add", "add-if", "default"}


def transform_labels(plan, index: int) -> dict:
    """Rule name -> how each transform of program `index` runs, for the plan's backend and
    options, asked of the backends' own planners (the generated-source compiler, the vector
    analysis)."""
    pp = plan.programs[index]
    program = pp.program
    if plan.backend == "closure":
        return {r.name: ["closure"] * len(r.transforms) for r in program.rules}
    if plan.backend == "vector":
        return _vector_plans(program, plan.namespaced)
    comp = Compiler(Context(options=Options.from_dict(plan.opts)))
    comp.program(program)
    plans = {r.name: plan_rule(r, comp) for r in program.rules}
    if pp.batches == "vector":
        # one entity runs the generated code; a batch (apply_each, pipes) runs columnar
        vec = _vector_plans(program, plan.namespaced)["default"]
        plans["default"] = [f"{g}; batches: {v}" for g, v in zip(plans["default"], vec)]
    return plans


def _vector_plans(program: Program, namespaced: bool) -> dict:
    """The default rule per expression on the vector backend; other rules (reached by apply)
    run per entity inside a closure."""
    from dtl.backends.vector.analysis import explain_transform, transform_reason
    out = {}
    for r in program.rules:
        if r.name != "default":
            out[r.name] = ["closure per entity: not the default rule"] * len(r.transforms)
            continue
        why = next((x for x in (transform_reason(t, namespaced) for t in r.transforms) if x),
                   None)
        out[r.name] = [explain_transform(t, namespaced) if why is None else
                       f"closure per entity: the rule has {why}" for t in r.transforms]
    return out


def analyse(plan, index: int = 0) -> dict:
    """What program `index` of a plan does, as plain data (the JSON of `dtl explain`)."""
    pp = plan.programs[index]
    program = pp.written   # as written: `case` is shown, not the `if`s the backends run
    functions, reads, writes, datasets, aliases = set(), set(), set(), set(), set()
    for n in walk(program):
        if isinstance(n, Call):
            functions.add((n.name, n.kind))
            if n.kind == "transform":
                _writes(n, writes, reads)
        elif isinstance(n, Path) and n.head == "_S":
            reads.add(n.elements[0] if n.elements else "*")
        elif isinstance(n, HopsSpec):
            for ds, alias in n.datasets:
                datasets.add(ds)
                aliases.add(f"{alias} = {ds}")
        if isinstance(n, Call) and n.name == "lookup-entity" and n.args and \
                isinstance(n.args[0], Literal):
            datasets.add(str(n.args[0].value))
    rules = []
    plans = transform_labels(plan, index)
    for r, rp in zip(program.rules, pp.rules):
        rules.append({"name": r.name, "line": r.span.line, "entity": rp.entity,
                      **({"batches": rp.batches} if rp.batches is not None else {}),
                      "transforms": [
            {"index": i, "text": compact(t, 100), "backend": plans[r.name][i],
             "line": t.span.line, "column": t.span.column} for i, t in enumerate(r.transforms)]})
    return {
        "rules": rules,
        "functions": [{"name": name, "kind": kind,
                       "summary": REGISTRY.get(name, kind).summary,
                       "category": REGISTRY.get(name, kind).category}
                      for name, kind in sorted(functions)],
        "datasets": sorted(datasets),
        "aliases": sorted(aliases),
        "lookups": _lookups(pp, Options.from_dict(plan.opts)),
        "reads": sorted(reads),
        "writes": sorted(writes),
    }


def _lookups(pp, opts) -> list:
    """The index lookups the hops run (`dataset.path`), for these options: with namespaced
    identifiers a join path with an unqualified element is read like the DTL path (an
    expression key), not looked up."""
    from dtl.functions.hops import plan_hops
    out = set()
    for h in pp.hops:
        steps = h.steps
        if opts.namespaced_identifiers:
            steps, _ = plan_hops(h.spec, opts)
        out.update(f"{s.dataset}.{'.'.join(b.path)}" for s in steps for b in s.branches
                   if b.path is not None)
    return sorted(out)


def _writes(call: Call, writes: set, reads: set):
    name, args = call.name, call.args
    if name in _WRITES_ARG0 and args:
        writes.update(_names(args[0]))
    elif name == "copy" and args:
        writes.update(_names(args[0]))
        reads.update(_names(args[0]))
    elif name == "rename" and len(args) == 2:
        reads.update(_names(args[0]))
        writes.update(_names(args[1]))
    elif name == "make-ni" and len(args) >= 2:
        reads.update(_names(args[1]))
        writes.update(_names(args[2]) if len(args) > 2 else [n + "-ni" for n in _names(args[1])])
    elif name in ("merge", "merge-union"):
        writes.add("*")
    elif name == "create-child":
        writes.add("$children")


def _names(node) -> list[str]:
    """Property names or patterns an argument names statically ("<computed>" otherwise)."""
    if isinstance(node, Literal):
        v = node.value
        if isinstance(v, str):
            return [v]
        if isinstance(v, list):
            return [str(x) for x in v]
    if isinstance(node, Call) and node.name == "list":
        return [n for a in node.args for n in _names(a)]
    return ["<computed>"]


def render_text(plan, file: str | None = None) -> str:
    """`dtl explain` for people: per program its rules (with the backend each runs on and
    how each transform runs), functions, datasets and properties."""
    out = []
    n = len(plan.programs)
    for i in range(n):
        a = analyse(plan, i)
        out.append(f"transform {i + 1} of {n}" + (f" ({file})" if file else ""))
        for r in a["rules"]:
            how = r["entity"] + (f"; batches: {r['batches']}" if "batches" in r else "")
            out.append(f"  rule {r['name']} ({len(r['transforms'])} transforms) [{how}]")
            for t in r["transforms"]:
                out.append(f"    r{t['index']} := {t['text']}  [{t['backend']}]")
        out.append("  functions:")
        for f in a["functions"]:
            out.append(f"    {f['name']:<22} {f['kind']:<10} {f['summary']}")
        out.append("  datasets: " + (", ".join(a["datasets"]) or "-"))
        out.append("  hop aliases: " + (", ".join(a["aliases"]) or "-"))
        out.append("  index lookups: " + (", ".join(a["lookups"]) or "-"))
        out.append("  reads _S: " + (", ".join(a["reads"]) or "-"))
        out.append("  writes _T: " + (", ".join(a["writes"]) or "-"))
    return "\n".join(out)


def render_json(plan) -> dict:
    return {"backend": plan.backend, "options": plan.opts,
            "transforms": [analyse(plan, i) for i in range(len(plan.programs))]}


def draft_json(draft) -> dict:
    """A plan part-way (`dtl explain --after PASS`): per program its IR as the passes so far
    left it and, once checked, its hops join plans."""
    out = []
    for i, p in enumerate(draft.programs):
        t = {"rules": [{"name": r.name, "line": r.span.line, "transforms": [
            {"index": k, "text": compact(c, 100), "line": c.span.line, "column": c.span.column}
            for k, c in enumerate(r.transforms)]} for r in p.rules]}
        if draft.hops is not None:
            t["hops"] = [_hops_json(h) for h in draft.hops[i]]
        out.append(t)
    return {"after": draft.done[-1], "passes": list(draft.done), "transforms": out}


def _hops_json(h) -> dict:
    return {"line": h.spec.span.line, "column": h.spec.span.column,
            "joins": [{"alias": s.alias, "dataset": s.dataset, "on": [
                {"bound": compact(b.bound_side, 60), "new": compact(b.new_side, 60),
                 "index": ".".join(b.path) if b.path is not None else None}
                for b in s.branches]} for s in h.steps],
            "filters": [compact(f, 60) for f in h.filters]}


def render_draft(draft, file: str | None = None) -> str:
    """`draft_json` for people."""
    d = draft_json(draft)
    out = []
    n = len(d["transforms"])
    for i, t in enumerate(d["transforms"]):
        out.append(f"transform {i + 1} of {n}" + (f" ({file})" if file else "") +
                   f", after pass {d['after']}")
        for r in t["rules"]:
            out.append(f"  rule {r['name']} ({len(r['transforms'])} transforms)")
            for c in r["transforms"]:
                out.append(f"    r{c['index']} := {c['text']}  @{c['line']}:{c['column']}")
        for h in t.get("hops", ()):
            out.append(f"  hops @{h['line']}:{h['column']}:")
            for j in h["joins"]:
                on = " or ".join(f"{b['bound']} ~ {b['new']} " +
                                 (f"[index {b['index']}]" if b["index"] else "[expression]")
                                 for b in j["on"])
                out.append(f"    join {j['alias']} = {j['dataset']} on {on}")
            out.extend(f"    filter {f}" for f in h["filters"])
    return "\n".join(out)
