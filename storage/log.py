"""The commit log: one checksummed JSON record per line; the line is the commit point.

A record is `<crc32 of the JSON, 8 hex> <JSON>\n`. A torn or corrupt tail (a crash while
appending) is ignored by readers and cut off by the next writer. Every record has `seq`
(1, 2, ...) and `kind`:

* `append`  — `segment` (file, first, last, rows, bytes), counts, `meta`
* `meta`    — `meta` only (e.g. a pipe's since-marker without data) and flags
* `compact` — `remove` (segment files) and `add` (new segments holding surviving rows)
"""

from __future__ import annotations

import os
import zlib

import orjson


def encode(rec: dict) -> bytes:
    body = orjson.dumps(rec)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def parse(data: bytes, first_seq: int = 1) -> tuple[list[dict], int]:
    """Valid records at the start of `data` (the first must have `seq` first_seq), and the byte
    length of that valid prefix."""
    recs, pos = [], 0
    n = len(data)
    while pos < n:
        end = data.find(b"\n", pos)
        if end < 0:
            break  # torn tail
        line = data[pos:end]
        if len(line) < 10 or line[8:9] != b" ":
            break
        body = line[9:]
        try:
            if int(line[:8], 16) != zlib.crc32(body):
                break
            rec = orjson.loads(body)
        except ValueError:
            break
        if rec.get("seq") != first_seq + len(recs):
            break
        recs.append(rec)
        pos = end + 1
    return recs, pos


def read(path: str, pos: int = 0, first_seq: int = 1) -> tuple[list[dict], int]:
    """Valid records from byte `pos` on (the first has `seq` first_seq), and the byte position
    where the valid records end."""
    try:
        with open(path, "rb") as f:
            if pos:
                f.seek(pos)
            data = f.read()
    except FileNotFoundError:
        return [], pos
    recs, n = parse(data, first_seq)
    return recs, pos + n


class LogWriter:
    """Appends records durably; truncates a torn tail when opened.

    Opened at a checkpoint (`start` = (position, seq) of its last commit), it parses only the
    tail after it: `records` then holds the commits after `base_seq`."""

    def __init__(self, path: str, fsync: bool = True, start: tuple[int, int] | None = None):
        self.path = path
        self.fsync = fsync
        pos, seq = start or (0, 0)
        recs, valid = read(path, pos, seq + 1)
        self.base_seq = seq
        self.records = recs
        self.pos = valid
        self.last_line = b""
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(fd).st_size != valid:
            os.ftruncate(fd, valid)
            os.fsync(fd)
        os.lseek(fd, valid, os.SEEK_SET)
        self.fd = fd

    @property
    def next_seq(self) -> int:
        return self.base_seq + len(self.records) + 1

    def all_records(self) -> list[dict]:
        """Every record from the first (re-read when opened at a checkpoint)."""
        if self.base_seq == 0:
            return self.records
        return read(self.path)[0][:self.next_seq - 1]

    def append(self, rec: dict) -> dict:
        rec = {"seq": self.next_seq, **rec}
        data = encode(rec)
        n = os.write(self.fd, data)
        if n != len(data):  # pragma: no cover - disk full; the torn tail is cut on reopen
            raise OSError("short write to commit log")
        if self.fsync:
            os.fsync(self.fd)
        self.records.append(rec)
        self.pos += n
        self.last_line = data
        return rec

    def forget(self) -> None:
        """Drop the records held in memory (the caller keeps the state they make up)."""
        self.base_seq += len(self.records)
        self.records = []

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
