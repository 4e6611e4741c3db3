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


def read(path: str) -> tuple[list[dict], int]:
    """Valid records in order, and the byte length of the valid prefix."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return [], 0
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
        if rec.get("seq") != len(recs) + 1:
            break
        recs.append(rec)
        pos = end + 1
    return recs, pos


class LogWriter:
    """Appends records durably; truncates a torn tail when opened."""

    def __init__(self, path: str, fsync: bool = True):
        self.path = path
        self.fsync = fsync
        recs, valid = read(path)
        self.records = recs
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(fd).st_size != valid:
            os.ftruncate(fd, valid)
            os.fsync(fd)
        os.lseek(fd, valid, os.SEEK_SET)
        self.fd = fd

    @property
    def next_seq(self) -> int:
        return len(self.records) + 1

    def append(self, rec: dict) -> dict:
        rec = {"seq": self.next_seq, **rec}
        data = encode(rec)
        n = os.write(self.fd, data)
        if n != len(data):  # pragma: no cover - disk full; the torn tail is cut on reopen
            raise OSError("short write to commit log")
        if self.fsync:
            os.fsync(self.fd)
        self.records.append(rec)
        return rec

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
