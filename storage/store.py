"""A data directory of datasets: `<root>/datasets/<quoted name>/`."""

from __future__ import annotations

import os
import shutil
from urllib.parse import quote, unquote

from storage import partitioned
from storage.dataset import Dataset
from storage.errors import NoSuchDataset, StorageError, WriterLockedError

DEFAULT_ROOT = "dtl-data"


def default_root() -> str:
    return os.environ.get("DTL_DATA") or DEFAULT_ROOT


def group_commit_env() -> tuple[int | None, float | None]:
    """`DTL_GROUP_COMMIT=ROWS[,SECONDS]`: when grouped appends commit (tests and benchmarks
    use it to put commits where they want them; the defaults suit everything else)."""
    v = os.environ.get("DTL_GROUP_COMMIT")
    if not v:
        return None, None
    rows, _, secs = v.partition(",")
    try:
        return int(rows), float(secs) if secs else None
    except ValueError:
        raise StorageError(f"DTL_GROUP_COMMIT must be ROWS[,SECONDS], not {v!r}") from None


class Store:
    def __init__(self, root: str | None = None, fsync: bool = True):
        self.root = root or default_root()
        self.fsync = fsync
        self._base = os.path.join(self.root, "datasets")
        self.group_rows, self.group_seconds = group_commit_env()

    def _dir(self, name: str) -> str:
        if not name or "/" in name or name in (".", "..") or "\0" in name:
            raise StorageError(f"invalid dataset name {name!r}")
        d = quote(name, safe="-_.:@+=,")
        if len(d) > 240:     # a directory name; most filesystems stop at 255 bytes
            raise StorageError(f"invalid dataset name {name[:40]!r}...: too long")
        return os.path.join(self._base, d)

    def names(self) -> list[str]:
        try:
            return sorted(unquote(d) for d in os.listdir(self._base)
                          if os.path.isfile(os.path.join(self._base, d, "log"))
                          or partitioned.is_partitioned(os.path.join(self._base, d)))
        except FileNotFoundError:
            return []

    def exists(self, name: str) -> bool:
        d = self._dir(name)
        return os.path.isfile(os.path.join(d, "log")) or partitioned.is_partitioned(d)

    def is_partitioned(self, name: str) -> bool:
        return partitioned.is_partitioned(self._dir(name))

    def create_partitioned(self, name: str, shards: int) -> None:
        """Lay out dataset `name` as `shards` shards (storage/partitioned.py); a no-op when it
        already is, with that many."""
        partitioned.create(self._dir(name), shards)

    def open_shard(self, name: str, k: int, writer: bool = False) -> Dataset:
        """Shard `k` of a partitioned dataset: a dataset of its own (one writer per shard)."""
        d = self._dir(name)
        n = partitioned.read_layout(d)["shards"]
        if not 0 <= k < n:
            raise StorageError(f"dataset {name!r} has {n} shards, not a shard {k}")
        return self._tuned(Dataset(partitioned.shard_dir(d, k), f"{name}#{k}", writer=writer,
                                   fsync=self.fsync))

    def _tuned(self, ds):
        if self.group_rows is not None:
            ds.group_rows = self.group_rows
        if self.group_seconds is not None:
            ds.group_seconds = self.group_seconds
        return ds

    def open(self, name: str, writer: bool = False, create: bool = False) -> Dataset:
        """A dataset handle. `writer=True` takes the writer lock (WriterLockedError if held);
        `create=True` (writers only) makes the dataset if missing."""
        d = self._dir(name)
        if not self.exists(name):
            if not (create and writer):
                raise NoSuchDataset(name)
            os.makedirs(d, exist_ok=True)
        if partitioned.is_partitioned(d):
            pds = partitioned.PartitionedDataset(d, name, writer=writer, fsync=self.fsync)
            pds.set_group(self.group_rows, self.group_seconds)
            return pds
        return self._tuned(Dataset(d, name, writer=writer, fsync=self.fsync))

    def reader(self, name: str) -> Dataset:
        """A read handle; if no writer is active, first lets a writer recover the dataset
        (so a crashed writer's last committed batch becomes visible)."""
        try:
            self.open(name, writer=True).close()
        except WriterLockedError:
            pass
        return self.open(name)

    def delete(self, name: str) -> None:
        ds = self.open(name, writer=True)  # refuses while someone writes
        try:
            shutil.rmtree(ds.dir)
        finally:
            ds.close()
