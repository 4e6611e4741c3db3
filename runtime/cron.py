"""Cron expressions (hub/cron-expressions.rst): 5 fields `min hour day month weekday`, or 6
with seconds first; UTC. Fields take `*`, numbers, ranges `a-b`, steps `*/n` `a-b/n`, lists, and
month/day names. Day-of-month and day-of-week combine with OR when both are restricted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

_NAMES = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
          "sep": 9, "oct": 10, "nov": 11, "dec": 12,
          "sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


class CronError(ValueError):
    pass


def _field(text, lo, hi):
    out = set()
    for part in text.lower().split(","):
        step = 1
        if "/" in part:
            part, s = part.split("/", 1)
            step = int(s)
            if step < 1:
                raise CronError(f"bad step in {text!r}")
        if part in ("*", "?"):
            a, b = lo, hi
        elif "-" in part:
            a, b = (_num(x) for x in part.split("-", 1))
        else:
            a = _num(part)
            b = hi if step > 1 else a
        if not (lo <= a <= hi and lo <= b <= hi + (1 if hi == 6 else 0)) or a > b:
            raise CronError(f"value out of range in {text!r} ({lo}-{hi})")
        out.update(x % 7 if hi == 6 else x for x in range(a, b + 1, step))
    return out


def _num(x):
    if x in _NAMES:
        return _NAMES[x]
    try:
        return int(x)
    except ValueError:
        raise CronError(f"not a number: {x!r}") from None


class Cron:
    def __init__(self, expr: str):
        parts = expr.split()
        if len(parts) == 5:
            parts = ["0"] + parts
        if len(parts) != 6:
            raise CronError(f"cron expression {expr!r}: expected 5 or 6 fields")
        self.expr = expr
        self.sec = _field(parts[0], 0, 59)
        self.min = _field(parts[1], 0, 59)
        self.hour = _field(parts[2], 0, 23)
        self.dom = _field(parts[3], 1, 31)
        self.mon = _field(parts[4], 1, 12)
        self.dow = _field(parts[5], 0, 6)
        self.dom_any = parts[3] in ("*", "?")
        self.dow_any = parts[5] in ("*", "?")

    def _day_ok(self, d):
        dow = (d.weekday() + 1) % 7
        if self.dom_any and self.dow_any:
            return True
        if self.dom_any:
            return dow in self.dow
        if self.dow_any:
            return d.day in self.dom
        return d.day in self.dom or dow in self.dow

    def next_after(self, t: datetime) -> datetime:
        """The first matching time strictly after `t` (UTC)."""
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        t = t.astimezone(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
        for _ in range(366 * 5 * 24 * 60):
            if t.month not in self.mon:
                t = (t.replace(day=1, hour=0, minute=0, second=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_ok(t):
                t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            if t.hour not in self.hour:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if t.minute not in self.min:
                t = t.replace(second=0) + timedelta(minutes=1)
                continue
            if t.second not in self.sec:
                t += timedelta(seconds=1)
                continue
            return t
        raise CronError(f"cron expression {self.expr!r} never fires")
