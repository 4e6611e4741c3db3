"""Date and time functions (dtl-functions-date-and-time.rst): examples, edge cases, round trips.

Datetimes are passed in through the source entity so that only date-and-time functions
(and `list`) are exercised.
"""

import datetime as pydt
import time
import zoneinfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.errors import DTLError
from dtl.transit import decode_string
from dtl.values import DateTime

NS = 1_000_000_000




def dt(text: str) -> DateTime:
    return decode_string("~t" + text)


def fmt(pattern, value, zone=None):
    args = [zone] if zone else []
    return ev(["datetime-format", *args, pattern, "_S.v"], {"v": value})


def parse(pattern, text, zone=None):
    args = [zone] if zone else []
    return ev(["datetime-parse", *args, pattern, "_S.v"], {"v": text})


# -- documented examples ------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    (["datetime", "2015-07-28T09:46:00.12345Z"], dt("2015-07-28T09:46:00.12345Z")),
    (["datetime", 1438076760123450000], dt("2015-07-28T09:46:00.12345Z")),
    (["datetime-parse", "%Y-%m-%dT%H:%M:%S.%fZ", "2015-07-28T09:46:00.12345Z"],
     dt("2015-07-28T09:46:00.12345Z")),
    (["datetime-parse", "%Y-%m-%dT%H:%M:%S%z", "2015-07-28T09:46:00+0200"],
     dt("2015-07-28T07:46:00Z")),
    (["datetime-parse", "%d.%m.%Y", ["list", "28.07.2015", "01.01.1970"]],
     [dt("2015-07-28T00:00:00Z"), dt("1970-01-01T00:00:00Z")]),
    (["datetime-format", "Europe/Oslo", "%Y-%m-%d %H:%M:%S",
      ["datetime-parse", "%Y-%m-%dT%H:%M:%S", "2018-08-18T12:39:01"]], "2018-08-18 14:39:01"),
    (["datetime-parse", "Europe/Oslo", "%Y-%m-%dT%H:%M:%S", "2018-08-18T12:39:01"],
     dt("2018-08-18T10:39:01Z")),
    (["datetime-diff", "year", ["datetime-parse", "%Y-%m-%d", "2015-03-02"],
      ["datetime-parse", "%Y-%m-%d", "2016-07-29"]], -1),
    (["datetime-diff", "month", ["datetime-parse", "%Y-%m-%d", "2015-03-02"],
      ["datetime-parse", "%Y-%m-%d", "2016-07-29"]], -16),
    (["datetime-plus", "hour", -1, ["datetime-parse", "%Y-%m-%d", "2016-03-01"]],
     dt("2016-02-29T23:00:00Z")),
    (["datetime-shift", "UTC", "Europe/Oslo",
      ["datetime-parse", "%Y/%m/%d %H:%M", "2015/07/28 09:46"]], dt("2015-07-28T11:46:00Z")),
    (["is-datetime", ["now"]], True),
    (["is-datetime", "2015-07-28T09:46:00.12345Z"], False),
    (["is-datetime", ["list", "1", 2]], False),
])
def test_doc_examples(expr, expected):
    assert ev(expr) == expected


# -- casting --------------------------------------------------------------------------------------

def test_datetime_casts_and_skips():
    got = ev(["datetime", "_S.v"], {"v": [
        "2015-07-28", "2015-07-28T10:00:00+02:00", "2015-07-28 10:00", -1, True, 1.5, None,
        "hello", dt("2001-01-01T00:00:00Z")]})
    assert got == [dt("2015-07-28T00:00:00Z"), dt("2015-07-28T08:00:00Z"),
                   dt("2015-07-28T10:00:00Z"), dt("1969-12-31T23:59:59.999999999Z"),
                   dt("2001-01-01T00:00:00Z")]
    assert ev(["datetime", "hello"]) is None
    assert ev(["datetime", None]) is None


def test_datetime_default_sees_the_bad_value():
    assert ev(["datetime", "_.", ["list", "2015-07-28", "bad", 10 ** 30]]) == [
        dt("2015-07-28T00:00:00Z"), "bad", 10 ** 30]
    assert type(ev(["datetime", ["now"], "hello"])) is DateTime


def test_now_is_current_and_not_folded():
    before = time.time_ns()
    expr = dtl.compile_expression(["now"])
    a = expr({})
    assert before <= a.ns <= time.time_ns()
    time.sleep(0.001)
    assert expr({}).ns > a.ns  # evaluated each time, not once at compile time


def test_is_datetime_list_rule():
    assert ev(["is-datetime", "_S.v"], {"v": [dt("2000-01-01T00:00:00Z"), "x"]}) is True
    assert ev(["is-datetime", "_S.v"], {"v": ["x", dt("2000-01-01T00:00:00Z")]}) is False
    assert ev(["is-datetime", "_S.v"], {"v": []}) is False


# -- formatting and parsing -----------------------------------------------------------------------

def test_format_tokens():
    v = dt("2015-07-05T19:06:03.123456789Z")
    assert fmt("%Y|%y|%m|%d|%e|%H|%I|%p|%M|%S|%f|%z|%%", v) == \
        "2015|15|07|05|5|19|07|PM|06|03|123456|+0000|%"
    assert fmt("%j %a %A %b %B %Z", v) == "186 Sun Sunday Jul July UTC"
    assert fmt("%H:%M %z %Z", v, "Europe/Oslo") == "21:06 +0200 CEST"
    assert fmt("%H:%M %z", v, "Asia/Kolkata") == "00:36 +0530"
    assert fmt("%Y", dt("0099-01-01T00:00:00Z")) == "0099"
    assert fmt("%I %p", dt("2000-01-01T00:30:00Z")) == "12 AM"
    assert fmt("%I %p", dt("2000-01-01T12:30:00Z")) == "12 PM"


@pytest.mark.parametrize("year, yy", [(2000, "00"), (2068, "68"), (1969, "69"), (1999, "99"),
                                      (1968, "68"), (2069, "69"), (1850, "50")])
def test_two_digit_years(year, yy):
    assert fmt("%y", DateTime.from_parts(year, 1, 1)) == yy


@pytest.mark.parametrize("yy, year", [("00", 2000), ("68", 2068), ("69", 1969), ("99", 1999)])
def test_two_digit_years_parse(yy, year):
    assert parse("%y", yy) == DateTime.from_parts(year, 1, 1)


@pytest.mark.parametrize("pattern, text, expected", [
    ("%d/%m/%Y %I:%M %p", "05/06/2020 12:15 am", "2020-06-05T00:15:00Z"),
    ("%d/%m/%Y %I:%M %p", "05/06/2020 12:15 PM", "2020-06-05T12:15:00Z"),
    ("%d/%m/%Y %I:%M %p", "05/06/2020 01:15 pm", "2020-06-05T13:15:00Z"),
    ("%e.%m.%Y", "5.6.2020", "2020-06-05T00:00:00Z"),
    ("%Y%m%d%H%M%S", "20200605131500", "2020-06-05T13:15:00Z"),
    ("%Y-%m-%d %H:%M:%S.%f", "2020-06-05 13:15:00.000000001", "2020-06-05T13:15:00.000000001Z"),
    ("%Y-%m-%d   %H", "2020-06-05 \t13", "2020-06-05T13:00:00Z"),
    ("%B %d, %Y", "february 29, 2020", "2020-02-29T00:00:00Z"),
    ("%b %d %Y", "FEB 1 2020", "2020-02-01T00:00:00Z"),
    ("%Y-%j", "2020-366", "2020-12-31T00:00:00Z"),
    ("%Y-%m-%dT%H:%M%z", "2020-06-05T13:15-03:30", "2020-06-05T16:45:00Z"),
    ("%Y-%m-%dT%H:%M%z", "2020-06-05T13:15Z", "2020-06-05T13:15:00Z"),
    ("%H:%M", "13:15", "1900-01-01T13:15:00Z"),
])
def test_parse_patterns(pattern, text, expected):
    assert parse(pattern, text) == dt(expected)


@pytest.mark.parametrize("pattern, text", [
    ("%Y-%m-%d", "2020-02-30"),
    ("%Y-%m-%d", "2020-13-01"),
    ("%Y-%m-%d", "2020-01-01 trailing"),
    ("%Y-%j", "2019-366"),
    ("%Y-%m-%d", "20-01-01"),
    ("%H:%M", "24:00"),
])
def test_unparseable_values_are_ignored(pattern, text):
    assert parse(pattern, text) is None
    assert ev(["datetime-parse", pattern, "_S.v"], {"v": [text, "x", None, 7]}) == []


def test_non_datetimes_are_ignored_by_format_and_shift():
    src = {"v": ["2015-07-28", 5, None, dt("2015-07-28T00:00:00Z")]}
    assert ev(["datetime-format", "%Y", "_S.v"], src) == ["2015"]
    assert ev(["datetime-shift", "UTC", "UTC", "_S.v"], src) == [dt("2015-07-28T00:00:00Z")]
    assert ev(["datetime-plus", "day", 1, "_S.v"], src) == [dt("2015-07-29T00:00:00Z")]
    assert ev(["datetime-format", "%Y", "x"]) is None


def test_dst_ambiguous_and_missing_wall_times_use_standard_time():
    # Oslo: 2021-03-28 02:30 does not exist, 2021-10-31 02:30 happens twice
    assert parse("%Y-%m-%d %H:%M", "2021-03-28 02:30", "Europe/Oslo") == dt("2021-03-28T01:30:00Z")
    assert parse("%Y-%m-%d %H:%M", "2021-10-31 02:30", "Europe/Oslo") == dt("2021-10-31T01:30:00Z")


@pytest.mark.parametrize("expr", [
    ["datetime-format", "%Y %Q", "_S.v"],
    ["datetime-format", "%Y %", "_S.v"],
    ["datetime-parse", "%Z", "_S.v"],
    ["datetime-format", "Mars/Olympus_Mons", "%Y", "_S.v"],
    ["datetime-shift", "UTC", "Nowhere", "_S.v"],
    ["datetime-plus", "fortnight", 1, "_S.v"],
    ["datetime-diff", "decade", "_S.v", "_S.v"],
    ["datetime-plus", "year", 9000, "_S.v"],
])
def test_errors(expr):
    with pytest.raises(DTLError):
        ev(expr, {"v": dt("2015-07-28T00:00:00Z")})


# -- arithmetic -----------------------------------------------------------------------------------

@pytest.mark.parametrize("part, n, start, expected", [
    ("month", 1, "2020-01-31T10:00:00.5Z", "2020-02-29T10:00:00.5Z"),
    ("month", -13, "2020-03-31T00:00:00Z", "2019-02-28T00:00:00Z"),
    ("year", 1, "2020-02-29T00:00:00Z", "2021-02-28T00:00:00Z"),
    ("week", 2, "2020-12-25T00:00:00Z", "2021-01-08T00:00:00Z"),
    ("millisecond", 1, "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.001Z"),
    ("microsecond", -1, "2020-01-01T00:00:00Z", "2019-12-31T23:59:59.999999Z"),
    ("nanosecond", 1, "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.000000001Z"),
])
def test_plus(part, n, start, expected):
    assert ev(["datetime-plus", part, n, "_S.v"], {"v": dt(start)}) == dt(expected)


@pytest.mark.parametrize("part, a, b, expected", [
    ("week", "2020-01-09T00:00:00Z", "2020-01-01T00:00:00Z", 1),
    ("week", "2020-01-01T00:00:00Z", "2020-01-09T00:00:00Z", -1),
    ("year", "2020-12-01T00:00:00Z", "2020-01-01T00:00:00Z", 0),
    ("month", "2020-02-28T00:00:00Z", "2020-01-31T00:00:00Z", 0),
    ("month", "2020-02-29T00:00:00Z", "2020-01-31T00:00:00Z", 1),
    ("second", "2020-01-01T00:00:00Z", "2020-01-01T00:00:01.5Z", -1),
    ("nanosecond", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.000000001Z", -1),
])
def test_diff(part, a, b, expected):
    assert ev(["datetime-diff", part, "_S.a", "_S.b"], {"a": dt(a), "b": dt(b)}) == expected


def test_diff_of_non_datetimes_is_null():
    assert ev(["datetime-diff", "day", "2020-01-01", ["now"]]) is None


# -- properties -----------------------------------------------------------------------------------

instants = st.integers(DateTime.from_parts(1, 1, 1).ns,
                       DateTime.from_parts(9999, 12, 31, 23, 59, 59, 999_999_999).ns).map(DateTime)
modern = st.integers(DateTime.from_parts(1800, 1, 1).ns,
                     DateTime.from_parts(2200, 1, 1).ns).map(DateTime)
ZONES = ["UTC", "Europe/Oslo", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "America/St_Johns", "Pacific/Chatham", "Africa/Casablanca"]
zones = st.sampled_from(ZONES)

# Each group is one way to spell one piece of the instant; any choice, in any order, with
# non-digit separators, keeps the full instant (to the microsecond).
_GROUPS = [
    [["%Y"]],
    [["%m", "%d"], ["%B", "%d"], ["%b", "%e"], ["%j"]],
    [["%H"], ["%I", "%p"]],
    [["%M"]],
    [["%S"]],
    [["%f"]],
]


@st.composite
def full_patterns(draw):
    tokens = [tok for group in _GROUPS for tok in draw(st.sampled_from(group))]
    tokens = draw(st.permutations(tokens))
    seps = draw(st.lists(st.sampled_from(["-", "/", " ", "T", ":", ".", "|", ", ", "at"]),
                         min_size=len(tokens) - 1, max_size=len(tokens) - 1))
    out = tokens[0]
    for sep, tok in zip(seps, tokens[1:]):
        out += sep + tok
    return out


def to_micros(v: DateTime) -> DateTime:
    return DateTime(v.ns - v.ns % 1000)


@settings(max_examples=100)
@given(instants, full_patterns())
def test_format_parse_round_trip(v, pattern):
    assert parse(pattern, fmt(pattern, v)) == to_micros(v)


@settings(max_examples=100)
@given(modern, zones, full_patterns())
def test_format_parse_round_trip_with_offset(v, zone, pattern):
    pattern += " %z"  # the offset makes the wall-clock text unambiguous
    assert parse(pattern, fmt(pattern, v, zone)) == to_micros(v)


def _ambiguous(v: DateTime, zone: str) -> bool:
    local = v.to_datetime().astimezone(zoneinfo.ZoneInfo(zone))
    other = local.replace(fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset()


@settings(max_examples=100)
@given(modern, zones)
def test_format_parse_round_trip_in_zone(v, zone):
    assume(zone == "UTC" or not _ambiguous(v, zone))
    pattern = "%Y-%m-%dT%H:%M:%S.%f"
    assert parse(pattern, fmt(pattern, v, zone), zone) == to_micros(v)


@settings(max_examples=100)
@given(modern, zones)
def test_shift_from_utc_gives_the_zone_wall_clock(v, zone):
    pattern = "%Y-%m-%d %H:%M:%S.%f"
    shifted = ev(["datetime-shift", "UTC", zone, "_S.v"], {"v": v})
    assert fmt(pattern, shifted) == fmt(pattern, v, zone)
    assert shifted.ns % NS == v.ns % NS  # nanoseconds survive


@settings(max_examples=100)
@given(instants, st.sampled_from(["%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S"]))
def test_whole_seconds_round_trip_without_fraction(v, pattern):
    assert parse(pattern, fmt(pattern, v)) == DateTime(v.ns - v.ns % NS)


@settings(max_examples=100)
@given(st.integers(1969, 2068), st.integers(1, 12), st.integers(1, 28))
def test_two_digit_year_round_trip(year, month, day):
    v = DateTime.from_parts(year, month, day)
    assert parse("%y-%m-%d", fmt("%y-%m-%d", v)) == v


@settings(max_examples=100)
@given(instants)
def test_datetime_of_iso_and_nanoseconds(v):
    assert ev(["datetime", "_S.v"], {"v": v.isoformat()}) == v
    assert ev(["datetime", "_S.v"], {"v": v.ns}) == v


@settings(max_examples=100)
@given(modern, st.sampled_from(["year", "month", "week", "day", "hour", "minute", "second",
                                "millisecond", "microsecond", "nanosecond"]),
       st.integers(-1200, 1200))
def test_diff_undoes_plus(v, part, n):
    moved = ev(["datetime-plus", part, n, "_S.v"], {"v": v})
    assert ev(["datetime-diff", part, "_S.a", "_S.b"], {"a": moved, "b": v}) == n


@settings(max_examples=100)
@given(modern, modern)
def test_diff_is_antisymmetric_and_truncated(a, b):
    src = {"a": a, "b": b}
    # (not months: clamping to the month's end makes month counts direction-dependent)
    for part in ("day", "second", "nanosecond"):
        ab = ev(["datetime-diff", part, "_S.a", "_S.b"], src)
        assert ab == -ev(["datetime-diff", part, "_S.b", "_S.a"], src)
    days = ev(["datetime-diff", "day", "_S.a", "_S.b"], src)
    assert ev(["datetime-diff", "week", "_S.a", "_S.b"], src) == int(days / 7)
    # the whole months counted fit between the two instants
    months = ev(["datetime-diff", "month", "_S.a", "_S.b"], src)
    landed = ev(["datetime-plus", "month", months, "_S.b"], src)
    assert (landed.ns <= a.ns) if a.ns >= b.ns else (landed.ns >= a.ns)


def test_zone_data_is_available():
    assert pydt.datetime(2020, 7, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Oslo")).utcoffset() == \
        pydt.timedelta(hours=2)
