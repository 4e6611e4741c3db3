"""Immutable Parquet segments: one per committed batch (and per compaction output).

Rows are in offset order. System columns: `offset`, `_id`, `deleted`, `ts`, `hash` (16 bytes),
`previous` (null for a first version), `body` (canonical bytes, see `hashing`). A top-level
property whose non-null values in the segment all share one scalar type is also stored as a
typed column `p:<name>`, so columnar readers need not parse bodies; so is one whose values are
all lists or all dicts when Arrow holds them exactly (list/struct of those scalar types, every
dict with every field of the struct, no int among floats: see `_exact`). When every body in the
segment has the property (a null there is a JSON null, not an absent property), its field
carries the metadata `dtl.present: all`; without it a null may be either.
"""

from __future__ import annotations

import os
from collections import Counter
from itertools import chain
from operator import itemgetter

import pyarrow as pa
import pyarrow.parquet as pq

from storage.errors import StorageError

SYSTEM = ("offset", "_id", "deleted", "ts", "hash", "previous", "body")
# optional: a version's key in its writer's order (storage/partitioned.py), bytes that sort
# as the versions were written; segments of unpartitioned datasets do not have it
ORDER = "order"
PROP = "p:"
MAX_TYPED = 64  # keeps wide, heterogeneous batches from producing huge schemas
# Parquet levels a typed column may take (a list takes two, a struct one): Parquet readers
# refuse schemas deeper than 100, and a segment written deeper could never be read again
MAX_LEVELS = 32
ROW_GROUP = 16_384
_ARROW = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
_NONE = type(None)
_STR, _I64, _F64, _BOOL, _NULL = pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.null()
PRESENT = {b"dtl.present": b"all"}

SCHEMA = pa.schema([
    ("offset", pa.int64()), ("_id", pa.string()), ("deleted", pa.bool_()), ("ts", pa.int64()),
    ("hash", pa.binary(16)), ("previous", pa.int64()), ("body", pa.binary()),
])


def typed_columns(bodies: list[dict]) -> tuple[dict[str, pa.Array], set]:
    """({`p:<name>`: column}, the names of those every body has)."""
    cnt = Counter(chain.from_iterable(bodies))   # how many bodies have each key
    cnt.pop("_id", None)
    cnt.pop("_deleted", None)
    if len(cnt) > MAX_TYPED:
        return {}, set()
    n = len(bodies)
    out, present = {}, set()
    for k in sorted(cnt):
        vals = list(map(itemgetter(k), bodies)) if cnt[k] == n else [b.get(k) for b in bodies]
        types = set(map(type, vals))
        types.discard(_NONE)
        if len(types) != 1:
            continue
        pt = types.pop()
        t = _ARROW.get(pt)
        try:
            if t is not None:
                arr = pa.array(vals, t)
            elif pt is list or pt is dict:
                arr = pa.array(vals)
                if _levels(arr.type) > MAX_LEVELS or not _exact(vals, arr.type):
                    continue
            else:
                continue
        except (OverflowError, TypeError, ValueError, pa.ArrowException):
            continue   # integers beyond int64, mixed nested types: the body only
        out[PROP + k] = arr
        if cnt[k] == n:
            present.add(PROP + k)
    return out, present


_LEAF = {_STR: str, _I64: int, _F64: float, _BOOL: bool}


def _levels(t: pa.DataType) -> int:
    """The Parquet schema levels of a nested type (iterative: types may nest 128 deep)."""
    deepest, stack = 0, [(t, 0)]
    while stack:
        t, d = stack.pop()
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            stack.append((t.value_type, d + 2))
        elif pa.types.is_struct(t):
            stack.extend((f.type, d + 1) for f in t)
        else:
            deepest = max(deepest, d)
    return deepest


def _exact(vals: list, t: pa.DataType) -> bool:
    """Whether an inferred nested column reads back as exactly `vals` (None for nulls): Arrow
    turns ints among floats into floats and a dict without a field of its struct into a
    null field, and neither is the same DTL value. Walks the values level by level."""
    types = set(map(type, vals))
    types.discard(_NONE)
    if t == _NULL:
        return not types
    want = _LEAF.get(t)
    if want is not None:
        return types <= {want}
    if pa.types.is_list(t):
        if not types <= {list}:
            return False
        return _exact(list(chain.from_iterable(v for v in vals if v is not None)),
                      t.value_type)
    if pa.types.is_struct(t):
        w = t.num_fields
        if not w or not types <= {dict}:   # Parquet has no struct without fields
            return False
        ds = [v for v in vals if v is not None]
        if set(map(len, ds)) - {w}:
            return False
        return all(_exact(list(map(itemgetter(f.name), ds)), f.type) for f in t)
    return False


def is_present(field: pa.Field) -> bool:
    """Whether a typed column's nulls are JSON nulls (every row has the property)."""
    return bool(field.metadata) and field.metadata.get(b"dtl.present") == b"all"


def build_table(offsets, ids, deleted, ts, hashes, previous, bodies, typed=None,
                present=(), order=None) -> pa.Table:
    cols = {
        "offset": pa.array(offsets, pa.int64()),
        "_id": pa.array(ids, pa.string()),
        "deleted": pa.array(deleted, pa.bool_()),
        "ts": pa.array(ts, pa.int64()) if not isinstance(ts, int) else pa.repeat(ts, len(ids)).cast(pa.int64()),
        "hash": pa.array(hashes, pa.binary(16)),
        "previous": pa.array(previous, pa.int64()),
        "body": pa.array(bodies, pa.binary()),
    }
    if order is not None:
        cols[ORDER] = pa.array(order, pa.binary())
    if typed:    # from any writer (columnar batches too): a column too deep to read, left out
        cols.update({k: a for k, a in typed.items() if _levels(a.type) <= MAX_LEVELS})
    fields = [pa.field(k, a.type, metadata=PRESENT if k in present else None)
              for k, a in cols.items()]
    return pa.Table.from_arrays(list(cols.values()), schema=pa.schema(fields))


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(table: pa.Table, directory: str, name: str, fsync: bool = True) -> int:
    """Write a segment atomically: temp file, fsync, rename. Returns its size in bytes."""
    tmp = os.path.join(directory, f"tmp-{name}")
    with open(tmp, "wb") as f:
        # no dictionary pages: ids, hashes and bodies are unique (a dictionary is built and
        # then abandoned per column chunk), and plain pages write ~1.6x faster
        pq.write_table(table, f, compression="zstd", row_group_size=ROW_GROUP,
                       write_statistics=["offset"], use_dictionary=False,
                       write_page_checksum=True)
        f.flush()
        if fsync:
            os.fsync(f.fileno())
        size = f.tell()
    os.rename(tmp, os.path.join(directory, name))
    return size


class SegmentError(StorageError, OSError):
    """A segment that cannot be read as written (corrupt, truncated): names the file.
    Pages carry CRC32 checksums (written and verified), so flipped bits are found."""


def _damaged(path, e) -> SegmentError:
    return e if isinstance(e, SegmentError) else \
        SegmentError(f"segment {path} is damaged: {type(e).__name__}: {e}")


def read(path: str, columns=None) -> pa.Table:
    try:
        return pq.read_table(path, columns=columns, page_checksum_verification=True)
    except (OSError, pa.ArrowException) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise _damaged(path, e) from None


def batches(path: str, columns=None, batch_size: int = 8192):
    """Stream a segment in record batches (bounded memory for large segments); `p:*` in
    `columns` stands for every typed column."""
    try:
        pf = pq.ParquetFile(path, page_checksum_verification=True)
    except (OSError, pa.ArrowException) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise _damaged(path, e) from None
    try:
        if columns is not None:
            have = pf.schema_arrow.names
            names = set(have)
            lost = [c for c in columns if c in SYSTEM and c not in names]
            if lost:    # typed columns are optional, these never: a damaged footer
                raise SegmentError(f"segment {path} is damaged: no column {lost[0]!r}")
            star = PROP + "*" in columns
            columns = [c for c in columns if c in names]
            if star:
                columns += [c for c in have if c.startswith(PROP) and c not in columns]
        try:
            yield from pf.iter_batches(batch_size=batch_size, columns=columns)
        except (OSError, pa.ArrowException) as e:
            raise _damaged(path, e) from None
    finally:
        pf.close()


def schema_names(path: str) -> list[str]:
    return pq.read_schema(path).names
