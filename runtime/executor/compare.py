"""Datasets of two data directories compared by `_id` and content hash (the executor's
equality check: tests/scale, bench/scale_compat.py)."""

from __future__ import annotations

from storage import Store


def snapshot(data_dir, system=False) -> dict:
    """{dataset: {_id: (content hash, deleted)}} of the latest versions of every dataset
    (`system:` datasets - execution logs - only with `system`)."""
    st = Store(str(data_dir))
    out = {}
    for name in st.names():
        if name.startswith("system:") and not system:
            continue
        ds = st.open(name)
        try:
            out[name] = {e["_id"]: (bytes(e["_hash"]).hex() if isinstance(e["_hash"], bytes)
                                    else str(e["_hash"]), bool(e["_deleted"]))
                         for e in ds.index.scan(deleted=True)}
        finally:
            ds.close()
    return out


def differences(a: dict, b: dict, limit=10) -> list[str]:
    """What differs between two snapshots (empty: equal)."""
    out = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            out.append(f"dataset {name!r} only in {'the first' if name in a else 'the second'}")
            continue
        x, y = a[name], b[name]
        for eid in sorted(set(x) | set(y)):
            if x.get(eid) != y.get(eid):
                out.append(f"{name} {eid!r}: {x.get(eid)} != {y.get(eid)}")
                if len(out) >= limit:
                    return out
    return out
