"""Datasets that pipes read and write: Parquet segments, a commit log and LMDB indexes.

    from storage import Store
    store = Store("dtl-data")
    with store.open("people", writer=True, create=True) as ds:
        ds.append([{"_id": "1", "name": "Ann"}], meta={"pipe-offset": 17})
        ds.get("1")

`storage` may import `dtl`; `dtl` never imports `storage`.
"""

from storage.dataset import AppendStats, Dataset
from storage.errors import (CorruptionError, EntityError, NoSuchDataset, StorageError,
                            WriterLockedError)
from storage.provider import StoreProvider
from storage.store import Store

__all__ = ["Store", "Dataset", "AppendStats", "StoreProvider", "StorageError", "EntityError",
           "WriterLockedError", "CorruptionError", "NoSuchDataset"]
