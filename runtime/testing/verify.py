"""How the Sesam client compares a pipe's current output with an expected file (test-runner.md §6).

Only the current output is filtered and number-normalised; expected files are used as stored.
Everything here works on plain JSON values (what the Sesam API would have sent, parsed by the
standard JSON parser), never on DTL values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase

from runtime.testing.diff import unified
from runtime.testing.spec import TestSpec

# the longest integer an old JavaScript client still printed exactly: len("9007199254740991")
_SAFE_DIGITS = 16


def blacklisted(path: list, patterns: list) -> bool:
    """`path` (keys from the entity root) matches a blacklist pattern.

    As in the client: fnmatch on the dotted path, "[]." means ".*.", "*" crosses dots. Ours on
    top: a pattern containing "\\." names a key that itself contains a dot.
    """
    if not patterns:
        return False
    dotted = ".".join(path)
    escaped = None
    for pattern in patterns:
        pat = pattern.replace("[].", ".*.")
        if fnmatchcase(dotted, pat):
            return True
        if "\\." in pat:
            if escaped is None:
                escaped = ".".join(k.replace(".", "\\.") for k in path)
            if fnmatchcase(escaped, pat):
                return True
    return False


def filter_entity(entity, blacklist: list):
    """Drop blacklisted keys and internal ("_") keys except `_id` and `_deleted: true`."""
    def walk(path, value):
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                p = path + [k]
                if blacklisted(p, blacklist):
                    continue
                if k.startswith("_"):
                    if k == "_id" or (k == "_deleted" and v is True):
                        out[k] = v
                    continue
                out[k] = walk(p, v)
            return out
        if isinstance(value, list):
            return [walk(path, v) for v in value]  # list items keep their parent's path
        return value
    return walk([], entity)


def fix_numbers(value, large_int_bugs: bool = True):
    """Floats/decimals printed with a trailing ".0" become ints; with `large_int_bugs`, ints
    longer than 16 characters lose precision through a float, as the old client did."""
    if isinstance(value, dict):
        return {k: fix_numbers(v, large_int_bugs) for k, v in value.items()}
    if isinstance(value, list):
        return [fix_numbers(v, large_int_bugs) for v in value]
    if isinstance(value, float | Decimal):
        if str(value).endswith(".0"):
            return int(value)
    elif large_int_bugs and isinstance(value, int) and not isinstance(value, bool):
        if len(str(value)) > _SAFE_DIGITS:
            return int(Decimal(str(float(value))))
    return value


class SortError(Exception):
    pass


def sort_entities(entities: list, fields: list, ensure_ascii: bool = False) -> list:
    """Sort by the `fields_to_sort_by` values (objects as sorted-key JSON), then the whole
    entity as sorted-key JSON. The client crashes on values Python cannot order; we say why."""
    def key(e):
        k = []
        for f in fields:
            v = e.get(f) if isinstance(e, dict) else None
            if isinstance(v, dict):
                v = json.dumps(v, ensure_ascii=ensure_ascii, sort_keys=True)
            k.append(v)
        k.append(json.dumps(e, ensure_ascii=ensure_ascii, sort_keys=True))
        return k
    try:
        return sorted(entities, key=key)
    except TypeError as e:
        raise SortError(f"cannot sort entities by {fields}: values of different types ({e})") \
            from None


@dataclass
class Options:
    large_int_bugs: bool = True        # off with --no-large-int-bugs
    unicode_encoding: bool = False     # --unicode-encoding: ensure_ascii in sort keys/update
    html_escape: bool = True           # off with --disable-json-html-escape (update only)


@dataclass
class Outcome:
    passed: bool
    kind: str = ""       # "", "length", "content", "error"
    message: str = ""
    diff: str = ""


def _pretty(entities) -> str:
    return json.dumps(entities, indent=2, sort_keys=True, ensure_ascii=False)


def compare_json(spec: TestSpec, expected: list, current: list, opts: Options) -> Outcome:
    """`expected` as read from the expected file, `current` as the API returned it."""
    if not isinstance(expected, list):
        return Outcome(False, "error", f"expected file '{spec.file}' does not hold a JSON array")
    fields = spec.fields_to_sort_by
    exp = sort_entities(expected, fields, opts.unicode_encoding)
    cur = [filter_entity(e, spec.blacklist) for e in current]
    if spec.ignore_deletes:
        # ids compared as JSON text: an `_id` may be any JSON value, or blacklisted away
        wanted = {json.dumps(e.get("_id"), sort_keys=True) for e in expected
                  if isinstance(e, dict) and e.get("_deleted", False) is True}
        cur = [e for e in cur if not (e.get("_deleted", False) is True and
                                      json.dumps(e.get("_id"), sort_keys=True) not in wanted)]
    cur = sort_entities(fix_numbers(cur, opts.large_int_bugs), fields, opts.unicode_encoding)
    a, b = _pretty(exp), _pretty(cur)
    if len(exp) != len(cur):
        return Outcome(False, "length", f"Pipe verify failed! Length mismatch for test spec "
                       f"'{spec.path}': expected {len(exp)} got {len(cur)}",
                       unified(a, b, spec.file, "current-output.json"))
    if a != b:
        return Outcome(False, "content", f"Pipe verify failed! Content mismatch for test spec "
                       f"'{spec.file}'", unified(a, b, spec.file, "current-output.json"))
    return Outcome(True)


def compare_bytes(spec: TestSpec, expected: bytes, current: bytes) -> Outcome:
    if expected == current:
        return Outcome(True)
    for enc in ("utf-8", "latin-1"):
        try:
            diff = unified(expected.decode(enc), current.decode(enc), spec.file,
                           "current_data.txt")
            break
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes anything
            continue
    return Outcome(False, "content", "Pipe verify failed! Content mismatch", diff)


def compare_xml(spec: TestSpec, expected: bytes, current: bytes) -> Outcome:
    from runtime.testing.xmlpretty import XMLError, pretty
    try:
        a, b = pretty(expected), pretty(current)
    except XMLError:
        if expected == current:
            return Outcome(True)
        return Outcome(False, "content", "Pipe verify failed! Content mismatch! (not parseable "
                       "as XML, compared byte by byte)")
    if a == b:
        return Outcome(True)
    return Outcome(False, "content", "Pipe verify failed! Content mismatch",
                   unified(a, b, spec.file, "current_data.xml"))
