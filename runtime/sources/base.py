"""The source protocol: `read(since)` yields `Batch`es; each carries the continuation value to
save once the batch has been written. Connectors (SQL, HTTP, CSV) implement the same shape."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Batch:
    entities: list
    since: object = None           # continuation value after this batch (None: not continuable)
    errors: list = field(default_factory=list)   # [(entity or stub, message)]: bad rows/lines


@dataclass
class Source:
    """Base class. `supports_since` + `is_chronological`: offsets are saved per batch; a source
    without since support is read whole on every run (a full run)."""

    pipe: object = None
    batch_size: int = 100
    supports_since: bool = False
    is_chronological: bool = False
    datasets: tuple = field(default_factory=tuple)   # datasets read (for populated checks)
    on_event = None   # set by the pump: on_event(kind, message, **fields) (connector retries)

    def read(self, since):  # pragma: no cover - interface
        raise NotImplementedError

    def get(self, entity_id):
        """The current source entity with `_id` (dependency tracking re-reads); None if absent."""
        return None

    def lookup(self, path, values) -> list[dict]:
        """Source entities whose `path` overlaps `values` (inverse of a hop's source side)."""
        return []

    def dependents(self, path, values):
        """Keys of source entities to re-read when a hopped-to entity with these join values
        changed (default: `_id`s through `lookup`)."""
        return {e["_id"] for e in self.lookup(path, values)}

    def refetch(self, keys, limit):
        """Batches of the source entities for `keys`, skipping any newer than `limit` (the
        continuation value: the normal read covers those)."""
        for ch in chunks(sorted(keys), self.batch_size):
            out = []
            for k in ch:
                e = self.get(k)
                if e is not None and not (limit is not None and e.get("_updated", -1) > limit):
                    out.append(e)
            yield out

    def populated(self) -> bool:
        return True

    def close(self):
        pass


def chunks(iterable, size):
    buf = []
    for e in iterable:
        buf.append(e)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf
