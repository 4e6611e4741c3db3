"""`json` source: a JSON array or NDJSON (one entity per line) from a url system (HTTP, or a
`file:` url), parsed as a stream: memory stays bounded by the batch, not the document.

Since: with `supports_since` the saved value is sent as the `since` request parameter; it is
the `_updated` of the last entity (after each batch when `is_chronological`, else when the
read completes). `page_size` (with since, chronological) pages with `limit` until a page
comes back short. Bad NDJSON lines and non-entities are reported, the rest read on; a
malformed JSON array cannot be resynchronised, so its reading stops at the error."""

from __future__ import annotations

import io
import json as _json

import orjson

from dtl import transit
from runtime.sources.base import Batch, Source

CHUNK = 1 << 16
MAX_ELEMENT = 64 << 20


class JsonSource(Source):
    def __init__(self, pipe, component, batch_size, hub):
        c = component
        self.system = hub.systems.get(c["system"])
        self.url = self.system.url(c["url"])
        self.headers = {str(k): str(v) for k, v in (c.get("headers") or {}).items()}
        since_ok = bool(c.get("supports_since", False))
        chrono = bool(c.get("is_chronological", False))
        self.page_size = c.get("page_size") if since_ok and chrono else None
        self.on_event = None
        super().__init__(pipe, batch_size, supports_since=since_ok, is_chronological=chrono)

    def read(self, since):
        mark = since
        while True:
            params = {}
            if self.supports_since and mark is not None:
                params["since"] = mark if isinstance(mark, str) else _json.dumps(mark)
            if self.page_size:
                params["limit"] = str(self.page_size)
            n, before = 0, mark
            with self.system.open(self.url, params=params or None, headers=self.headers,
                                  pump=self.pipe.pump, on_retry=self._retry) as f:
                ents, errs = [], []
                for item in iter_json(f):
                    if isinstance(item, Bad):
                        errs.append((item.stub(), item.message))
                    else:
                        e, err = _entity(item)
                        if err:
                            errs.append((e, err))
                        else:
                            ents.append(e)
                            n += 1
                            if "_updated" in e and e["_updated"] is not None:
                                mark = transit.encode(e["_updated"])
                    if len(ents) + len(errs) >= self.batch_size:
                        yield Batch(ents, self._mark(mark), errs)
                        ents, errs = [], []
                if ents or errs:
                    yield Batch(ents, self._mark(mark), errs)
            if not self.page_size or n < int(self.page_size) or mark == before:
                break
        if self.supports_since and not self.is_chronological and mark is not None:
            yield Batch([], mark)

    def _mark(self, mark):
        return mark if self.supports_since and self.is_chronological else None

    def _retry(self, message, status):
        if self.on_event is not None:
            self.on_event("read-retry", message, status=status)


def _entity(item):
    if not isinstance(item, dict):
        return {"type": type(item).__name__}, "not a JSON object"
    try:
        e = transit.decode(item)
    except Exception as ex:  # noqa: BLE001 - a bad transit value is this entity's problem
        return item, f"bad value: {ex}"
    if not isinstance(e.get("_id"), str):
        return item, "entity has no string _id"
    return e, None


class Bad:
    """Where the text does not parse. Only the place and the length go into events: the text
    itself may be anything the url reaches, and error events are read by others."""

    def __init__(self, where, text, message):
        self.where, self.length, self.message = where, len(text), message

    def stub(self):
        return {"line": self.where, "length": self.length}


def iter_json(f):
    """Values of a JSON array or of NDJSON lines from a binary stream; `Bad` for a line
    (or the array position) that does not parse."""
    first = f.peek(1)[:1] if hasattr(f, "peek") else b""
    while first in (b" ", b"\n", b"\r", b"\t", b"\xef"):
        if first == b"\xef":          # a UTF-8 byte order mark
            f.read(3)
        else:
            f.read(1)
        first = f.peek(1)[:1]
    if first == b"[":
        yield from _array(io.TextIOWrapper(f, encoding="utf-8"))
        return
    for no, line in enumerate(f, 1):
        line = line.strip()
        if not line:
            continue
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError as ex:
            yield Bad(no, line.decode("utf-8", "replace"), f"line {no}: {ex}")


def _array(text):
    dec = _json.JSONDecoder()
    buf, pos, eof, index = text.read(CHUNK), 0, False, 0
    pos = buf.index("[") + 1
    while True:
        while True:            # skip separators, reading more when the buffer runs out
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buf) or eof:
                break
            more = text.read(CHUNK)
            buf, pos, eof = buf[pos:] + more, 0, not more
        if pos >= len(buf):
            yield Bad(index, "", "unexpected end of the JSON array")
            return
        if buf[pos] == "]":
            return
        try:
            value, end = dec.raw_decode(buf, pos)
        except RecursionError:     # the stdlib decoder recurses per level
            yield Bad(index, "", f"element {index}: nested too deep")
            return
        except ValueError as ex:
            if eof or len(buf) - pos > MAX_ELEMENT:
                yield Bad(index, buf[pos:pos + 200], f"element {index}: {ex}")
                return
            more = text.read(CHUNK)
            buf, pos, eof = buf[pos:] + more, 0, not more
            continue
        if end >= len(buf) and not eof and not isinstance(value, (dict, list, str)):
            more = text.read(CHUNK)    # a number cut at the buffer's end may go on
            buf, pos, eof = buf[pos:] + more, 0, not more
            continue
        yield value
        index += 1
        pos = end
        if pos > CHUNK:
            buf, pos = buf[pos:], 0
