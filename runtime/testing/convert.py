"""`init` and `convert`: the two repository rewrites of the Sesam client's test workflow.

Both read `pipes/*.conf.json` (top level only, as the client does) and write what they change in
the portal JSON layout, so the result is byte-identical to the client's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from runtime.testing import portal_json

# sources that read datasets or carry their own data get no test alternative from `init`
_KEEP_SOURCES = ("dataset", "merge", "merge_datasets", "union_datasets", "diff_datasets",
                 "embedded")


@dataclass
class Changes:
    pipes: list = field(default_factory=list)       # rewritten pipe files (relative paths)
    testdata: list = field(default_factory=list)    # written testdata files
    skipped: list = field(default_factory=list)     # (file, reason)


def _pipe_files(root: Path) -> list[Path]:
    folder = root / "pipes"
    return sorted(folder.glob("*.conf.json")) if folder.is_dir() else []


def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _write(path: Path, value) -> None:
    path.write_text(portal_json.dumps(value), encoding="utf-8")


def convert(root, profile: str = "test") -> Changes:
    """Move the entities of each conditional source's embedded `<profile>` alternative to
    `testdata/<pipe _id>.json` and make that alternative an `http_endpoint` source."""
    root, out = Path(root), Changes()
    for path in _pipe_files(root):
        rel = path.relative_to(root).as_posix()
        pipe = _read(path)
        source = pipe.get("source") if isinstance(pipe, dict) else None
        if not (isinstance(source, dict) and source.get("type") == "conditional"):
            continue
        alts = source.get("alternatives")
        alt = alts.get(profile) if isinstance(alts, dict) else None
        if not (isinstance(alt, dict) and alt.get("type") == "embedded"):
            continue
        if not isinstance(pipe.get("_id"), str):
            out.skipped.append((rel, "the pipe has no string _id"))
            continue
        entities = alt.get("entities", [])
        alts[profile] = {"type": "http_endpoint"}
        _write(path, pipe)
        out.pipes.append(rel)
        (root / "testdata").mkdir(exist_ok=True)
        target = root / "testdata" / f"{pipe['_id']}.json"   # the _id, not the file name
        _write(target, entities)
        out.testdata.append(target.relative_to(root).as_posix())
    return out


def init(root) -> Changes:
    """Give every source that fetches from outside a `test` alternative: wrap it in a
    conditional on `$ENV(node-env)`, or add the missing `test` alternative to a conditional."""
    root, out = Path(root), Changes()
    for path in _pipe_files(root):
        rel = path.relative_to(root).as_posix()
        pipe = _read(path)
        source = pipe.get("source") if isinstance(pipe, dict) else None
        if not isinstance(source, dict):
            out.skipped.append((rel, "the pipe has no source object"))   # the client crashes
            continue
        kind = source.get("type")
        if kind == "conditional":
            alts = source.get("alternatives")
            if not isinstance(alts, dict) or "test" in alts:
                continue
            alts["test"] = _empty_test_source()
        elif kind in _KEEP_SOURCES:
            continue
        else:
            pipe["source"] = {"type": "conditional",
                              "alternatives": {"prod": source, "test": _empty_test_source()},
                              "condition": "$ENV(node-env)"}
        _write(path, pipe)
        out.pipes.append(rel)
    return out


def _empty_test_source() -> dict:
    return {"type": "embedded", "entities": []}
