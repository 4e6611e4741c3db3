"""A Sesam repository on disk as the client sees it: profile env, whitelist, jinja variables,
testdata files and test specs (test-runner.md §1)."""

from __future__ import annotations

import configparser
import itertools
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from runtime.testing.spec import SUFFIX


class RepoError(Exception):
    pass


@dataclass
class Whitelist:
    files: list
    pipes: list
    systems: list

    @classmethod
    def read(cls, path: Path) -> "Whitelist":
        try:
            lines = [ln.strip() for ln in path.read_text(encoding="utf-8").split("\n")]
        except OSError as e:
            raise RepoError(f"cannot read whitelist file '{path}': {e.strerror}") from None
        files = [ln for ln in lines if ln]
        pipes = [_stem(ln[len("pipes/"):]) for ln in files if ln.startswith("pipes/")]
        systems = [_stem(ln[len("systems/"):]) for ln in files if ln.startswith("systems/")]
        return cls(files, pipes, systems)

    def allows_pipe(self, pipe_id: str) -> bool:
        # the client tests the pipe list for truthiness: a whitelist naming no pipe allows all
        return not self.pipes or pipe_id in self.pipes


def _stem(name: str) -> str:
    return name[:-len(".conf.json")] if name.endswith(".conf.json") else name


def _read_kv_file(path: Path) -> dict:
    """A JSON object, else `name=value` lines (an INI file without a section header), the way
    the client reads `.syncconfig` and `.jinja_vars`; INI keys come out lower-cased."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        if isinstance(data, dict) and data:
            return data
    except ValueError:
        pass
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read_file(itertools.chain(["[sesam]"], text.splitlines()), source=str(path))
    except configparser.Error as e:
        raise RepoError(f"cannot parse '{path}': {e}") from None
    return {k.lower(): v for s in parser.sections() for k, v in parser.items(s)}


@dataclass
class Repo:
    root: Path
    profile: str = "test"
    whitelist: Whitelist | None = None
    jinja_vars: dict = field(default_factory=dict)

    @classmethod
    def open(cls, root, *, profile: str = "test", whitelist_file=None) -> "Repo":
        root = Path(root)
        if not root.is_dir():
            raise RepoError(f"no repository folder at '{root}'")
        wl = None
        if whitelist_file is not None:
            p = Path(whitelist_file)
            wl = Whitelist.read(p if p.is_absolute() or p.exists() else root / p)
        jv = root / ".jinja_vars"
        return cls(root, profile, wl, _read_kv_file(jv) if jv.is_file() else {})

    # -- environment -----------------------------------------------------------------------
    def env(self) -> dict:
        """The profile's variables; `../.additional_parameters.json` overrides single values."""
        path = self.root / f"{self.profile}-env.json"
        env = {}
        if path.is_file():
            try:
                env = json.loads(path.read_text(encoding="utf-8-sig"))
            except ValueError as e:
                raise RepoError(f"failed to parse profile '{path.name}': {e}") from None
            if not isinstance(env, dict):
                raise RepoError(f"profile '{path.name}' must hold a JSON object")
        elif self.profile != "test":   # (ours) the default profile file may be absent
            raise RepoError(f"cannot locate profile file '{path.name}'")
        extra = self.root.parent / ".additional_parameters.json"
        if extra.is_file():
            try:
                env.update(json.loads(extra.read_text(encoding="utf-8")))
            except (ValueError, TypeError) as e:
                raise RepoError(f"failed to parse '{extra}': {e}") from None
        return env

    # -- configuration files ----------------------------------------------------------------
    def config_files(self) -> list[str]:
        """Configuration files the client would upload, relative to the root."""
        out = []
        for folder in ("pipes", "systems"):
            for dirpath, _, files in sorted(os.walk(self.root / folder)):
                for f in sorted(files):
                    if f.endswith(".conf.json"):
                        out.append(Path(dirpath, f).relative_to(self.root).as_posix())
        if (self.root / "node-metadata.conf.json").is_file():
            out.append("node-metadata.conf.json")
        if self.whitelist is not None:
            out = [f for f in out if f in self.whitelist.files]
        return out

    def substitute(self, text: str) -> str:
        """`{{@ name @}}` → the value from `.jinja_vars`."""
        for name, value in self.jinja_vars.items():
            text = text.replace("{{@ %s @}}" % name, str(value))
        return text

    def stage(self, target: Path) -> Path:
        """Copy the configuration the client would upload (whitelisted, jinja-substituted) to
        `target`, which `load_config` then reads; file names stay the same for error spans."""
        for rel in self.config_files():
            dst = target / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            src = self.root / rel
            if self.jinja_vars:
                dst.write_text(self.substitute(src.read_text(encoding="utf-8")), encoding="utf-8")
            else:
                shutil.copyfile(src, dst)
        return target

    def secrets_file(self) -> Path | None:
        for name in (f"{self.profile}-secrets.json", "secrets.json"):
            if (self.root / name).is_file():
                return self.root / name
        return None

    # -- testdata and specs -----------------------------------------------------------------
    def has_testdata(self) -> bool:
        return (self.root / "testdata").is_dir()

    def testdata(self) -> list[tuple[str, Path]]:
        """(pipe id, file) for every `testdata/**/*.json` (case-insensitive suffix), whitelisted."""
        out = []
        for dirpath, _, files in sorted(os.walk(self.root / "testdata")):
            for f in sorted(files):
                if not f.lower().endswith(".json"):
                    continue
                pipe_id = os.path.splitext(f)[0]
                if self.whitelist is None or self.whitelist.allows_pipe(pipe_id):
                    out.append((pipe_id, Path(dirpath, f)))
        return out

    def spec_files(self) -> list[str]:
        folder = self.root / "expected"
        if not folder.is_dir():
            return []
        return sorted(f"expected/{p.name}" for p in folder.iterdir()
                      if p.name.endswith(SUFFIX) and p.is_file())

    def allows_pipe(self, pipe_id: str) -> bool:
        return self.whitelist is None or self.whitelist.allows_pipe(pipe_id)
