"""DTL functions, one module per page of Sesam's function reference.

`load_all()` imports every family module, which registers its functions in
`registry.REGISTRY`. Modules whose name starts with an underscore are helpers.
"""

import importlib
import pkgutil

_loaded = False


def load_all():
    global _loaded
    if _loaded:
        return
    _loaded = True
    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not m.name.startswith("_") and m.name != "registry":
            importlib.import_module(f"{__name__}.{m.name}")
