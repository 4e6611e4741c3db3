"""Phone number functions (dtl-functions-phonenumbers.rst), on Google's libphonenumber port.

A phone number value is a URI in RFC 3966 form, ``tel:+47-22-22-22-22``.
"""

from __future__ import annotations

import phonenumbers as pn

from dtl.errors import DTLRuntimeError
from dtl.functions.registry import expression
from dtl.values import URI

_SKIP = object()


def _map_skipping(values, fn):
    """Apply `fn` to a value or each list element, leaving out nulls and `_SKIP` results."""
    if type(values) is list:
        return [r for r in (fn(v) for v in values if v is not None) if r is not _SKIP]
    if values is None:
        return None
    r = fn(values)
    return None if r is _SKIP else r


def _region(default_region) -> str | None:
    if default_region is None:
        return None
    if not isinstance(default_region, str):
        raise DTLRuntimeError(f"DEFAULT_REGION must be a string, not {default_region!r}")
    return default_region.strip().upper() or None


def _parse(text: str, region: str | None):
    try:
        num = pn.parse(text, region)
    except pn.NumberParseException:
        return None
    return num if pn.is_valid_number(num) else None


@expression("phonenumber-parse", "DEFAULT_REGION(string{0|1}), VALUES(value-expression{1})",
            category="phonenumbers",
            summary="Parse strings or numbers into phone numbers (tel: URIs); others are dropped.")
def phonenumber_parse(values, default_region=None):
    region = _region(default_region)

    def parse(v):
        t = type(v)
        if t is int:  # bool is excluded by the exact type test
            text = str(v)
        elif t is str:
            text = v
        else:
            return _SKIP
        num = _parse(text, region)
        if num is None:
            return _SKIP
        return URI(pn.format_number(num, pn.PhoneNumberFormat.RFC3966))
    return _map_skipping(values, parse)


def _e164_digits(num) -> str:
    # the docs give e164 without its leading plus sign
    return pn.format_number(num, pn.PhoneNumberFormat.E164).lstrip("+")


_FORMATS = {
    "e164": _e164_digits,
    "rfc3966": lambda n: pn.format_number(n, pn.PhoneNumberFormat.RFC3966),
    "national": lambda n: pn.format_number(n, pn.PhoneNumberFormat.NATIONAL),
    "international": lambda n: pn.format_number(n, pn.PhoneNumberFormat.INTERNATIONAL),
    "national-e164": pn.national_significant_number,
    "isocode": lambda n: pn.region_code_for_number(n),
    "country-code": lambda n: str(n.country_code),
}


@expression("phonenumber-format", "FORMAT_STRING(string{1}), VALUES(value-expression{1})",
            category="phonenumbers",
            summary="Format phone numbers (tel: URIs) as e164, rfc3966, national, international, "
                    "national-e164, isocode or country-code.")
def phonenumber_format(format_string, values):
    fmt = _FORMATS.get(format_string)
    if fmt is None:
        raise DTLRuntimeError(f"unknown phone number format {format_string!r}; expected one of "
                              f"{', '.join(_FORMATS)}")

    def format_one(v):
        if type(v) is URI:
            text = v.value
        elif type(v) is str and v.startswith("tel:"):
            text = v  # a tel: URI that arrived as plain text
        else:
            return _SKIP
        try:
            num = pn.parse(text, None)
        except pn.NumberParseException:
            return _SKIP
        return fmt(num)
    return _map_skipping(values, format_one)
