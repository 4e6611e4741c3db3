"""The deployed configuration as versioned entities in the dataset `system:config`: an upload
stores only entities that changed (the dataset's hash check), so every change is a new version
with an offset, and removed entities become deletes.

Loading always goes through `runtime.config.load_config`, from files staged in Sesam's repository
layout (or the uploaded text itself), so API uploads get the CLI's positioned errors."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

from dtl import transit
from runtime.config import load_config

NAME = "system:config"
# a zip may unpack to this many times its size (configuration text compresses ~10x)
UNZIPPED_PER_BYTE, UNZIPPED_MIN = 200, 64 << 20
_SYS = ("_updated", "_ts", "_hash", "_previous", "_deleted")


def kind(entity) -> str:
    t = entity.get("type") if isinstance(entity, dict) else None
    if t == "metadata":
        return "metadata"
    if isinstance(t, str) and t.startswith("system:"):
        return "system"
    return "pipe"


def layout_name(entity) -> str:
    k = kind(entity)
    if k == "metadata":
        return "node-metadata.conf.json"
    return f"{'systems' if k == 'system' else 'pipes'}/{entity['_id']}.conf.json"


def _order(entities):
    rank = {"metadata": 0, "system": 1, "pipe": 2}
    return sorted(entities, key=lambda e: (rank[kind(e)], str(e.get("_id"))))


class ConfigStore:
    def __init__(self, store):
        self.store = store

    def entities(self, with_version=False) -> list:
        if not self.store.exists(NAME):
            return []
        ds = self.store.open(NAME)
        try:
            out = []
            for e in ds.entities(deleted=False):
                if e.get("_deleted"):
                    continue
                v = e.get("_updated")
                e = {k: x for k, x in e.items() if k not in _SYS}
                if with_version:
                    e["_updated"] = v
                out.append(e)
            return _order(out)
        finally:
            ds.close()

    def get(self, entity_id):
        for e in self.entities():
            if e.get("_id") == entity_id:
                return e
        return None

    def history(self, entity_id) -> list:
        if not entity_id or not self.store.exists(NAME):
            return []
        ds = self.store.open(NAME)
        try:
            return ds.history(entity_id)
        finally:
            ds.close()

    def replace(self, entities) -> dict:
        """Make the stored set equal to `entities`; returns counts of changed and removed."""
        ds = self.store.open(NAME, writer=True, create=True)
        try:
            keep = {e["_id"] for e in entities}
            gone = [e["_id"] for e in ds.entities(deleted=False) if e["_id"] not in keep]
            st = ds.append([dict(e) for e in entities])
            dl = ds.delete(gone)
            if not ds.populated:
                ds.set_populated(True)
            return {"changed": st.stored, "removed": dl.stored}
        finally:
            ds.close()


# -- staging and loading ----------------------------------------------------------------------
def stage(entities, target: Path, raw: dict | None = None) -> Path:
    """Write entities in repository layout; `raw` maps a layout file name to the uploaded text
    to use instead (so errors point into what the user sent)."""
    for e in entities:
        name = layout_name(e)
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (raw or {}).get(name)
        path.write_text(text if text is not None else json.dumps(e, indent=2) + "\n",
                        encoding="utf-8")
    target.mkdir(parents=True, exist_ok=True)
    return target


def load_entities(entities, env, secrets, raw=None):
    with tempfile.TemporaryDirectory(prefix="dtl-config-") as d:
        return load_config(stage(entities, Path(d), raw), env=env, secrets=secrets, force=True)


def load_text(text: str, env, secrets, name="config.json"):
    """Load an uploaded JSON document (array or one entity) with positions in its text."""
    with tempfile.TemporaryDirectory(prefix="dtl-config-") as d:
        p = Path(d) / name
        p.write_text(text, encoding="utf-8")
        return load_config(p, env=env, secrets=secrets, force=True)


def load_zip(data: bytes, env, secrets):
    """A zip in repository layout (as the Sesam client uploads it). Only configuration files
    are taken: `node-metadata.conf.json`, `pipes/**.conf.json`, `systems/**.conf.json`."""
    with tempfile.TemporaryDirectory(prefix="dtl-config-") as d:
        root = Path(d)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            budget = max(UNZIPPED_PER_BYTE * len(data), UNZIPPED_MIN)
            for info in z.infolist():
                name = info.filename.replace("\\", "/")
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if info.is_dir() or ".." in parts or not parts or not name.endswith(".conf.json"):
                    continue
                if parts[0] not in ("pipes", "systems") and parts != ["node-metadata.conf.json"]:
                    continue
                dest = root.joinpath(*parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                budget -= info.file_size
                if budget < 0:   # file_size is what the zip claims: the read is bounded too
                    raise zipfile.BadZipFile("the zip unpacks to more than "
                                             f"{UNZIPPED_PER_BYTE}x its size")
                with z.open(info) as src:
                    body = src.read(info.file_size + 1)
                if len(body) > info.file_size:
                    raise zipfile.BadZipFile(f"{name}: larger than the zip says")
                dest.write_bytes(body)
        return load_config(root, env=env, secrets=secrets, force=True), _read_layout(root)


def _read_layout(root: Path) -> list:
    out = []
    for pattern in ("node-metadata.conf.json", "pipes/**/*.conf.json", "systems/**/*.conf.json"):
        for p in sorted(root.glob(pattern)):
            try:
                v = transit.parse_json(p.read_bytes())
            except (ValueError, OSError):
                continue
            out.extend(x for x in (v if isinstance(v, list) else [v]) if isinstance(x, dict))
    return out


def to_zip(entities) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for e in entities:
            z.writestr(layout_name(e), json.dumps(e, indent=2) + "\n")
    return buf.getvalue()


def entities_of(text: str) -> list:
    v = transit.parse_json(text)
    return [x for x in (v if isinstance(v, list) else [v]) if isinstance(x, dict)]

