"""Datasets between pipes: what each pipe reads and writes, a run order, and cycles.

(ours, from the stable-run rules of test-runner.md §4) A pass runs pipes upstream first, so a
cycle has no such order and runs in configuration order. A cycle that goes through a hop only
(a pipe joining in data that is downstream of it) settles through dependency tracking. A cycle
made of sources alone feeds entities around the loop, and a pipe whose source is its own sink
re-reads what it just wrote; a node runs such configurations all the same (they settle once
nothing changes), so every cycle is a warning.
"""

from __future__ import annotations

from dtl.errors import Span
from runtime.config.problems import Problems


def source_datasets(source: dict | None) -> tuple:
    if not isinstance(source, dict):
        return ()
    if isinstance(source.get("dataset"), str):
        return (source["dataset"],)
    ds = source.get("datasets")
    if isinstance(ds, str):
        ds = [ds]
    out = []
    for d in ds or ():
        if isinstance(d, str) and d.split():
            out.append(d.split()[0])  # "<dataset> <alias>", as in DTL hops
    return tuple(out)


def order_and_cycles(pipes: list, problems: Problems, spans: dict) -> tuple:
    """`pipes` are objects with id, reads, hops, writes (in configuration order)."""
    writer = {}
    for p in pipes:
        for ds in p.writes:
            if ds in writer and writer[ds] != p.id:
                problems.entity = p.id
                problems.error(f"pipe {p.id!r} writes dataset {ds!r}, which pipe "
                               f"{writer[ds]!r} already writes", spans.get(p.id, Span()),
                               "duplicate-sink", "a dataset has exactly one writing pipe")
            else:
                writer[ds] = p.id
    # edges upstream -> downstream, labelled by how the downstream pipe reads
    edges: dict[str, dict[str, str]] = {p.id: {} for p in pipes}
    for p in pipes:
        for ds in p.reads:
            w = writer.get(ds)
            if w is not None:
                edges[w][p.id] = "source"
        for ds in p.hops:
            w = writer.get(ds)
            if w is not None:
                edges[w].setdefault(p.id, "hops")
    _report_cycles(pipes, edges, problems, spans)
    return _order([p.id for p in pipes], edges)


def _order(ids: list, edges: dict) -> tuple:
    """Kahn's algorithm, ties and cycles broken by configuration order."""
    indeg = {i: 0 for i in ids}
    for u, vs in edges.items():
        for v in vs:
            if v != u:
                indeg[v] += 1
    done, out = set(), []
    while len(out) < len(ids):
        ready = [i for i in ids if i not in done and indeg[i] == 0]
        nxt = ready[0] if ready else next(i for i in ids if i not in done)
        done.add(nxt)
        out.append(nxt)
        for v in edges[nxt]:
            if v != nxt and v not in done:
                indeg[v] -= 1
    return tuple(out)


def _sccs(ids: list, succ) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in ids:
        if start in index:
            continue
        work = [(start, iter(succ(start)))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(succ(nxt))))
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        x = stack.pop()
                        on.discard(x)
                        comp.append(x)
                        if x == node:
                            break
                    out.append(comp)
    return out


def _report_cycles(pipes, edges, problems: Problems, spans):
    ids = [p.id for p in pipes]
    rank = {i: n for n, i in enumerate(ids)}
    by_id = {p.id: p for p in pipes}
    source_only = lambda u: [v for v, how in edges[u].items() if how == "source"]  # noqa: E731
    flagged = set()
    for comp in _sccs(ids, source_only):
        comp.sort(key=rank.get)
        if len(comp) == 1 and comp[0] not in edges[comp[0]]:
            continue
        first = comp[0]
        flagged.update(comp)
        problems.entity = first
        if len(comp) == 1:
            ds = [d for d in by_id[first].reads if d in by_id[first].writes]
            problems.warn(f"pipe {first!r} reads its own sink dataset {ds[0]!r} as its source",
                           spans.get(first, Span()), "dataset-cycle",
                           "every run would re-read what it just wrote")
        else:
            problems.warn("pipes feed each other through their sources: "
                           + " -> ".join(_loop(comp, source_only)),
                           spans.get(first, Span()), "dataset-cycle",
                           "entities would circle the loop and the configuration cannot "
                           "settle; break the loop or read one side through hops")
    for comp in _sccs(ids, lambda u: list(edges[u])):
        comp.sort(key=rank.get)
        if set(comp) <= flagged:
            continue
        if len(comp) == 1:
            p = by_id[comp[0]]
            if comp[0] in edges[comp[0]]:
                problems.warn(f"pipe {p.id!r} hops to its own sink dataset",
                              spans.get(p.id, Span()),
                              "hops-cycle", "this needs batch_size 1 and set_initial_offset "
                              "'onload' on the sink to be reliable")
            continue
        problems.warn("pipes depend on each other through hops: "
                      + " -> ".join(_loop(comp, lambda u: list(edges[u]))),
                      spans.get(comp[0], Span()), "hops-cycle",
                      "they run in configuration order and settle through dependency tracking")


def _loop(comp: list, succ) -> list[str]:
    """One concrete cycle through the first pipe of a strongly connected component."""
    members, start = set(comp), comp[0]
    path, seen = [start], {start}
    node = start
    while True:
        nxt = [v for v in succ(node) if v in members]
        if start in nxt and len(path) > 1:
            return path + [start]
        fresh = [v for v in nxt if v not in seen]
        if not fresh:
            return path + [start]
        node = fresh[0]
        path.append(node)
        seen.add(node)
