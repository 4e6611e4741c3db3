"""What `update` writes into expected files, byte for byte as the Sesam client writes it."""

from __future__ import annotations

import json

from runtime.testing.spec import TestSpec
from runtime.testing.verify import Options, filter_entity, fix_numbers, sort_entities

EMPTY_EXPECTED = "[]\n"     # a spec whose expected file is missing gets this
EMPTY_SPEC = "{\n}"         # an output pipe without any spec gets this (no final newline)


def expected_json(spec: TestSpec, current: list, opts: Options) -> bytes:
    """Filtered, number-normalised current output; with `ignore_deletes` all deletes dropped."""
    cur = fix_numbers([filter_entity(e, spec.blacklist) for e in current], opts.large_int_bugs)
    if spec.ignore_deletes:
        cur = [e for e in cur if e.get("_deleted", False) is False]
    cur = sort_entities(cur, spec.fields_to_sort_by, opts.unicode_encoding)
    data = (json.dumps(cur, indent="  ", sort_keys=True, ensure_ascii=opts.unicode_encoding)
            + "\n").encode("utf-8")
    if opts.html_escape:  # as Go's encoder did for the client this file format comes from
        data = data.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
    return data


def expected_xml(current: bytes) -> bytes:
    from runtime.testing.xmlpretty import pretty
    return pretty(current).encode("utf-8")
