"""Date and time functions (dtl-functions-date-and-time.rst, timezones.rst).

Datetimes are `DateTime` values: UTC instants in integer nanoseconds. Python's datetime only
reaches microseconds, so calendar work is done on whole seconds and the fraction of a second
is carried beside it as an integer number of nanoseconds.

Timezones come from the IANA database through `zoneinfo` (the `tzdata` package supplies it
where the system has none).
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
import re
import time
import zoneinfo

from dtl.errors import DTLRuntimeError
from dtl.functions._common import convert_each, first_is
from dtl.functions.registry import expression
from dtl.values import NS_PER_S, DateTime

_UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
_ZERO = _dt.timedelta(0)

# Marks an input value that a function skips ("silently ignored" in the docs).
_SKIP = object()


def _map_skipping(values, fn):
    """Apply `fn` to a value or to each element of a list; `_SKIP` results are left out.

    A single skipped value gives null; nulls are skipped without calling `fn`.
    """
    return convert_each(values, fn, _SKIP)


def _split(dt: DateTime) -> tuple[_dt.datetime, int]:
    """The instant as (aware UTC datetime at whole seconds, nanoseconds into that second)."""
    secs, frac = divmod(dt.ns, NS_PER_S)
    return _EPOCH + _dt.timedelta(seconds=secs), frac


def _join(d: _dt.datetime, frac: int) -> DateTime:
    """An aware (or naive UTC) datetime at whole seconds plus a nanosecond fraction."""
    try:
        return DateTime.from_datetime(d.replace(microsecond=0), frac)
    except (ValueError, OverflowError) as e:
        raise DTLRuntimeError(f"datetime out of range: {e}") from None


@functools.lru_cache(maxsize=256)
def _zone(name) -> _dt.tzinfo:
    if not isinstance(name, str):
        raise DTLRuntimeError(f"timezone name must be a string, not {name!r}")
    if name == "UTC":
        return _UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DTLRuntimeError(f"unknown timezone {name!r}") from None


def _localize(wall: _dt.datetime, zone: _dt.tzinfo) -> _dt.datetime:
    """Attach `zone` to a naive wall-clock time.

    Around a DST change a wall time is ambiguous or does not exist; then the reading with
    standard (non-DST) time is taken, as pytz's ``localize(is_dst=False)`` does, since the
    zone list the docs publish comes from pytz.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset() and first.dst() != _ZERO and second.dst() == _ZERO:
        return second
    return first


def _in_zone(dt: DateTime, zone) -> tuple[_dt.datetime, int]:
    d, frac = _split(dt)
    if zone is _UTC:
        return d, frac
    try:
        return d.astimezone(zone), frac
    except (OverflowError, ValueError) as e:
        raise DTLRuntimeError(f"datetime out of range in timezone {zone}: {e}") from None


def _from_wall(wall: _dt.datetime, frac: int, zone) -> DateTime:
    """The instant at which the clock of `zone` shows `wall` (naive) plus `frac` ns."""
    if zone is _UTC:
        return _join(wall.replace(tzinfo=_UTC), frac)
    try:
        return _join(_localize(wall, zone).astimezone(_UTC), frac)
    except (OverflowError, ValueError) as e:
        raise DTLRuntimeError(f"datetime out of range: {e}") from None


# -- format strings ------------------------------------------------------------------------------

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")

# Regexes of the directives when parsing; alternatives are ordered so that adjacent numeric
# fields without separators split the way C/Python strptime splits them.
_DAY_RE = r"3[01]|[12]\d|0[1-9]|[1-9]| [1-9]"
_PARSE_RE = {
    "d": _DAY_RE,
    "e": _DAY_RE,
    "H": r"2[0-3]|[0-1]\d|\d",
    "I": r"1[0-2]|0[1-9]|[1-9]",
    "m": r"1[0-2]|0[1-9]|[1-9]",
    "M": r"[0-5]\d|\d",
    "S": r"[0-5]\d|\d",
    "f": r"\d{1,9}",  # up to nanoseconds, read as a decimal fraction
    "y": r"\d\d",
    "Y": r"\d\d\d\d",
    # +HHMM, +HH:MM (documented), plus seconds as %z writes them for historic offsets
    "z": r"Z|[+-]\d\d(?::?[0-5]\d){1,2}",
    "p": r"am|pm",
    "j": r"36[0-6]|3[0-5]\d|[12]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9]",
    "a": "|".join(sorted((d[:3] for d in _DAYS), key=len, reverse=True)),
    "A": "|".join(_DAYS),
    "b": "|".join(m[:3] for m in _MONTHS),
    "B": "|".join(_MONTHS),
}
_FORMAT_ONLY = frozenset("Z")


@functools.lru_cache(maxsize=512)
def _tokens(fmt: str) -> tuple:
    """A format string as a tuple of ('lit', text) and ('dir', letter) tokens."""
    out, lit, i = [], [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            lit.append(ch)
            i += 1
            continue
        if i + 1 == len(fmt):
            raise DTLRuntimeError(f"stray '%' at the end of datetime format {fmt!r}")
        d = fmt[i + 1]
        i += 2
        if d == "%":
            lit.append("%")
            continue
        if d not in _PARSE_RE and d not in _FORMAT_ONLY:
            raise DTLRuntimeError(f"unsupported directive '%{d}' in datetime format {fmt!r}")
        if lit:
            out.append(("lit", "".join(lit)))
            lit = []
        out.append(("dir", d))
    if lit:
        out.append(("lit", "".join(lit)))
    return tuple(out)


def _offset_text(off: _dt.timedelta | None) -> str:
    if off is None:
        return ""
    secs = int(off.total_seconds())
    sign = "-" if secs < 0 else "+"
    h, rest = divmod(abs(secs), 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h:02d}{m:02d}" + (f"{s:02d}" if s else "")


def _format_one(d: _dt.datetime, frac: int, toks: tuple) -> str:
    parts = []
    for kind, x in toks:
        if kind == "lit":
            parts.append(x)
        elif x == "Y":
            parts.append(f"{d.year:04d}")
        elif x == "y":
            parts.append(f"{d.year % 100:02d}")  # 2000-2068 -> 00-68, 1969-1999 -> 69-99
        elif x == "m":
            parts.append(f"{d.month:02d}")
        elif x == "d":
            parts.append(f"{d.day:02d}")
        elif x == "e":
            parts.append(str(d.day))
        elif x == "H":
            parts.append(f"{d.hour:02d}")
        elif x == "I":
            parts.append(f"{(d.hour + 11) % 12 + 1:02d}")
        elif x == "p":
            parts.append("AM" if d.hour < 12 else "PM")
        elif x == "M":
            parts.append(f"{d.minute:02d}")
        elif x == "S":
            parts.append(f"{d.second:02d}")
        elif x == "f":
            parts.append(f"{frac // 1000:06d}")  # microseconds, as documented
        elif x == "z":
            parts.append(_offset_text(d.utcoffset()))
        elif x == "Z":
            parts.append(d.tzname() or "")
        elif x == "j":
            parts.append(f"{d.timetuple().tm_yday:03d}")
        elif x == "a":
            parts.append(_DAYS[d.weekday()][:3])
        elif x == "A":
            parts.append(_DAYS[d.weekday()])
        elif x == "b":
            parts.append(_MONTHS[d.month - 1][:3])
        elif x == "B":
            parts.append(_MONTHS[d.month - 1])
    return "".join(parts)


@functools.lru_cache(maxsize=512)
def _parser(fmt: str) -> tuple[re.Pattern, tuple[str, ...]]:
    """A full-match regex for a format string and the directive of each group."""
    toks = _tokens(fmt)
    regex, names = [], []
    for kind, x in toks:
        if kind == "lit":
            # like strptime: a run of whitespace in the format matches any whitespace
            for piece in re.split(r"(\s+)", x):
                if piece.isspace():
                    regex.append(r"\s+")
                elif piece:
                    regex.append(re.escape(piece))
        elif x in _FORMAT_ONLY:
            raise DTLRuntimeError(f"directive '%{x}' can only be used to format, not to parse")
        else:
            regex.append(f"({_PARSE_RE[x]})")
            names.append(x)
    return re.compile("".join(regex), re.IGNORECASE), tuple(names)


def _offset_zone(text: str) -> _dt.timezone:
    """A fixed-offset zone from "+HH", "+HHMM", "+HH:MM" or "+HH:MM:SS" (any sign)."""
    digits = text[1:].replace(":", "")
    off = _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0),
                        seconds=int(digits[4:6] or 0))
    if off >= _dt.timedelta(hours=24):
        raise ValueError(f"UTC offset out of range: {text}")
    return _dt.timezone(-off if text[0] == "-" else off)


def _parse_one(text: str, fmt: str, zone) -> DateTime | object:
    rx, names = _parser(fmt)
    m = rx.fullmatch(text)
    if m is None:
        return _SKIP
    f = {}
    for name, val in zip(names, m.groups()):
        f[name] = val  # a repeated directive: the last one wins
    year = 1900
    if "Y" in f:
        year = int(f["Y"])
    elif "y" in f:
        yy = int(f["y"])
        year = 2000 + yy if yy <= 68 else 1900 + yy  # POSIX rule
    month = int(f.get("m", 1))
    if "B" in f or "b" in f:
        name = (f.get("B") or f["b"]).lower()
        month = next(i for i, mn in enumerate(_MONTHS, 1) if mn.lower().startswith(name[:3]))
    day = int(f.get("d") or f.get("e") or 1)
    if "I" in f:
        hour = int(f["I"])
        pm = f.get("p", "").lower() == "pm"
        hour = (hour % 12) + (12 if pm else 0)  # as strptime: 12 without pm is midnight
    else:
        hour = int(f.get("H", 0))
    minute = int(f.get("M", 0))
    second = int(f.get("S", 0))
    frac = int(f["f"].ljust(9, "0")) if "f" in f else 0
    try:
        if "j" in f and not any(k in f for k in "mbBde"):
            wall = (_dt.datetime(year, 1, 1, hour, minute, second)
                    + _dt.timedelta(days=int(f["j"]) - 1))
            if wall.year != year:
                return _SKIP
        else:
            wall = _dt.datetime(year, month, day, hour, minute, second)
    except (ValueError, OverflowError):
        return _SKIP
    if "z" in f:
        z = f["z"]
        try:
            zone = _UTC if z.upper() == "Z" else _offset_zone(z)
            return _join(wall.replace(tzinfo=zone).astimezone(_UTC), frac)
        except (DTLRuntimeError, OverflowError, ValueError):
            return _SKIP
    try:
        return _from_wall(wall, frac, zone)
    except DTLRuntimeError:
        return _SKIP


# -- casting to datetime -------------------------------------------------------------------------

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?", re.IGNORECASE)


def _from_iso(text: str) -> DateTime | object:
    m = _ISO.fullmatch(text.strip())
    if m is None:
        return _SKIP
    y, mo, d, hh, mi, ss, fr, z = m.groups()
    try:
        wall = _dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
        frac = int(fr.ljust(9, "0")) if fr else 0
        tz = _UTC
        if z and z.upper() != "Z":
            tz = _offset_zone(z)
        return _join(wall.replace(tzinfo=tz).astimezone(_UTC), frac)
    except (ValueError, OverflowError, DTLRuntimeError):
        return _SKIP


def _to_datetime(v) -> DateTime | object:
    t = type(v)
    if t is DateTime:
        return v
    if t is int:  # nanoseconds since the epoch (bool is excluded by the exact type test)
        try:
            return DateTime(v)
        except ValueError:
            return _SKIP
    if t is str:
        return _from_iso(v)
    return _SKIP


@expression("datetime", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category="date-and-time",
            summary="Cast values to datetimes (ISO strings, epoch nanoseconds); others are "
                    "dropped or replaced by FUNCTION's value.")
def datetime_(values, function=None):
    def cast(v):
        r = _to_datetime(v)
        if r is _SKIP and function is not None:
            return function(v)
        return r
    return _map_skipping(values, cast)


@expression("is-datetime", "VALUES(value-expression{1})", category="date-and-time",
            summary="Whether the value (or a list's first element) is a datetime.")
def is_datetime(values):
    return first_is(values, DateTime)


@expression("now", "NONE(value-expression{0})", category="date-and-time", pure=False,
            summary="The current time as a datetime.")
def now():
    return DateTime(time.time_ns())


@expression("datetime-format",
            "TIMEZONE_NAME(string{0|1}), FORMATSTRING(string{1}), VALUES(value-expression{1})",
            category="date-and-time",
            summary="Format datetimes as strings with a strftime-style pattern, in a timezone.")
def datetime_format(formatstring, values, timezone_name="UTC"):
    if not isinstance(formatstring, str):
        raise DTLRuntimeError("datetime-format: the format string must be a string")
    toks = _tokens(formatstring)
    zone = _zone(timezone_name)

    def fmt(v):
        if type(v) is not DateTime:
            return _SKIP
        d, frac = _in_zone(v, zone)
        return _format_one(d, frac, toks)
    return _map_skipping(values, fmt)


@expression("datetime-parse",
            "TIMEZONE_NAME(string{0|1}), FORMATSTRING(string{1}), VALUES(value-expression{1})",
            category="date-and-time",
            summary="Parse strings to datetimes with a strptime-style pattern, in a timezone.")
def datetime_parse(formatstring, values, timezone_name="UTC"):
    if not isinstance(formatstring, str):
        raise DTLRuntimeError("datetime-parse: the format string must be a string")
    _parser(formatstring)  # report a bad format even when there is nothing to parse
    zone = _zone(timezone_name)

    def parse(v):
        if type(v) is not str:
            return _SKIP
        return _parse_one(v, formatstring, zone)
    return _map_skipping(values, parse)


# -- arithmetic ----------------------------------------------------------------------------------

_UNIT_NS = {
    "week": 7 * 86400 * NS_PER_S,
    "day": 86400 * NS_PER_S,
    "hour": 3600 * NS_PER_S,
    "minute": 60 * NS_PER_S,
    "second": NS_PER_S,
    "millisecond": 1_000_000,
    "microsecond": 1_000,
    "nanosecond": 1,
}
_DATEPARTS = ("year", "month", *_UNIT_NS)


def _check_datepart(part):
    if part not in _DATEPARTS:
        raise DTLRuntimeError(f"unknown DATEPART {part!r}; expected one of {', '.join(_DATEPARTS)}")


def _add_months(dt: DateTime, months: int) -> DateTime:
    """Calendar addition: the day of the month is clamped to the target month's length."""
    d, frac = _split(dt)
    total = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise DTLRuntimeError("datetime out of range")
    day = min(d.day, calendar.monthrange(year, month0 + 1)[1])
    return _join(d.replace(year=year, month=month0 + 1, day=day), frac)


def _trunc_div(a: int, b: int) -> int:
    """Integer division rounding toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@expression("datetime-plus",
            "DATEPART(string{1}), VALUE(integer{1}), VALUES(value-expression{1})",
            category="date-and-time",
            summary="Add VALUE DATEPARTs (year ... nanosecond) to datetimes.")
def datetime_plus(datepart, value, values):
    _check_datepart(datepart)
    if type(value) is not int:
        raise DTLRuntimeError(f"datetime-plus: VALUE must be an integer, not {value!r}")

    def plus(v):
        if type(v) is not DateTime:
            return _SKIP
        if datepart == "year":
            return _add_months(v, 12 * value)
        if datepart == "month":
            return _add_months(v, value)
        try:
            return DateTime(v.ns + value * _UNIT_NS[datepart])
        except ValueError as e:
            raise DTLRuntimeError(str(e)) from None
    return _map_skipping(values, plus)


def _months_between(start: DateTime, end: DateTime) -> int:
    """Whole calendar months from `end` to `start`, truncated toward zero."""
    s, _ = _split(start)
    e, _ = _split(end)
    m = (s.year - e.year) * 12 + (s.month - e.month)
    if start.ns >= end.ns:
        while m > 0 and _add_months(end, m).ns > start.ns:
            m -= 1
    else:
        while m < 0 and _add_months(end, m).ns < start.ns:
            m += 1
    return m


@expression("datetime-diff",
            "DATEPART(string{1}), STARTDATE(value-expression{1}), ENDDATE(value-expression{1})",
            category="date-and-time",
            summary="STARTDATE minus ENDDATE in whole DATEPARTs, truncated toward zero.")
def datetime_diff(datepart, startdate, enddate):
    _check_datepart(datepart)
    if type(startdate) is not DateTime or type(enddate) is not DateTime:
        return None
    if datepart in ("year", "month"):
        months = _months_between(startdate, enddate)
        return _trunc_div(months, 12) if datepart == "year" else months
    return _trunc_div(startdate.ns - enddate.ns, _UNIT_NS[datepart])


@expression("datetime-shift",
            "FROM_TIMEZONE(string{1}), TO_TIMEZONE(string{1}), VALUES(value-expression{1})",
            category="date-and-time",
            summary="Reinterpret datetimes' UTC wall-clock time as FROM_TIMEZONE time and "
                    "give it as TO_TIMEZONE wall-clock time.")
def datetime_shift(from_timezone, to_timezone, values):
    src, dst = _zone(from_timezone), _zone(to_timezone)

    def shift(v):
        if type(v) is not DateTime:
            return _SKIP
        wall, frac = _split(v)
        instant = _from_wall(wall.replace(tzinfo=None), frac, src)
        local, frac = _in_zone(instant, dst)
        return _join(local.replace(tzinfo=_UTC), frac)
    return _map_skipping(values, shift)
