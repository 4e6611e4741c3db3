"""Where a configuration may touch the filesystem.

`file:` urls of url systems (csv/json sources, the csv sink) and SQLite database files
resolve inside allowed roots: the configuration folder and the data directory's `files/`
area by default; more roots come only from the command line (`--allow-path`) or the service
metadata (`file_roots`), never from a pipe or system. The data directory itself (datasets,
pump state, the JWT signing key, the Fernet key and the encrypted secrets) and the
configuration's env and secrets files are outside every root, whatever the roots say.

Refused: `..` anywhere in the path, a path (or a symlink) that resolves outside every root,
and the private places above. `Roots.resolve` is the one check every opener calls at run
time; `check_config` reports the same refusals as positioned configuration errors before
anything runs.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from urllib.parse import unquote

from dtl.errors import Diagnostic, Span

FILES = "files"    # the data directory's area that file: urls may use
# configuration-folder files that hold what only node managers may read
PRIVATE_NAMES = ("secrets.json", "*-secrets.json", "*-env.json", ".additional_parameters.json")


class Refused(ValueError):
    """A path outside the allowed roots; the message names the path and why."""


def _real(p: str) -> str:
    return os.path.realpath(os.path.abspath(p))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class Roots:
    base: str              # where relative paths resolve
    allowed: tuple         # real paths of the allowed roots
    private: tuple         # real paths never reachable (directories or files)
    private_names: tuple = ()   # (directory, glob): files of that directory never reachable

    @classmethod
    def build(cls, config_root, data_dir, extra=(), metadata_roots=(), base=None) -> "Roots":
        """The configuration folder and `<data_dir>/files`, plus `extra` (command line) and
        `metadata_roots` (service metadata; relative ones against the configuration folder)."""
        data = _real(data_dir) if data_dir is not None else None
        files = os.path.join(data, FILES) if data is not None else None
        cfg = _real(config_root) if config_root is not None else None
        base = _real(base) if base is not None else cfg or files or _real(os.getcwd())
        allowed = [r for r in (cfg, files) if r is not None]
        for r in tuple(extra) + tuple(metadata_roots):
            r = os.path.expanduser(str(r))
            allowed.append(_real(r if os.path.isabs(r) else os.path.join(cfg or base, r)))
        private = []
        if data is not None:
            private.append(data)
        names = tuple((cfg, n) for n in PRIVATE_NAMES) if cfg is not None else ()
        return cls(base, tuple(dict.fromkeys(allowed)), tuple(private), names)

    def refusal(self, path: str) -> str | None:
        """Why `path` may not be used (None: it may). `path` as written in the configuration."""
        text = str(path)
        if "\0" in text:
            return "the path contains a NUL character"
        parts = text.replace("\\", "/").split("/")
        if ".." in parts:
            return "'..' is not allowed in paths"
        full = text if os.path.isabs(text) else os.path.join(self.base, text)
        real = _real(full)
        files = [os.path.join(p, FILES) for p in self.private]
        for p in self.private:
            if _inside(real, p) and not any(_inside(real, f) for f in files):
                return "it is inside the data directory (datasets, state and keys)"
        for d, pattern in self.private_names:
            if os.path.dirname(real) == d and fnmatch.fnmatch(os.path.basename(real), pattern):
                return "it is the configuration's environment or secrets file"
        if not any(_inside(real, r) for r in self.allowed):
            how = "a symlink leads" if real != os.path.abspath(full) else "it is"
            return f"{how} outside the allowed roots ({', '.join(self.allowed) or 'none'})"
        return None

    def resolve(self, path: str, what: str = "file") -> str:
        """The real path to open, or Refused."""
        why = self.refusal(path)
        if why is not None:
            raise Refused(f"{what} {str(path)!r} refused: {why}; allow more with "
                          "--allow-path or the service metadata's file_roots")
        text = str(path)
        return _real(text if os.path.isabs(text) else os.path.join(self.base, text))


def file_url_path(url: str) -> str | None:
    """The path of a `file:` url as written (`file:x`, `file:/x`, `file:///x`), else None."""
    if not isinstance(url, str) or not url.startswith("file:"):
        return None
    rest = url[5:]
    if rest.startswith("//"):
        host, _, p = rest[2:].partition("/")
        if host not in ("", "localhost"):
            return "//" + rest[2:]   # a remote host: never a local file
        rest = "/" + p
    return unquote(rest)


def file_roots(cfg) -> tuple:
    """The service metadata's extra roots (`file_roots`: a path or a list of paths)."""
    v = cfg.metadata.config.get("file_roots") if cfg is not None else None
    v = [v] if isinstance(v, str) else list(v or ())
    return tuple(str(_plain(x)) for x in v if isinstance(_plain(x), str) and _plain(x))


# -- who may configure file access --------------------------------------------------------
def system_touches_files(sysdef) -> str | None:
    """Why a system reads or writes the node's own files (None: it does not)."""
    if sysdef.type == "sqlite":
        db = _plain(sysdef.config.get("database"))
        return None if db == ":memory:" else "a SQLite database file"
    if sysdef.type == "url":
        for key in ("url_pattern", "base_url"):
            v = _plain(sysdef.config.get(key))
            if isinstance(v, str) and v.strip().lower().startswith("file:"):
                return f"a file: {key}"
    return None


def file_uses(cfg, ids) -> list[dict]:
    """The pipes and systems among `ids` that touch the node's files: systems that are file:
    url systems or SQLite files, pipes whose components use such a system or a file: url.
    Configuring these needs `manage_node` (Admin, Developer): the User role edits its pipes
    and systems, but never what reads or writes the machine's files (issue 17)."""
    from runtime.systems.url import UrlSystem
    out = []
    for sid in sorted(set(ids) & set(cfg.systems)):
        why = system_touches_files(cfg.systems[sid])
        if why:
            out.append({"_id": sid, "reason": why})
    for pid in sorted(set(ids) & set(cfg.pipes)):
        p = cfg.pipes[pid]
        for comp in (p.source, p.sink, *tuple(p.transforms or ())):
            if comp is None:
                continue
            sysdef = cfg.systems.get(comp.get("system")) if isinstance(comp.get("system"),
                                                                     str) else None
            why = system_touches_files(sysdef) if sysdef is not None else None
            rel = _plain(comp.get("url"))
            if why is None and isinstance(rel, str):
                base = "" if sysdef is None or sysdef.type != "url" else str(
                    _plain(sysdef.config.get("url_pattern") or sysdef.config.get("base_url")
                           or ""))
                if file_url_path(UrlSystem.join(base, rel)) is not None:
                    why = "a file: url"
            if why:
                out.append({"_id": pid, "reason": f"its {comp.type} uses {why}"})
                break
    return out


# -- checking a loaded configuration ----------------------------------------------------------
def check_config(cfg, roots: Roots) -> list[Diagnostic]:
    """The refusals of a configuration as positioned errors (file:line:col of the property)."""
    from runtime.systems.url import UrlSystem
    out = []
    spans = _Spans(cfg)
    for s in cfg.systems.values():
        if s.type == "sqlite":
            db = _plain(s.config.get("database"))
            if isinstance(db, str) and db != ":memory:":
                why = roots.refusal(db)
                if why is not None:
                    out.append(_diag(f"sqlite database {db!r} refused: {why}",
                                     spans.at(s.span, "database")))
    for p in cfg.pipes.values():
        for comp, key in ((p.source, "url"), (p.sink, "url")):
            if comp is None or not isinstance(comp.get("system"), str):
                continue
            sysdef = cfg.systems.get(comp["system"])
            if sysdef is None or sysdef.type != "url":
                continue
            rel = comp.get(key)
            if rel is None:
                continue
            url = UrlSystem.join(str(_plain(sysdef.config.get("url_pattern") or
                                            sysdef.config.get("base_url") or "")),
                                 str(_plain(rel)))
            path = file_url_path(url)
            if path is None:
                continue
            why = roots.refusal(path)
            if why is not None:
                out.append(_diag(f"{comp.type} {key} {url!r} refused: {why}",
                                 spans.at(comp.span, key)))
    return out


def _plain(v):
    from runtime.config.secret import reveal
    return reveal(v)


def _diag(message, span) -> Diagnostic:
    return Diagnostic(message, span, "path-refused",
                      "file: urls and SQLite files stay inside the configuration folder and "
                      "the data directory's files/ area; more roots come from --allow-path "
                      "or the service metadata's file_roots")


class _Spans:
    """Positions of properties, found again in the configuration's own text."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.trees = {}

    def at(self, span: Span, key: str) -> Span:
        from dtl.syntax.jsontree import JList, JObject, parse_json_text
        text = self.cfg.texts.get(span.file) if span.file else None
        if text is None:
            return span.child(key)
        if span.file not in self.trees:
            try:
                self.trees[span.file] = parse_json_text(text, span.file)
            except Exception:  # noqa: BLE001 - positions are a nicety; the pointer still names it
                self.trees[span.file] = None
        node = self.trees[span.file]
        for part in [p for p in (span.pointer or "").split("/") if p] + [key]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, JObject):
                node = node.get(part)
            elif isinstance(node, JList) and part.isdigit() and int(part) < len(node.items):
                node = node.items[int(part)]
            else:
                node = None
            if node is None:
                return span.child(key)
        return node.span
