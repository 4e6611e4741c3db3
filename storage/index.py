"""Indexes in LMDB (see docs/decisions/index-store.md): the latest version of every `_id`,
superseded offsets, and secondary indexes on property paths.

Databases in one LMDB environment per dataset:

* `primary`  id key -> header (hash 16, offset, ts, previous or -1, deleted) + canonical body.
  Holding the latest body makes `get(_id)` one B-tree lookup, no segment read.
* `sup`      offset (8 bytes big-endian) -> b"": versions no longer latest; latest-only scans
  drop these rows.
* `ix:<path>` (dupsort) value key -> id key, for latest non-deleted versions; nulls never indexed.
* `meta`     `seq` (last commit record applied), `counts`, `indexes`.
* `input`    id key -> digest 16 + offset: the digest of the input bytes (an NDJSON line) the
  version at that offset was stored from, while it is the latest (`dtl dataset put` skips
  parsing a line that is that version's input again). A hint: entries for an older offset
  mean nothing.

The index is derived from the commit log and segments: it records the last commit it applied,
and a writer replays any later commits on open, so it may lag the log but never lead it.
"""

from __future__ import annotations

import math
import os
import struct
import threading
from decimal import Decimal
from hashlib import blake2b

import lmdb
import orjson

from dtl.values import NI, URI, UUID, DateTime

from storage import hashing
from storage.errors import CorruptionError

HEADER = struct.Struct(">16sqqq?")
HLEN = HEADER.size
OFF = struct.Struct(">q")
MAP_SIZE = 1 << 36  # virtual; the file grows as needed
MAX_KEY = 480

_envs: dict[str, list] = {}
_envs_lock = threading.Lock()


# an LMDB meta page (pages 0 and 1, little-endian, 64-bit): after the 16-byte page header,
# magic at 16, the page size (the free database's md_pad) at 40, last page and txnid at 136
_MAGIC = 0xBEEFC0DE
_META = struct.Struct("<I")
_LAST = struct.Struct("<QQ")


def damage(path: str) -> str | None:
    """Why the LMDB file of the environment at `path` cannot be mapped safely, or None.
    LMDB maps the file and follows the pages its newest meta page names: past the end of a
    truncated file that is a SIGBUS, which no error handling catches, so the size is checked
    against the meta pages first. A missing file is a new environment; an empty one was
    truncated (LMDB writes its meta pages when it creates the file), and LMDB would take it
    for a new one: an index with nothing applied, the dataset empty to its readers."""
    f = os.path.join(path, "data.mdb")
    try:
        size = os.path.getsize(f)
        if size == 0:
            return "empty (truncated)"
        with open(f, "rb") as fh:
            head = fh.read(4096)
            if len(head) < 160 or _META.unpack_from(head, 16)[0] != _MAGIC:
                return "not an LMDB file (no meta page)"
            psize = _META.unpack_from(head, 40)[0]
            if psize < 512 or psize & (psize - 1) or size < 2 * psize:
                return f"truncated to {size} bytes, before its second meta page"
            fh.seek(psize)
            metas = [head[:160], fh.read(160)]
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"unreadable: {e.strerror or e}"
    good = [_LAST.unpack_from(m, 136) for m in metas
            if len(m) == 160 and _META.unpack_from(m, 16)[0] == _MAGIC]
    last_pg = max(good, key=lambda lt: lt[1])[0]
    if size < (last_pg + 1) * psize:
        return (f"truncated to {size} bytes; its meta page names {(last_pg + 1) * psize} "
                f"({last_pg + 1} pages of {psize})")
    return None


REBUILT = "the index is derived: the dataset's next writer rebuilds it from the commit log"


def set_aside(path: str) -> None:
    """Move a damaged environment's file out of the way (kept beside it as
    `<path>.damaged.mdb`) so that a new one is built; only a writer does this, holding the
    dataset's writer lock."""
    f = os.path.join(path, "data.mdb")
    if os.path.exists(f):
        os.replace(f, path.rstrip(os.sep) + ".damaged.mdb")
    try:
        os.unlink(os.path.join(path, "lock.mdb"))
    except FileNotFoundError:
        pass


def open_env(path: str) -> lmdb.Environment:
    """LMDB forbids opening one environment twice in a process: share it, reference-counted.
    A damaged file is a CorruptionError naming it (`damage`), never a crash."""
    key = os.path.realpath(path)
    with _envs_lock:
        ent = _envs.get(key)
        if ent is None:
            os.makedirs(path, exist_ok=True)
            why = damage(path)
            if why is not None:
                raise CorruptionError(f"index file {os.path.join(path, 'data.mdb')}: {why} "
                                      f"({REBUILT})")
            # sync off: the index is rebuilt from the fsynced log after an OS crash, and a killed
            # process loses nothing (the page cache survives it)
            try:
                env = lmdb.open(path, map_size=MAP_SIZE, max_dbs=256, subdir=True, sync=False,
                                metasync=False, readahead=False, max_readers=512)
            except lmdb.Error as e:
                raise CorruptionError(f"index file {os.path.join(path, 'data.mdb')}: {e}") \
                    from None
            # the main databases are opened once per environment: open_db takes LMDB's write
            # lock without releasing the GIL, so a reader opening while a writer thread holds a
            # write transaction would deadlock the process
            try:
                dbs = tuple(env.open_db(n) for n in (b"primary", b"sup", b"meta", b"input"))
            except lmdb.Error as e:
                env.close()
                raise CorruptionError(f"index file {os.path.join(path, 'data.mdb')}: {e}") \
                    from None
            ent = _envs[key] = [env, 0, dbs]
        ent[1] += 1
        return ent[0]


def _main_dbs(env: lmdb.Environment):
    with _envs_lock:
        for ent in _envs.values():
            if ent[0] is env:
                return ent[2]
    raise RuntimeError("environment not opened through open_env")


def close_env(env: lmdb.Environment) -> None:
    with _envs_lock:
        for k, ent in list(_envs.items()):
            if ent[0] is env:
                ent[1] -= 1
                if ent[1] == 0:
                    del _envs[k]
                    env.close()
                return


def id_key(eid: str) -> bytes:
    b = eid.encode()
    if len(b) > MAX_KEY or not b:   # LMDB keys are 1..511 bytes: "" is hashed too
        return b"\x00" + blake2b(b, digest_size=32).digest()
    return b


def _keys(eids) -> list[bytes]:
    """The index keys of ids (id_key, with the common case in one comprehension)."""
    keys = list(map(str.encode, eids))
    if keys:
        lens = list(map(len, keys))
        if min(lens) == 0 or max(lens) > MAX_KEY:
            keys = [k if 0 < len(k) <= MAX_KEY else id_key(e) for k, e in zip(keys, eids)]
    return keys


def _num_key(v) -> bytes:
    # DTL equality: 1 == 1.0 == Decimal(1); a decimal equals a float only when exactly equal
    t = type(v)
    if t is int:
        return b"n%d" % v
    if t is float:
        if not math.isfinite(v):
            return b"n" + repr(v).encode()
        if v.is_integer():
            return b"n%d" % int(v)
        return b"n" + repr(v).encode()
    if v == v.to_integral_value():
        return b"n%d" % int(v)
    f = float(v)
    if Decimal(f) == v:
        return b"n" + repr(f).encode()
    sign, digits, exp = v.as_tuple()
    digits = list(digits)
    while digits and digits[-1] == 0:
        digits.pop()
        exp += 1
    return ("d%s%se%d" % ("-" if sign else "", "".join(map(str, digits)), exp)).encode()


def value_key(v) -> bytes | None:
    """Index key bytes: equal under DTL equality iff equal bytes (bool never equals a number)."""
    t = type(v)
    if v is None:
        return None
    if t is str:
        k = b"s" + v.encode()
    elif t is bool:
        k = b"B1" if v else b"B0"
    elif t is int or t is float or t is Decimal:
        k = _num_key(v)
    elif t is NI:
        k = b"i" + v.value.encode()
    elif t is URI:
        k = b"r" + v.value.encode()
    elif t is DateTime:
        k = b"t%d" % v.ns
    elif t is UUID:
        k = b"u" + v.bytes
    elif t is bytes:
        k = b"x" + v
    else:
        k = b"j" + hashing._exact(v if t is dict else {"": v})
    if len(k) > MAX_KEY:
        k = b"h" + blake2b(k, digest_size=32).digest()
    return k


def path_name(path) -> bytes:
    return b"ix:" + orjson.dumps(list(path))


def entity(v, with_body=True) -> dict:
    """Materialize a primary value as an entity with the writer-owned properties."""
    h, off, ts, prev, deleted = HEADER.unpack_from(v)
    e = hashing.decode_body(bytes(v[HLEN:]))
    e["_deleted"] = deleted
    e["_updated"] = off
    e["_previous"] = None if prev < 0 else prev
    e["_ts"] = ts
    e["_hash"] = h.hex()
    return e


class Index:
    def __init__(self, path: str):
        self.path = path
        self.env = open_env(path)
        self.primary, self.sup, self.meta, self.input = _main_dbs(self.env)
        self._ix: dict[bytes, object] = {}

    def close(self):
        if self.env is not None:
            close_env(self.env)
            self.env = None

    # -- metadata ------------------------------------------------------------------------
    def _meta(self, txn, key: bytes, default):
        v = txn.get(key, db=self.meta)
        return default if v is None else orjson.loads(v)

    def seq(self, txn=None) -> int:
        if txn is None:
            with self.env.begin() as txn:
                return self._meta(txn, b"seq", 0)
        return self._meta(txn, b"seq", 0)

    def counts(self) -> dict:
        with self.env.begin() as txn:
            return self._meta(txn, b"counts", {"exists": 0, "deleted": 0})

    def paths(self, txn=None) -> list[tuple]:
        if txn is None:
            with self.env.begin() as txn:
                return [tuple(p) for p in self._meta(txn, b"indexes", [])]
        return [tuple(p) for p in self._meta(txn, b"indexes", [])]

    def _db(self, path, txn=None) -> object:
        # inside a write transaction the handle must be opened with it (LMDB has one writer)
        name = path_name(path)
        db = self._ix.get(name)
        if db is None:
            db = self._ix[name] = self.env.open_db(name, txn=txn, dupsort=True)
        return db

    # -- writing -------------------------------------------------------------------------
    def apply_columns(self, ids, offs, dels, hashes, ts, prevs, bodies, seq: int) -> None:
        """`apply` for one commit given as columns: first versions only and no secondary
        index (a fresh sink's full run) go in one sorted putmulti; anything else is apply."""
        def general():
            return self.apply(zip(ids, offs, dels, hashes, ts, prevs, bodies), seq)
        if prevs.count(None) != len(prevs) or self.paths():
            return general()
        keys = _keys(ids)
        pack = HEADER.pack
        items = sorted(zip(keys, [pack(h, o, t, -1, d) + b for h, o, t, d, b in
                                  zip(hashes, offs, ts, dels, bodies)]))
        if any(a[0] == b[0] for a, b in zip(items, items[1:])):
            return general()   # one key twice (hashed ids colliding): in commit order
        de = sum(map(bool, dels))
        txn = self.env.begin(write=True)
        try:
            if self._meta(txn, b"seq", 0) >= seq or self.paths(txn):
                txn.abort()   # applied already / an index declared since: apply decides
                return general()
            counts = self._meta(txn, b"counts", {"exists": 0, "deleted": 0})
            txn.cursor(db=self.primary).putmulti(items)
            counts["exists"] += len(items) - de
            counts["deleted"] += de
            txn.put(b"counts", orjson.dumps(counts), db=self.meta)
            txn.put(b"seq", orjson.dumps(seq), db=self.meta)
        except BaseException:
            txn.abort()
            raise
        txn.commit()
        return None

    def apply(self, rows, seq: int) -> None:
        """Apply one commit's rows [(eid, offset, deleted, hash, ts, previous, body)] and mark
        commit `seq` applied, in one LMDB transaction (atomic with respect to crashes)."""
        from dtl.provider import path_values
        with self.env.begin(write=True) as txn:
            if self._meta(txn, b"seq", 0) >= seq:
                return  # already applied (replay after a crash between log and index)
            counts = self._meta(txn, b"counts", {"exists": 0, "deleted": 0})
            paths = self.paths(txn)
            dbs = [(p, self._db(p, txn)) for p in paths]
            pget, pput, sput = txn.get, txn.put, txn.put
            primary, sup = self.primary, self.sup
            pack = HEADER.pack
            ex = de = 0
            # first versions (previous None: no older one to supersede) go in one putmulti;
            # the buffer is written before any later version, which may supersede one in it
            fresh = []
            for eid, off, deleted, h, ts, prev, body in rows:
                k = eid.encode()
                if len(k) > MAX_KEY or not k:
                    k = id_key(eid)
                if prev is None and not dbs:
                    fresh.append((k, pack(h, off, ts, -1, deleted) + body))
                    if deleted:
                        de += 1
                    else:
                        ex += 1
                    continue
                if fresh:
                    fresh.sort()   # distinct keys; B-tree inserts in key order are cheaper
                    txn.cursor(db=primary).putmulti(fresh)
                    fresh = []
                old = pget(k, db=primary) if prev is not None else None
                if old is not None:
                    _, ooff, _, _, odel = HEADER.unpack_from(old)
                    sput(OFF.pack(ooff), b"", db=sup)
                    if odel:
                        de -= 1
                    else:
                        ex -= 1
                        if dbs:
                            oe = hashing.decode_body(old[HLEN:])
                            for p, db in dbs:
                                for vk in {value_key(x) for x in path_values(oe, p)}:
                                    txn.delete(vk, k, db=db)
                pput(k, HEADER.pack(h, off, ts, -1 if prev is None else prev, deleted) + body,
                     db=primary)
                if deleted:
                    de += 1
                else:
                    ex += 1
                    if dbs:
                        ne = hashing.decode_body(body)
                        for p, db in dbs:
                            for vk in {value_key(x) for x in path_values(ne, p)}:
                                txn.put(vk, k, db=db)
            if fresh:
                fresh.sort()
                txn.cursor(db=primary).putmulti(fresh)
            counts["exists"] += ex
            counts["deleted"] += de
            txn.put(b"counts", orjson.dumps(counts), db=self.meta)
            txn.put(b"seq", orjson.dumps(seq), db=self.meta)

    def mark_seq(self, seq: int, force: bool = False) -> None:
        with self.env.begin(write=True) as txn:
            if force or self._meta(txn, b"seq", 0) < seq:
                txn.put(b"seq", orjson.dumps(seq), db=self.meta)

    def drop_superseded(self, offsets) -> None:
        with self.env.begin(write=True) as txn:
            for off in offsets:
                txn.delete(OFF.pack(off), db=self.sup)

    def ensure(self, path) -> bool:
        """Create (and fill) a secondary index on `path`; False if it already existed.
        Safe next to a writer: LMDB write transactions are serialized, and the writer maintains
        every index registered when its transaction starts."""
        from dtl.provider import path_values
        path = tuple(path)
        if path in self.paths():
            return False
        db = self._db(path)
        with self.env.begin(write=True) as txn:
            paths = self.paths(txn)
            if path in paths:
                return False
            for k, v in txn.cursor(db=self.primary):
                if v[HLEN - 1]:
                    continue
                e = hashing.decode_body(v[HLEN:])
                for vk in {value_key(x) for x in path_values(e, path)}:
                    txn.put(vk, k, db=db)
            txn.put(b"indexes", orjson.dumps([list(p) for p in paths + [path]]), db=self.meta)
        return True

    def drop_index(self, path) -> None:
        path = tuple(path)
        with self.env.begin(write=True) as txn:
            paths = [p for p in self.paths(txn) if p != path]
            txn.put(b"indexes", orjson.dumps([list(p) for p in paths]), db=self.meta)
            txn.drop(self._db(path, txn), delete=True)
        self._ix.pop(path_name(path), None)

    def clear(self) -> None:
        """Empty every database (before a rebuild from the segments)."""
        with self.env.begin(write=True) as txn:
            paths = self.paths(txn)
            for p in paths:
                txn.drop(self._db(p, txn), delete=False)
            txn.drop(self.primary, delete=False)
            txn.drop(self.sup, delete=False)
            txn.drop(self.meta, delete=False)
            txn.drop(self.input, delete=False)
            txn.put(b"indexes", orjson.dumps([list(p) for p in paths]), db=self.meta)

    # -- reading -------------------------------------------------------------------------
    def get_raw(self, txn, eid: str):
        return txn.get(id_key(eid), db=self.primary)

    def get(self, eid: str) -> dict | None:
        with self.env.begin(buffers=True) as txn:
            v = txn.get(id_key(eid), db=self.primary)
            return None if v is None else entity(v)

    def latest(self, eids):
        """[(hash, offset, ts, previous, deleted) or None] for each id (one read transaction,
        one getmulti)."""
        keys = _keys(eids)
        with self.env.begin() as txn:
            found = txn.cursor(db=self.primary).getmulti(keys)
            if not found:
                return [None] * len(keys)
            unpack = HEADER.unpack_from
            got = {k: unpack(v) for k, v in found}
        return [got.get(k) for k in keys]

    def same_input(self, eids, digests) -> list[bool]:
        """Whether each id's latest version was stored from input with that digest."""
        keys = _keys(eids)
        with self.env.begin() as txn:
            got = dict(txn.cursor(db=self.input).getmulti(keys))
            if not got:
                return [False] * len(keys)
            lat = dict(txn.cursor(db=self.primary).getmulti([k for k in keys if k in got]))
        out = []
        for k, d in zip(keys, digests):
            v, cur = got.get(k), lat.get(k)
            out.append(v is not None and cur is not None and v[:16] == d and
                       v[16:] == cur[16:24])   # the offset of the latest version
        return out

    def record_input(self, eids, digests, offsets) -> None:
        """Note the input digest of the versions at `offsets` (see `same_input`)."""
        pack = OFF.pack
        items = sorted(zip(_keys(eids), [d + pack(o) for d, o in zip(digests, offsets)]))
        with self.env.begin(write=True) as txn:
            txn.cursor(db=self.input).putmulti(items)

    def superseded(self, lo: int, hi: int, txn=None) -> list[int]:
        """Offsets in [lo, hi] that are no longer the latest version of their `_id`."""
        def run(t):
            out = []
            cur = t.cursor(db=self.sup)
            if cur.set_range(OFF.pack(lo)):
                hb = OFF.pack(hi)
                for k in cur.iternext(values=False):
                    if k > hb:
                        break
                    out.append(OFF.unpack(k)[0])
            return out
        if txn is not None:
            return run(txn)
        with self.env.begin() as t:
            return run(t)

    def lookup(self, path, values, deleted=False) -> list[dict]:
        """Latest non-deleted entities whose value at `path` overlaps `values`, in `_id` order."""
        db = self._db(tuple(path))
        keys = set()
        with self.env.begin(buffers=True) as txn:
            cur = txn.cursor(db=db)
            for v in values:
                vk = value_key(v)
                if vk is None or not cur.set_key(vk):
                    continue
                keys.update(bytes(x) for x in cur.iternext_dup())
            out = []
            for k in keys:
                v = txn.get(k, db=self.primary)
                if v is not None and not v[HLEN - 1]:
                    out.append(entity(v))
        out.sort(key=lambda e: e["_id"])
        return out

    def scan(self, deleted=False, txn=None):
        """Latest versions in id-key order (streaming within one read transaction)."""
        with self.env.begin(buffers=True) as txn:
            for _, v in txn.cursor(db=self.primary):
                if v[HLEN - 1] and not deleted:
                    continue
                yield entity(v)

    def ids(self, deleted=False):
        """(id, header) for every latest version, in id-key order."""
        with self.env.begin(buffers=True) as txn:
            for k, v in txn.cursor(db=self.primary):
                hdr = HEADER.unpack_from(v)
                if hdr[4] and not deleted:
                    continue
                if k[:1] == b"\x00":  # hashed long id: the body has it
                    yield hashing.decode_body(bytes(v[HLEN:]))["_id"], hdr
                else:
                    yield bytes(k).decode(), hdr

    def index_entries(self, path):
        """(value key, id key) pairs of a secondary index (for verify)."""
        db = self._db(tuple(path))
        with self.env.begin() as txn:
            yield from txn.cursor(db=db)
