"""The Management Studio at `/studio`: static pages (HTML, one ES module, CSS) that talk to
the public API only, as any other client would. The editor (CodeMirror 6), the data grid
(AG Grid) and the graph layout (Mermaid) are the prebuilt bundles the `nicegui` wheel ships
(docs/decisions/studio-ui.md): pip-installed, served from here, nothing from a CDN."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent / "static"
VENDOR = {"codemirror": "elements/codemirror/dist", "aggrid": "elements/aggrid/dist",
          "mermaid": "elements/mermaid/dist"}


def vendor_root() -> Path | None:
    """The installed nicegui package (found, not imported: the Studio needs its files)."""
    spec = importlib.util.find_spec("nicegui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def mount(app) -> None:
    app.mount("/studio/assets", StaticFiles(directory=HERE), name="studio-assets")
    root = vendor_root()
    if root is not None:
        for name, sub in VENDOR.items():
            if (root / sub).is_dir():
                app.mount(f"/studio/vendor/{name}", StaticFiles(directory=root / sub),
                          name=f"studio-{name}")

    # every deep link (/studio/pipes/<id>/config, ...) is the same page; the module routes
    @app.get("/studio", include_in_schema=False)
    @app.get("/studio/{path:path}", include_in_schema=False)
    def studio_page(path: str = ""):
        return FileResponse(HERE / "index.html", headers={"Cache-Control": "no-cache"})
