"""`csv` source: a CSV file from a url system (HTTP or a `file:` url), streamed.

Dialect: `dialect` (`excel`, `excel_tab`, `unix_dialect`) if set, else sniffed from the first
64 KiB when `auto_dialect`, else excel; `delimiter` overrides. Header: the first row unless
`has_header` is false; `field_names` win over it. `_id` is `primary_key` (compound keys
joined by ":", ours). Values are strings; empty ones are dropped unless
`preserve_empty_strings`. A row with the wrong number of fields, or without a key, is
reported (with its line number) and the rest are read."""

from __future__ import annotations

import csv
import io
import itertools

from runtime.sources.base import Batch, Source

SAMPLE = 1 << 16
_DIALECTS = {"excel": csv.excel, "excel_tab": csv.excel_tab, "unix_dialect": csv.unix_dialect}


class CsvSource(Source):
    def __init__(self, pipe, component, batch_size, hub):
        c = component
        self.c = c
        self.system = hub.systems.get(c["system"])
        self.url = self.system.url(c["url"])
        pk = c.get("primary_key")
        self.pk = [pk] if isinstance(pk, str) else list(pk or ())
        self.whitelist = list(c.get("whitelist") or ()) or None
        self.blacklist = set(c.get("blacklist") or ())
        self.keep_empty = bool(c.get("preserve_empty_strings", False))
        self.on_event = None
        super().__init__(pipe, batch_size)

    def _dialect(self, sample):
        c = self.c
        d = _DIALECTS.get(c.get("dialect")) if c.get("dialect") else None
        kw = {}
        if d is None and c.get("auto_dialect", True) and sample:
            try:
                d = csv.Sniffer().sniff(sample, delimiters=",;\t|")
            except csv.Error:
                # ragged rows confuse the sniffer: take the header line's commonest separator
                first = sample.splitlines()[0] if sample else ""
                best = max(",;\t|", key=first.count)
                d, kw = csv.excel, ({"delimiter": best} if first.count(best) else {})
        delim = c.get("delimiter")
        # "," is also the catalog default, so only another value overrides a dialect
        if delim is not None and (delim != "," or not (c.get("dialect")
                                                       or c.get("auto_dialect", True))):
            kw["delimiter"] = delim
        return d or csv.excel, kw

    def read(self, since):
        c = self.c
        with self.system.open(self.url, pump=self.pipe.pump, on_retry=self._retry) as raw:
            text = io.TextIOWrapper(raw, encoding=c.get("encoding", "utf-8"),
                                    errors=c.get("decode_error_strategy", "strict"),
                                    newline="")
            sample = text.read(SAMPLE)
            sample += text.readline()
            if sample.startswith("\ufeff"):
                sample = sample[1:]
            lines = itertools.chain(io.StringIO(sample, newline=""), text)
            if c.get("escape_null_bytes"):
                lines = (ln.replace("\0", "\\0") for ln in lines)
            dialect, kw = self._dialect(sample)
            reader = csv.reader(lines, dialect, **kw)
            names = list(c.get("field_names") or ())
            if c.get("has_header", True):
                header = next(reader, None)
                names = names or list(header or ())
            if not names:
                raise ValueError("csv source: no header and no field_names")
            missing = [k for k in self.pk if k not in names]
            if missing:
                # the header's text is not repeated: it may be any file the url reaches
                raise ValueError(f"csv source: primary_key column(s) {missing} not among the "
                                 f"{len(names)} columns of the header")
            ents, errs = [], []
            for row in reader:
                if not row:
                    continue
                e, err = self._entity(names, row, reader.line_num)
                (ents.append(e) if err is None else errs.append((e, err)))
                if len(ents) + len(errs) >= self.batch_size:
                    yield Batch(ents, None, errs)
                    ents, errs = [], []
            if ents or errs:
                yield Batch(ents, None, errs)

    def _entity(self, names, row, line):
        if len(row) != len(names):
            return ({"line": line, "fields": len(row)},
                    f"line {line}: {len(row)} fields, the header has {len(names)}")
        full = dict(zip(names, row))
        keys = [full.get(k) for k in self.pk]
        if any(not k for k in keys):
            return {"line": line}, f"line {line}: empty primary key {self.pk}"
        e = {}
        for k, v in full.items():
            if (self.whitelist is not None and k not in self.whitelist) or k in self.blacklist:
                continue
            if v == "" and not self.keep_empty:
                continue
            e[k] = v
        e["_id"] = ":".join(keys)
        return e, None

    def _retry(self, message, status):
        if self.on_event is not None:
            self.on_event("read-retry", message, status=status)
