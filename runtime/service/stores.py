"""Service-side state kept in the data directory: environment variables (plain JSON) and secrets
(Fernet-encrypted with an instance key). Secret values leave only through `values()`, which the
configuration loader uses for `$SECRET(...)`; the API sees names."""

from __future__ import annotations

import json
import os

from cryptography.fernet import Fernet


def _atomic_write(path: str, data: bytes, mode: int = 0o644) -> None:
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class EnvStore:
    def __init__(self, data_dir):
        self.path = os.path.join(str(data_dir), "service", "env.json")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)

    def get(self) -> dict:
        try:
            with open(self.path, "rb") as f:
                return json.loads(f.read())
        except FileNotFoundError:
            return {}

    def put(self, values: dict) -> dict:
        _atomic_write(self.path, json.dumps(values, sort_keys=True).encode())
        return values

    def merge(self, values: dict) -> dict:
        return self.put({**self.get(), **values})

    def delete(self, name: str) -> bool:
        cur = self.get()
        if name not in cur:
            return False
        del cur[name]
        self.put(cur)
        return True


class SecretStore:
    """Keys are `name` (global) or `<system id>/name` (local to one system), as the loader
    expects them."""

    def __init__(self, data_dir):
        base = os.path.join(str(data_dir), "service")
        os.makedirs(base, exist_ok=True)
        self.path = os.path.join(base, "secrets.enc")
        key_path = os.path.join(base, "secrets.key")
        if not os.path.exists(key_path):
            _atomic_write(key_path, Fernet.generate_key(), 0o600)
        with open(key_path, "rb") as f:
            self._fernet = Fernet(f.read().strip())

    def values(self) -> dict:
        try:
            with open(self.path, "rb") as f:
                return json.loads(self._fernet.decrypt(f.read()))
        except FileNotFoundError:
            return {}

    def _save(self, values: dict) -> None:
        _atomic_write(self.path, self._fernet.encrypt(json.dumps(values).encode()), 0o600)

    def names(self, system: str | None = None) -> list:
        if system is None:
            return sorted(k for k in self.values() if "/" not in k)
        prefix = f"{system}/"
        return sorted(k[len(prefix):] for k in self.values() if k.startswith(prefix))

    def _key(self, name, system):
        return f"{system}/{name}" if system else name

    def put(self, values: dict, system: str | None = None, replace: bool = False) -> list:
        cur = self.values()
        if replace:
            prefix = f"{system}/" if system else None
            cur = {k: v for k, v in cur.items()
                   if (prefix is None and "/" in k) or (prefix and not k.startswith(prefix))}
        for k, v in values.items():
            cur[self._key(k, system)] = v
        self._save(cur)
        return self.names(system)

    def delete(self, name: str, system: str | None = None) -> bool:
        cur = self.values()
        k = self._key(name, system)
        if k not in cur:
            return False
        del cur[k]
        self._save(cur)
        return True


class PumpFlags:
    """Pumps disabled by the `disable` operation (the scheduler skips them; `start` still
    runs them), with the operator's comment. Kept across restarts."""

    def __init__(self, data_dir):
        self.path = os.path.join(str(data_dir), "service", "pumps.json")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)

    def get(self) -> dict:
        try:
            with open(self.path, "rb") as f:
                return json.loads(f.read())
        except FileNotFoundError:
            return {}

    def set(self, pipe_id: str, disabled: bool, comment: str | None = None) -> None:
        cur = self.get()
        if disabled:
            cur[pipe_id] = {"disabled": True, "comment": comment}
        else:
            cur.pop(pipe_id, None)
        _atomic_write(self.path, json.dumps(cur, sort_keys=True).encode())
