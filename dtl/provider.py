"""The dataset-provider protocol that `hops`, `apply-hops` and `lookup-entity` run against.

The storage layer implements it over real datasets and their indexes; `InMemoryProvider`
serves tests, the conformance runner and `dtl transform --datasets`.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Protocol

from dtl.paths import path_values  # noqa: F401  (re-exported: part of the protocol)
from dtl.values import value_key


class DatasetProvider(Protocol):
    def has_dataset(self, dataset: str) -> bool:
        """Whether the dataset exists."""

    def get(self, dataset: str, entity_id) -> dict | None:
        """The latest non-deleted entity with this `_id`, or None."""

    def lookup(self, dataset: str, path: tuple[str, ...], values: list) -> list[dict]:
        """Latest non-deleted entities whose value at `path` overlaps `values` (index lookup).

        Values at the path are flattened (lists match any element); nulls never match.
        Results are in `_id` order, without duplicates.
        """

    def scan(self, dataset: str) -> Iterator[dict]:
        """Every latest non-deleted entity, in `_id` order (used for non-indexable joins)."""

    def derived(self, dataset: str) -> dict:
        """A cache for what backends derive from a dataset's content (the vector backend's
        columnar view, hops' expression indexes), emptied whenever that content changes."""


DELETED = ("_deleted",)


def live_match(values) -> bool:
    """A join on `alias._deleted` sees only live entities (hops never return deleted ones),
    whose `_deleted` is false: it matches all of them when `values` hold false, else none
    (real configurations join `["eq", "_S._deleted", "gp._deleted"]` to mean "every live
    entity", then filter)."""
    return any(v is False for v in values)


def _sort_id(e: dict):
    from dtl.values import order_key
    return order_key(e.get("_id"))


class NullProvider:
    """No datasets at all."""

    def has_dataset(self, dataset):
        return False

    def get(self, dataset, entity_id):
        return None

    def lookup(self, dataset, path, values):
        return []

    def scan(self, dataset):
        return iter(())

    def derived(self, dataset):
        return {}   # nothing to derive from: a fresh, empty cache


class InMemoryProvider:
    """Datasets held as lists of entities, with lazily built per-path indexes."""

    def __init__(self, datasets: dict[str, Iterable[dict]] | None = None):
        self._data: dict[str, list[dict]] = {}
        self._by_id: dict[str, dict] = {}
        self._indexes: dict[tuple, dict] = {}
        self._derived: dict[str, dict] = {}
        for name, ents in (datasets or {}).items():
            self.put(name, ents)

    def put(self, dataset: str, entities: Iterable[dict]):
        """Replace a dataset's content (latest versions; `_deleted: true` entities are kept
        but never returned)."""
        latest: dict = {}
        for e in entities:
            latest[value_key(e.get("_id"))] = e
        live = sorted((e for e in latest.values() if e.get("_deleted") is not True), key=_sort_id)
        self._data[dataset] = live
        self._by_id[dataset] = {value_key(e.get("_id")): e for e in live}
        self._indexes = {k: v for k, v in self._indexes.items() if k[0] != dataset}
        self._derived.pop(dataset, None)

    def derived(self, dataset) -> dict:
        """A cache for views that backends derive from a dataset's content (the vector
        backend keeps a columnar copy here); emptied whenever the dataset is replaced."""
        return self._derived.setdefault(dataset, {})

    def has_dataset(self, dataset):
        return dataset in self._data

    def get(self, dataset, entity_id):
        return self._by_id.get(dataset, {}).get(value_key(entity_id))

    def _index(self, dataset, path):
        key = (dataset, path)
        idx = self._indexes.get(key)
        if idx is None:
            idx = {}
            for pos, e in enumerate(self._data.get(dataset, ())):
                for v in path_values(e, path):
                    idx.setdefault(value_key(v), []).append(pos)
            self._indexes[key] = idx
        return idx

    def lookup(self, dataset, path, values):
        if tuple(path) == DELETED:
            return list(self.scan(dataset)) if live_match(values) else []
        idx = self._index(dataset, tuple(path))
        hits = set()
        for v in values:
            if v is None:
                continue
            hits.update(idx.get(value_key(v), ()))
        data = self._data.get(dataset, ())
        return [data[i] for i in sorted(hits)]

    def scan(self, dataset):
        return iter(self._data.get(dataset, ()))
