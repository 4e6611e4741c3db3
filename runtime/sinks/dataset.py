"""`dataset` sink: appends changed versions with the pipe state in the same commit, writes
`_filtered` entities as deletes of live ids, and tracks deletions after full runs
(entities-and-datasets.md §4.5-§4.7).

Writes are grouped: many batches (the pipe's `batch_size`, Sesam's unit of transform and
error handling) make one storage commit (see storage.Dataset), which carries the state of its
last batch; `finish` and `close` commit what is staged."""

from __future__ import annotations

from runtime.sinks.base import Sink

STATE_KEY = "pump"


class DatasetSink(Sink):
    atomic_state = True
    groups = True
    populates = True

    def __init__(self, store, component, pipe_id):
        self.name = component.get("dataset") or pipe_id
        self.deletion_tracking = bool(component.get("deletion_tracking", True))
        self.mark = bool(component.get("mark_deletion_tracked", False))
        self.indexes = component.get("indexes") or ()
        self.ds = store.open(self.name, writer=True, create=True)
        self.seen = None
        self.run_started = None

    def begin(self, full):
        self.seen = set() if full and self.deletion_tracking else None
        self.run_started = self.ds.last_offset

    def write(self, entities, state, strict=False):
        """Append a batch with `state` in the same commit; returns (stored, problems), where
        problems are entities storage refused: [(position in `entities`, _id, message)]."""
        ds = self.ds
        out, origin = [], []      # origin[i]: position in `entities` of out[i]
        seen = self.seen
        for pos in _last_of_each(entities):
            e = entities[pos]
            if seen is not None:
                seen.add(e.get("_id"))
            if "_filtered" in e:
                if not e["_filtered"]:
                    e = {k: v for k, v in e.items() if k != "_filtered"}
                    out.append(e)
                    origin.append(pos)
                    continue
                cur = ds.get(e["_id"]) if isinstance(e.get("_id"), str) else None
                if cur is None or cur["_deleted"]:
                    continue
                e = dict(e)
                e["_deleted"] = True
                e.pop("_filtered", None)
            out.append(e)
            origin.append(pos)
        st = ds.append(out, meta={STATE_KEY: state} if state is not None else None,
                       skip_invalid=not strict, group=not strict)
        return st.stored, [(origin[pos] if pos is not None and pos < len(origin) else pos,
                            eid, msg) for pos, eid, msg in st.problems]

    def flush(self):
        self.ds.flush()

    def finish(self, state, full, ok):
        n = 0
        if ok and full and self.seen is not None:
            n = self.ds.track_deletions(self.seen, self.run_started, mark=self.mark,
                                        meta={STATE_KEY: state})
        elif state is not None:
            self.save_state(state)
        self.seen = None
        return n

    def load_state(self):
        return self.ds.meta.get(STATE_KEY)

    def save_state(self, state):
        self.ds.commit_meta({STATE_KEY: state})

    def set_populated(self):
        if not self.ds.populated:
            self.ds.set_populated(True)

    def close(self):
        self.ds.close()


def _last_of_each(entities):
    """Positions of the entities to store: an `_id` given twice in one batch is stored once,
    as its last occurrence (storing both would alternate the two versions on every run, and
    the pipe would never settle). Entities without a string `_id` are all kept: storage
    reports each of them."""
    last = {}
    for i, e in enumerate(entities):
        eid = e.get("_id")
        last[eid if isinstance(eid, str) else (None, i)] = i
    if len(last) == len(entities):
        return range(len(entities))
    return sorted(last.values())
