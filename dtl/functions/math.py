"""Math functions (dtl-functions-math.rst): arithmetic operators, rounding, trigonometry.

Number types: integers are unbounded and stay integers under + - * % and ^ with a
non-negative exponent; any float operand makes the result a float (a non-finite float result
becomes null); a decimal operand makes the result a decimal (an int converts exactly, a float
through its shortest repr, so 2.3 counts as 2.3 and not as its binary approximation).
Decimal + - * are exact: they run in a context with unbounded precision. Division, roots and
fractional powers of decimals are correctly rounded with at least 34 significant digits (more
when the operands carry more), and exact whenever the exact result fits.

Two calling styles share the arithmetic:

* the symbolic operators (``+ - * / % ^``) take one value on each side; a list stands for its
  first element; a null or non-numeric side gives null;
* the word forms (``plus`` ... ``pow``) apply a fixed operand to one value or to every
  element of a list; non-numeric elements are dropped, and a non-numeric operand gives null.

Division (and ``%``) by zero gives null.
"""

from __future__ import annotations

import decimal
import math
from decimal import (
    ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, DecimalException,
)

from dtl.errors import DTLRuntimeError
from dtl.functions._common import first_value
from dtl.functions.registry import expression
from dtl.ir.nodes import Call

# Exact context for + - * and quantize: unbounded precision and exponent range; results
# are only ever as long as they need to be, so this costs nothing for ordinary values.
EXACT = Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                rounding=ROUND_HALF_EVEN,
                traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])
MIN_PREC = 34  # IEEE decimal128: the floor for rounded (inexact) decimal results
# An exact decimal result longer than this is refused rather than rounded (1e999999999 + 1
# would otherwise allocate a billion digits).
MAX_DIGITS = 10_000_000
MAX_INT_BITS = 1 << 27  # refuse integer powers beyond ~16 MB


def is_num(v) -> bool:
    """A DTL number: int (not bool), float or Decimal."""
    t = type(v)
    return t is int or t is float or t is Decimal


def to_decimal(v) -> Decimal:
    """A number as a Decimal: ints exactly, floats by their shortest round-trip text."""
    t = type(v)
    if t is Decimal:
        return v
    if t is float:
        return Decimal(repr(v))
    return Decimal(v)


def _ndigits(d: Decimal) -> int:
    return len(d.as_tuple().digits)


def _rounded_context(*operands: Decimal) -> Context:
    """A context for inexact decimal operations, precise enough for an exact result to fit.

    A terminating quotient a/b has at most digits(a) + ~3.33 * digits(b) significant digits.
    """
    prec = MIN_PREC + _ndigits(operands[0]) + 4 * sum(_ndigits(d) for d in operands[1:])
    return Context(prec=prec, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                   rounding=ROUND_HALF_EVEN,
                   traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


def _finite(r: float):
    return r if r - r == 0 else None  # inf - inf and nan - nan are nan


def _int_div(a: int, b: int):
    """An integer quotient when exact, else the correctly rounded float."""
    if b == 0:
        return None
    q, r = divmod(a, b)
    if r == 0:
        return q
    try:
        return a / b
    except OverflowError:  # beyond float range: keep the magnitude as a decimal
        return _dec_div(Decimal(a), Decimal(b))


def _dec_div(a: Decimal, b: Decimal):
    if not b:
        return None
    try:
        return _rounded_context(a, b).divide(a, b)
    except DecimalException:
        return None


def _check_span(a: Decimal, b: Decimal):
    """Refuse an exact decimal sum whose digits would run from 10^hi down to 10^lo absurdly."""
    hi = max(d.adjusted() for d in (a, b) if d) if a or b else 0
    lo = min(a.as_tuple().exponent, b.as_tuple().exponent)  # zeros count: 0E-9 + 1 is 1.000000000
    if hi - lo > MAX_DIGITS:
        raise DTLRuntimeError("decimal result too long to represent exactly")


# -- the six binary operations, on two numbers --------------------------------------------
# Each takes two DTL numbers (never bool) and returns a number or None.

def add(a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a + b
    if ta is Decimal or tb is Decimal:
        a, b = to_decimal(a), to_decimal(b)
        _check_span(a, b)
        return EXACT.add(a, b)
    try:
        return _finite(a + b)
    except OverflowError:  # a huge int does not fit a float
        return None


def sub(a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a - b
    if ta is Decimal or tb is Decimal:
        a, b = to_decimal(a), to_decimal(b)
        _check_span(a, b)
        return EXACT.subtract(a, b)
    try:
        return _finite(a - b)
    except OverflowError:
        return None


def mul(a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a * b
    if ta is Decimal or tb is Decimal:
        try:
            return EXACT.multiply(to_decimal(a), to_decimal(b))
        except DecimalException:  # exponent overflow
            return None
    try:
        return _finite(a * b)
    except OverflowError:
        return None


def div(a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _int_div(a, b)
    if ta is Decimal or tb is Decimal:
        return _dec_div(to_decimal(a), to_decimal(b))
    if not b:
        return None
    try:
        return _finite(a / b)
    except OverflowError:
        return None


def mod(a, b):
    """Remainder with the sign of the divisor (floored division), for every number type."""
    if not b:
        return None
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a % b
    if ta is Decimal or tb is Decimal:
        a, b = to_decimal(a), to_decimal(b)
        try:
            r = EXACT.remainder(a, b)  # truncated: sign of the dividend
        except DecimalException:
            return None
        if r and (r < 0) != (b < 0):
            r = EXACT.add(r, b)
        return r
    try:
        return _finite(a % b)
    except OverflowError:
        return None


def power(a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _int_pow(a, b)
    if ta is Decimal or tb is Decimal:
        return _dec_pow(to_decimal(a), b)
    try:
        return _finite(math.pow(a, b))
    except (OverflowError, ValueError):  # too large, or not a real number (e.g. (-8) ^ 0.5)
        return None


def _int_pow(a: int, b: int):
    if b < 0:
        if a == 0:
            return None
        return _int_div(1, _int_pow(a, -b))
    if a not in (0, 1, -1) and b * a.bit_length() > MAX_INT_BITS:
        raise DTLRuntimeError("integer power too large")
    return a ** b


def _dec_pow(a: Decimal, b):
    """A decimal raised to a number: exact for integral exponents, else correctly rounded."""
    n = None
    if type(b) is int:
        n = b
    else:
        e = to_decimal(b)
        if e.adjusted() < 18 and e == e.to_integral_value():  # larger: overflow or 1 anyway
            n = int(e)
    if n is not None:
        sign, digits, exp = a.as_tuple()
        coef = int("".join(map(str, digits)) or "0")
        if coef in (0, 1):
            if coef == 0 and n < 0:
                return None
        elif abs(n) * coef.bit_length() > MAX_INT_BITS:
            raise DTLRuntimeError("decimal power too large")
        try:
            p = EXACT.scaleb(Decimal(coef ** abs(n)), exp * abs(n))
            if sign and n % 2:
                p = p.copy_negate()
        except DecimalException:
            return None
        return p if n >= 0 else _dec_div(Decimal(1), p)
    e = to_decimal(b)
    try:
        return _rounded_context(a, e).power(a, e)
    except DecimalException:  # negative base, zero to a negative power, overflow
        return None


# -- argument shapes ----------------------------------------------------------------------

def _symbolic(op, a, b):
    a, b = first_value(a), first_value(b)
    if is_num(a) and is_num(b):
        return op(a, b)
    return None


def _word(op, operand, values):
    """Apply `op(value, operand)` to one value or to each number of a list."""
    operand = first_value(operand)
    if not is_num(operand):
        return None
    if type(values) is list:
        return [op(v, operand) for v in values if is_num(v)]
    if is_num(values):
        return op(values, operand)
    return None


def _unary(fn, values):
    """`fn` on one number, or on each number of a list (other values are dropped)."""
    if type(values) is list:
        return [fn(v) for v in values if is_num(v)]
    if is_num(values):
        return fn(values)
    return None


def _int_inline(expr: str, float_product: str | None = None) -> str:
    """Generated-source template: int op int inline (and a finite float product if given),
    everything else through the function itself."""
    other = "{f}({a}, {b})"
    if float_product:
        other = ("(({r} if ({r} := " + float_product + ") - {r} == 0.0 else None) "
                 "if (type({a}) is float) & (type({b}) is float) else " + other + ")")
    return "(" + expr + " if (type({a} := {0}) is int) & (type({b} := {1}) is int) else " + \
        other + ")"


def _word_inliner(op: str):
    """Generated source for a word form with a literal number operand (["plus", 1, "_S.age"]):
    `value op operand` for an int or float value, null for null, else the function."""
    def inline(g, call, impl):
        c = g.known(call.args[0])
        if type(c) is not int and type(c) is not float:
            return None
        k, a, t, r = g.const(c), g.temp(), g.temp(), g.temp()
        v, f = g.expr(call.args[1]), g.func(impl)
        finite = f"({r} if ({r} := {a} {op} {k}) - {r} == 0.0 else None)"
        other = f"(None if {a} is None else {f}({k}, {a}))"
        if type(c) is int:  # int op int stays exact
            return (f"({a} {op} {k} if ({t} := type({a} := {v})) is int else "
                    f"({finite} if {t} is float else {other}))")
        return f"({finite} if ({t} := type({a} := {v})) is float or {t} is int else {other})"
    return inline


# -- symbolic operators -------------------------------------------------------------------

@expression("+", "VALUE1(value-expression{1}), VALUE2(value-expression{1})", category="math",
            inline=_int_inline("{a} + {b}"),
            summary="VALUE1 + VALUE2 (lists stand for their first element; null if not numbers).",
            native=("vector",))
def op_plus(value1, value2):
    if type(value1) is int and type(value2) is int:
        return value1 + value2
    if type(value1) is float and type(value2) is float:
        r = value1 + value2
        return r if r - r == 0 else None
    return _symbolic(add, value1, value2)


@expression("-", "VALUE1(value-expression{1}), VALUE2(value-expression{1})", category="math",
            inline=_int_inline("{a} - {b}"),
            summary="VALUE1 - VALUE2 (lists stand for their first element; null if not numbers).",
            native=("vector",))
def op_minus(value1, value2):
    if type(value1) is int and type(value2) is int:
        return value1 - value2
    return _symbolic(sub, value1, value2)


@expression("*", "VALUE(value-expression{1}), MULTIPLIER(value-expression{1})", category="math",
            inline=_int_inline("{a} * {b}", "{a} * {b}"),
            summary="VALUE * MULTIPLIER (lists stand for their first element).", native=("vector",))
def op_multiply(value, multiplier):
    if type(value) is int and type(multiplier) is int:
        return value * multiplier
    if type(value) is float and type(multiplier) is float:
        r = value * multiplier
        return r if r - r == 0 else None
    return _symbolic(mul, value, multiplier)


@expression("/", "DIVIDEND(numeric-expression{1}), DIVISOR(value-expression{1})",
            category="math",
            summary="DIVIDEND / DIVISOR; null when dividing by zero.")
def op_divide(dividend, divisor):
    return _symbolic(div, dividend, divisor)


@expression("%", "DIVIDEND(numeric-expression{1}), DIVISOR(value-expression{1})",
            category="math",
            summary="The remainder of DIVIDEND / DIVISOR (sign of the divisor).")
def op_mod(dividend, divisor):
    return _symbolic(mod, dividend, divisor)


@expression("^", "VALUE(value-expression{1}), EXPONENT(value-expression{1})", category="math",
            summary="VALUE raised to the power EXPONENT.")
def op_pow(value, exponent):
    return _symbolic(power, value, exponent)


# -- word forms ---------------------------------------------------------------------------

@expression("plus", "INCREMENT(numeric-expression{1}), VALUES(value-expression{1})",
            category="math", inline=(_word_inliner("+"), _int_inline("{b} + {a}")),
            summary="VALUES (each) + INCREMENT.",
            native=("vector",))
def plus(increment, values):
    return _word(add, increment, values)


@expression("minus", "DECREMENT(numeric-expression{1}), VALUES(value-expression{1})",
            category="math", inline=(_word_inliner("-"), _int_inline("{b} - {a}")),
            summary="VALUES (each) - DECREMENT.",
            native=("vector",))
def minus(decrement, values):
    return _word(sub, decrement, values)


@expression("multiply", "MULTIPLIER(numeric-expression{1}), VALUES(value-expression{1})",
            category="math", inline=(_word_inliner("*"), _int_inline("{b} * {a}", "{b} * {a}")),
            summary="VALUES (each) * MULTIPLIER.",
            native=("vector",))
def multiply(multiplier, values):
    return _word(mul, multiplier, values)


@expression("divide", "DIVISOR(numeric-expression{1}), DIVIDENDS(value-expression{1})",
            category="math", summary="DIVIDENDS (each) / DIVISOR; null per value for zero.")
def divide(divisor, dividends):
    return _word(div, divisor, dividends)


@expression("mod", "DIVISOR(numeric-expression{1}), VALUES(value-expression{1})",
            category="math", summary="VALUES (each) modulo DIVISOR.")
def mod_(divisor, values):
    return _word(mod, divisor, values)


@expression("pow", "EXPONENT(numeric-expression{1}), VALUES(value-expression{1})",
            category="math", summary="VALUES (each) raised to the power EXPONENT.")
def pow_(exponent, values):
    return _word(power, exponent, values)


# -- one-argument functions ---------------------------------------------------------------

def _abs(v):
    if type(v) is Decimal:
        return v.copy_abs()  # abs() would round to the thread's context precision
    return abs(v)


@expression("abs", "VALUE(numeric-expression{1})", category="math",
            summary="The absolute value of a number, or of each number in a list.")
def abs_(value):
    return _unary(_abs, value)


def _sqrt(v):
    if v < 0:
        return None  # not a real number
    if type(v) is Decimal:
        try:
            return v.sqrt(context=_rounded_context(v))
        except DecimalException:
            return None
    try:
        return math.sqrt(v)
    except OverflowError:  # an int beyond float range
        return None


@expression("sqrt", "VALUE(numeric-expression{1})", category="math",
            summary="The square root (float; decimal for decimals); null for negatives.")
def sqrt(value):
    return _unary(_sqrt, value)


def _trig(fn):
    def apply(v):
        try:
            return _finite(fn(float(v)))
        except (OverflowError, ValueError):
            return None
    return apply


_sin, _cos, _tan = _trig(math.sin), _trig(math.cos), _trig(math.tan)


@expression("sin", "VALUE(numeric-expression{1})", category="math",
            summary="The sine of a number of radians (float).")
def sin(value):
    return _unary(_sin, value)


@expression("cos", "VALUE(numeric-expression{1})", category="math",
            summary="The cosine of a number of radians (float).")
def cos(value):
    return _unary(_cos, value)


@expression("tan", "VALUE(numeric-expression{1})", category="math",
            summary="The tangent of a number of radians (float); null where infinite.")
def tan(value):
    return _unary(_tan, value)


# -- rounding -----------------------------------------------------------------------------

_TO_INT = {ROUND_CEILING: math.ceil, ROUND_FLOOR: math.floor, ROUND_HALF_EVEN: round}


def _digits_arg(digits):
    """DIGITS as an int, or None when it is not an integral number."""
    digits = first_value(digits)
    t = type(digits)
    if t is int:
        return digits
    if t is float and digits.is_integer():
        return int(digits)
    if t is Decimal and digits == digits.to_integral_value():
        return int(digits)
    return None


def _round_to(v, digits: int, mode: str):
    """Round one number to `digits` decimal places with a decimal rounding mode.

    No digits (or <= 0): an integer. Otherwise a float stays a float and a decimal a
    decimal; an integer has no fraction to round and is returned as it is. Floats are
    rounded by their shortest decimal text so that 2.2 rounds as 2.2.
    """
    t = type(v)
    if digits == 0:
        if t is int:
            return v
        if t is float:
            return _TO_INT[mode](v)
        return _dec_to_int(v.to_integral_value(rounding=mode))
    if digits < 0:
        if type(v) is Decimal and v.adjusted() > MAX_DIGITS:
            raise DTLRuntimeError("decimal too large to round")
        q = Decimal((0, (1,), -digits))
        r = to_decimal(v).quantize(q, rounding=mode, context=EXACT)
        return _dec_to_int(r)
    if t is int:
        return v
    d = to_decimal(v)
    if d.as_tuple().exponent >= -digits:
        return v  # already has no more than `digits` decimals
    r = d.quantize(Decimal((0, (1,), -digits)), rounding=mode, context=EXACT)
    return float(r) if t is float else r


def _dec_to_int(d: Decimal) -> int:
    if d.adjusted() > MAX_DIGITS:
        raise DTLRuntimeError("decimal too large to convert to an integer")
    return int(d)


def _rounder(mode, values, digits):
    if digits is None:
        return None
    if digits == 0:
        if type(values) is float:
            return _TO_INT[mode](values)
        if type(values) is int:
            return values
    if type(values) is list:
        return [_round_to(v, digits, mode) for v in values if is_num(v)]
    if is_num(values):
        return _round_to(values, digits, mode)
    return None


def _round_inliner(g, call, impl):
    """["round", d, x] with a literal 0 < d < 10: `_round_float_half_even` written out for a
    float away from a tie, null for null, else the function. Away from a tie the nearest
    integer k to y = x * 10^d is round(y) (y's error is below 1e-8 for |y| < 1e8), and
    k / 10^d is the float Python's round(x, d) gives, without its decimal conversion (k = 0
    is left to the function, for the sign of zero). Of ["multiply", c, x] by a literal
    float, the product is rounded straight away (in that range it is finite, as `multiply`
    requires)."""
    d = g.known(call.args[0]) if len(call.args) == 2 else None
    if type(d) is not int or not 0 < d < 10:
        return None
    x, y, t, q = g.temp(), g.temp(), g.temp(), g.temp()
    arg, f = call.args[1], g.func(impl)
    scale, rnd = g.const(_POW10[d]), g.func(round)
    c = g.known(arg.args[0]) if isinstance(arg, Call) and arg.kind == "expression" and \
        arg.name == "multiply" else None
    if type(c) is float:  # the product of an int or a float by it is a float
        k, mul = g.const(c), g.func(arg.spec.impl)
        test = f"(({t} := type({x} := {g.expr(arg.args[1])})) is float or {t} is int)"
        y_code, slow = f"{x} * {k} * {scale}", f"{f}({mul}({k}, {x}), {d})"
    else:
        test = f"type({x} := {g.expr(arg)}) is float"
        y_code, slow = f"{x} * {scale}", f"{f}({x}, {d})"
    # y % 1.0 is y - floor(y) exactly (both round the same real number, for finite y)
    return (f"({q} / {scale} if {test} and -1e8 < ({y} := {y_code}) < 1e8 and "
            f"not -1e-6 <= ({y} % 1.0 - 0.5) <= 1e-6 and ({q} := {rnd}({y})) else "
            f"(None if {x} is None else {slow}))")


@expression("round", "DIGITS(numeric-expression{0|1}), VALUES(value-expression{1})",
            category="math", inline=(_round_inliner, None),
            summary="Round half to even, to an integer or to DIGITS decimals.",
            native=("vector",))
def round_(values, digits=0):
    t = type(values)
    if type(digits) is int:
        if digits == 0:
            if t is float:
                return round(values)  # Python rounds half to even
            if t is int:
                return values
        elif t is float and 0 < digits < 10:
            r = _round_float_half_even(values, digits)
            if r is not None:
                return r
    return _rounder(ROUND_HALF_EVEN, values, _digits_arg(digits))


def _round_float_half_even(x: float, digits: int) -> float | None:
    """x rounded half to even to 0 < digits < 10 decimals by its shortest decimal text, or
    None when x*10^digits is beyond +-1e8 (the vector backend's numba kernel is the same
    algorithm).

    Away from a tie Python's round(x, d) (the exact binary value) agrees with the text. Near
    one, k + 0.5 (k = floor(y)) is the only decimal with d+1 digits close enough to x, and
    (2k+1) / (2*scale) is its correctly rounded float: equal to x means the text of x is that
    tie; otherwise the text lies on x's side of it (distinct floats round disjoint intervals)."""
    scale = _POW10[digits]
    y = x * scale
    if not -1e8 < y < 1e8:
        return None
    k = math.floor(y)
    if abs(y - k - 0.5) > 1e-6:
        return round(x, digits)
    tie = (2 * k + 1) / (2 * scale)  # both operands exact, so correctly rounded
    if x > tie or (x == tie and k % 2):
        k += 1
    return k / scale if k else math.copysign(0.0, x)


_POW10 = tuple(10.0 ** i for i in range(10))


@expression("ceil", "DIGITS(numeric-expression{0|1}), VALUES(value-expression{1})",
            category="math",
            summary="Round up, to an integer or to DIGITS decimals.")
def ceil(values, digits=0):
    return _rounder(ROUND_CEILING, values, _digits_arg(digits))


@expression("floor", "DIGITS(numeric-expression{0|1}), VALUES(value-expression{1})",
            category="math",
            summary="Round down, to an integer or to DIGITS decimals.")
def floor(values, digits=0):
    return _rounder(ROUND_FLOOR, values, _digits_arg(digits))
