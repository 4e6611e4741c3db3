"""dtl — Sesam's Data Transformation Language for Python.

    >>> import dtl
    >>> dtl.evaluate(["upper", "_S.name"], {"name": "ann"})
    'ANN'
    >>> dtl.compile({"default": [["copy", "*"], ["add", "n", 1]]}).apply({"_id": "a"})
    [{'_id': 'a', 'n': 1}]
"""

from dtl.api import Expression, Transform, compile, compile_expression, evaluate
from dtl.errors import (DTLCompileError, DTLError, DTLFailError, DTLRuntimeError,
                        DTLSyntaxError, DTLTripError, Span, TransitError)
from dtl.provider import DatasetProvider, InMemoryProvider
from dtl.values import NI, URI, DateTime

__all__ = [
    "compile", "compile_expression", "evaluate", "Transform", "Expression",
    "DTLError", "DTLSyntaxError", "DTLCompileError", "DTLRuntimeError", "DTLFailError",
    "DTLTripError", "TransitError", "Span", "DatasetProvider", "InMemoryProvider",
    "DateTime", "NI", "URI",
]
