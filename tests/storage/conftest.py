import os
import sys

# tests/storage would otherwise shadow the `storage` package as a namespace package (the
# editable install's finder runs after the path finder)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if sys.path[0] != ROOT:
    sys.path.insert(0, ROOT)
_m = sys.modules.get("storage")
if _m is not None and getattr(_m, "__file__", None) is None:
    del sys.modules["storage"]
