"""Pretty-printed XML for comparing publisher output (`endpoint: "xml"`).

The client re-serialises both documents with lxml; we use the standard library's indenter, so
whitespace may differ from lxml's in mixed content, but expected and current go through the same
function, which is all a comparison needs. The XML declaration is kept when the input had one, and
any `standalone` in it counts as "yes" (the client's parsing of that attribute cuts the value
short, which lxml then treats as true).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET


class XMLError(Exception):
    pass


def _declaration(data: bytes) -> tuple[bool, bool]:
    if not data.startswith(b"<?xml "):
        return False, False
    end = data.find(b"?>")
    decl = data[:end] if end > -1 else b""
    parts = decl.split(b"standalone=")
    return True, len(parts) > 1 and parts[1][:1] in (b'"', b"'") and len(parts[1]) > 2


def pretty(data: bytes) -> str:
    has_decl, standalone = _declaration(data)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise XMLError(str(e)) from None
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    head = ""
    if has_decl:
        head = "<?xml version='1.0' encoding='utf-8'" + \
            (" standalone='yes'" if standalone else "") + "?>\n"
    return head + body + "\n"
