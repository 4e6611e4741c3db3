"""Dataset state (what the commit log says up to some commit), kept incrementally, and its
checkpoint file, so neither an append nor opening a long log costs O(log length).

The checkpoint `state.json` holds the state at commit `seq`, the byte length `pos` of the log up
to and including that commit, and the CRC and length of that commit's line. It is a cache:
written atomically (temp + rename) every CHECKPOINT_EVERY commits by the writer, trusted only
when the log still has that very line ending at `pos`, and ignored otherwise (the log is read
from the start, as before checkpoints existed).
"""

from __future__ import annotations

import os

import orjson

from storage import log

CHECKPOINT = "state.json"
CHECKPOINT_EVERY = 64   # commits between checkpoints (a tail of at most this many is parsed)


class State:
    """What the commit log says, up to some commit: segments, offsets, flags, metadata."""

    __slots__ = ("seq", "segments", "last_offset", "meta", "props", "log_exists", "log_deleted")

    def __init__(self, records=()):
        self.seq = 0
        self.segments: list[dict] = []
        self.last_offset = -1
        self.meta: dict = {}
        self.props: dict = {}
        self.log_exists = self.log_deleted = 0
        for r in records:
            self.add(r)

    def add(self, r):
        self.seq = r["seq"]
        k = r["kind"]
        if k == "append":
            s = r["segment"]
            # a new list: a reader iterating the old one keeps a consistent layout
            self.segments = self.segments + [s]
            self.last_offset = s["last"]
            self.log_deleted += s["deleted"]
            self.log_exists += s["rows"] - s["deleted"]
        elif k == "compact":
            gone = set(r["remove"])
            for s in self.segments:
                if s["file"] in gone:
                    self.log_deleted -= s["deleted"]
                    self.log_exists -= s["rows"] - s["deleted"]
            kept = [s for s in self.segments if s["file"] not in gone]
            for s in r["add"]:
                self.log_deleted += s["deleted"]
                self.log_exists += s["rows"] - s["deleted"]
            self.segments = sorted(kept + r["add"], key=lambda s: s["first"])
        if r.get("meta"):
            self.meta = {**self.meta, **r["meta"]}
        if r.get("props"):
            self.props = {**self.props, **r["props"]}

    @property
    def firsts(self):
        return [s["first"] for s in self.segments]

    def as_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_json(cls, d: dict) -> "State":
        st = cls()
        for k in cls.__slots__:
            setattr(st, k, d[k])
        return st


def save_checkpoint(directory: str, st: State, pos: int, line: bytes) -> None:
    body = orjson.dumps({"seq": st.seq, "pos": pos, "line_len": len(line),
                         "line_crc": line[:8].decode(), "state": st.as_json()})
    path = os.path.join(directory, CHECKPOINT)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(body)
    os.replace(tmp, path)


def load_checkpoint(directory: str, log_path: str) -> tuple[State, int] | None:
    """(state, log position) from the checkpoint, if the log still holds its last line."""
    try:
        with open(os.path.join(directory, CHECKPOINT), "rb") as f:
            ck = orjson.loads(f.read())
        pos, n = int(ck["pos"]), int(ck["line_len"])
        fd = os.open(log_path, os.O_RDONLY)
        try:
            line = os.pread(fd, n, pos - n)
        finally:
            os.close(fd)
        recs, valid = log.parse(line, ck["seq"])
        if valid != n or len(recs) != 1 or line[:8].decode() != ck["line_crc"]:
            return None
        st = State.from_json(ck["state"])
        if st.seq != ck["seq"]:
            return None
        return st, pos
    except (OSError, ValueError, KeyError, TypeError):
        return None


class LogState:
    """A State kept in step with a log file read incrementally from the last valid position
    (readers: the log only ever grows past what they have read; the writer's recovery cuts
    only an invalid tail, which no reader accepted)."""

    def __init__(self, directory: str, log_path: str):
        self.dir = directory
        self.path = log_path
        self._reset()

    def _reset(self):
        got = load_checkpoint(self.dir, self.path)
        self.state, self.pos = got if got is not None else (State(), 0)
        self.ahead: list[dict] = []   # read but not yet applied (beyond the index's commit)
        try:
            self.ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            self.ino = None

    def upto(self, seq: int) -> State:
        """The state at commit `seq` (records past it are read and held back)."""
        st = self.state
        last = self.ahead[-1]["seq"] if self.ahead else st.seq
        if seq > last:
            try:
                s = os.stat(self.path)
            except FileNotFoundError:
                return st
            if s.st_ino != self.ino or s.st_size < self.pos:
                self._reset()   # the dataset was deleted and made anew
                return self.upto(seq)
            if s.st_size > self.pos:
                recs, self.pos = log.read(self.path, self.pos, last + 1)
                self.ahead.extend(recs)
            have = self.ahead[-1]["seq"] if self.ahead else st.seq
            if seq > have:
                # the index applies a commit only after its log line is written: a log that
                # ends before the index's commit lost committed lines (truncated, damaged)
                from storage.errors import StorageError
                raise StorageError(f"commit log {self.path} ends at commit {have}, but the "
                                   f"index has applied commit {seq}: the log is truncated or "
                                   "damaged")
        if seq < st.seq:  # an older view (an index rebuilt behind us): read it afresh
            return State(log.read(self.path)[0][:seq])
        while self.ahead and self.ahead[0]["seq"] <= seq:
            st.add(self.ahead.pop(0))
        return st
