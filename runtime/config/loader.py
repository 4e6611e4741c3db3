"""Reading a configuration: a folder in Sesam's repository layout or one JSON array file.

Every file is parsed into a positioned tree, so later errors can name file:line:col. File names
in spans are relative to the configuration root, as a person would type them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lark.exceptions import VisitError

from dtl.errors import DTLSyntaxError, Span
from dtl.syntax.jsontree import JList, JObject, JScalar, parse_json_text, to_python
from runtime.config.problems import Problems

ENTITY_GLOBS = ("node-metadata.conf.json", "pipes/**/*.conf.json", "systems/**/*.conf.json")


@dataclass
class Secrets:
    """Global secrets and system-local ones (which win). Values never leave through reprs."""

    global_: dict = field(default_factory=dict, repr=False)
    local: dict = field(default_factory=dict, repr=False)  # system _id -> {name: value}

    def lookup(self, name: str, system_id: str | None):
        local = self.local.get(system_id or "", {})
        if name in local:
            return local[name]
        return self.global_.get(name)

    def names(self, system_id: str | None) -> list[str]:
        return sorted(set(self.global_) | set(self.local.get(system_id or "", {})))

    def __repr__(self) -> str:
        return f"Secrets(<{len(self.global_)} global, {len(self.local)} system-local>)"


@dataclass
class Loaded:
    root: Path
    entities: list = field(default_factory=list)   # (JObject | other JNode, file name)
    texts: dict = field(default_factory=dict)      # file name -> text (never the secrets file)
    files: list = field(default_factory=list)      # entity files in load order
    env: dict = field(default_factory=dict)
    env_file: str | None = None
    secrets: Secrets = field(default_factory=Secrets)


def load_files(root: Path, problems: Problems, *, profile: str | None = None,
               env: dict | None = None, secrets: dict | None = None,
               secrets_file: Path | None = None) -> Loaded:
    root = Path(root)
    out = Loaded(root if root.is_dir() else root.parent)
    if root.is_dir():
        paths = []
        for pattern in ENTITY_GLOBS:
            paths.extend(sorted(root.glob(pattern)))
        for path in paths:
            _read_entities(out, path, problems)
        _read_env(out, profile, problems)
        found = secrets_file or _default_secrets_file(root, profile)
    elif root.exists():
        _read_entities(out, root, problems)
        found = secrets_file or _default_secrets_file(out.root, profile)
        _read_env(out, profile, problems)
    else:
        problems.error(f"no configuration at {str(root)!r}", Span(str(root)), "no-config")
        return out
    if env:
        out.env.update(env)  # values passed in win over the profile file
    if found is not None:
        _read_secrets(out, Path(found), problems)
    if secrets:
        _add_secrets(out.secrets, secrets)
    return out


def _name(out: Loaded, path: Path) -> str:
    try:
        return path.resolve().relative_to(out.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _parse(out: Loaded, path: Path, problems: Problems, keep_text: bool = True):
    name = _name(out, path)
    try:
        # utf-8-sig: a byte order mark (Windows editors write one) is not content; the
        # Sesam client reads these files so too
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        problems.error(f"cannot read {name}: {e.__class__.__name__}", Span(name), "io")
        return name, None
    if keep_text:
        out.texts[name] = text
    try:
        return name, parse_json_text(text, name)
    except DTLSyntaxError as e:
        if keep_text:
            problems.extend(e.diagnostics)
        else:  # the message may quote a character of a secret: say only where
            d = e.diagnostics[0]
            problems.error("the secrets file is not valid JSON", d.span, "json-syntax")
        return name, None
    except VisitError:
        # the positioned parser lets a bad string escape (raw control character) through as a
        # lark VisitError; its message would quote the string, so say only which file
        problems.error("invalid JSON string (a raw control character or bad escape)",
                       Span(name), "json-syntax")
        return name, None


def _read_entities(out: Loaded, path: Path, problems: Problems):
    name, tree = _parse(out, path, problems)
    out.files.append(name)
    if tree is None:
        return
    items = tree.items if isinstance(tree, JList) else (tree,)
    for item in items:
        out.entities.append((item, name))


def _profile_path(root: Path, profile: str, suffix: str) -> Path:
    # a profile may be a path such as profiles/prod (test-runner.md §1)
    return root / f"{profile}-{suffix}.json"


def _read_env(out: Loaded, profile: str | None, problems: Problems):
    path = _profile_path(out.root, profile or "test", "env")
    if not path.exists():
        if profile is not None:
            problems.error(f"profile {profile!r}: no environment file {_name(out, path)}",
                           Span(_name(out, path)), "no-profile")
        return
    name, tree = _parse(out, path, problems)
    if tree is None:
        return
    if not isinstance(tree, JObject):
        problems.error("an environment file must hold one JSON object", tree.span, "wrong-type")
        return
    out.env_file = name
    out.env.update(to_python(tree))


def _default_secrets_file(root: Path, profile: str | None) -> Path | None:
    # (ours) secrets live beside the profile: <profile>-secrets.json, else secrets.json
    for cand in (_profile_path(root, profile or "test", "secrets"), root / "secrets.json"):
        if cand.exists():
            return cand
    return None


def _read_secrets(out: Loaded, path: Path, problems: Problems):
    name, tree = _parse(out, path, problems, keep_text=False)
    if tree is None:
        return
    if not isinstance(tree, JObject):
        problems.error("a secrets file must hold one JSON object", Span(name), "wrong-type")
        return
    for key, key_span, value in tree.items:
        if not (isinstance(value, JScalar) and isinstance(value.value, str)):
            problems.error(f"secret {key!r} must be a string", key_span, "wrong-type")
            continue
        _add_secrets(out.secrets, {key: value.value})


def _add_secrets(secrets: Secrets, values: dict):
    """`name` is a global secret; `system-id/name` is local to that system (an `_id` has no `/`)."""
    for key, value in values.items():
        system, slash, name = key.partition("/")
        if slash:
            secrets.local.setdefault(system, {})[name] = value
        else:
            secrets.global_[key] = value
