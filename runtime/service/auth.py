"""Bearer JWTs and role/ACL permissions (service-api.md §2).

Tokens are signed HS256 with a key kept in the data directory (created on first use), or RS256
by an external issuer whose public key the server is given. Claims: `sub`, `email`,
`principals` (e.g. `group:Developer`, `user:ann@example.com`), `iat`, `exp`. A request without a
token acts as `group:Anonymous`, which has no permissions unless a pipe's ACL grants some.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass

import jwt

ROLES = ("Admin", "Developer", "User", "Guest")
PIPE_PERMS = ("read_config", "write_config", "run_pump_operation", "read_data", "write_data")
# `manage_node`: /config, /env, /secrets, /metadata; `read_metrics`: /metrics (ours, §2 mapping)
ROLE_PERMS = {
    "Admin": frozenset(PIPE_PERMS + ("manage_node", "read_metrics")),
    "Developer": frozenset(PIPE_PERMS + ("manage_node",)),
    "User": frozenset(PIPE_PERMS),          # own pipes/systems and data; no config upload
    "Guest": frozenset(("read_config", "read_data")),
}
# what a role may do only to the pipes, systems and datasets its user owns (owners.py)
OWN_ONLY = {"User": frozenset(("write_config", "run_pump_operation", "write_data"))}
ANONYMOUS = "group:Anonymous"


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Principal:
    sub: str
    principals: tuple

    @property
    def anonymous(self) -> bool:
        return self.principals == (ANONYMOUS,)

    @property
    def roles(self) -> list:
        return [p[len("group:"):] for p in self.principals
                if p.startswith("group:") and p[len("group:"):] in ROLE_PERMS]

    @property
    def owner_id(self) -> str:
        """Who owns what this caller creates: its `user:` principal, else its subject."""
        return next((p for p in self.principals if p.startswith("user:")), f"user:{self.sub}")

    def role_perms(self, owns: bool = True) -> set:
        out = set()
        for r in self.roles:
            out |= ROLE_PERMS[r] if owns else ROLE_PERMS[r] - OWN_ONLY.get(r, frozenset())
        return out


ANON = Principal("anonymous", (ANONYMOUS,))


def key_path(data_dir) -> str:
    return os.path.join(str(data_dir), "service", "jwt-hs256.key")


def local_key(data_dir) -> bytes:
    """The instance's HS256 signing key, created (mode 0600) the first time it is needed."""
    path = key_path(data_dir)
    try:
        with open(path, "rb") as f:
            return f.read().strip()
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return key


def mint(key, role: str | None = None, *, sub: str = "dtl", email: str | None = None,
         principals=(), ttl: float = 30 * 86400, algorithm: str = "HS256", now=None) -> str:
    """A token for `role` (and any extra principals), valid `ttl` seconds."""
    if role is not None and role not in ROLE_PERMS:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    now = int(now if now is not None else time.time())
    ps = ([f"group:{role}"] if role else []) + list(principals)
    if email:
        ps.append(f"user:{email}")
    claims = {"sub": sub, "principals": ps, "iat": now, "exp": int(now + ttl)}
    if email:
        claims["email"] = email
    return jwt.encode(claims, key, algorithm=algorithm)


class Verifier:
    """Checks bearer tokens: HS256 with the local key, RS256 with a configured public key.
    The algorithm list is fixed per key, so a token cannot pick how it is checked."""

    def __init__(self, hs_key: bytes | None, rs_public_key: str | None = None,
                 enabled: bool = True):
        self.hs_key = hs_key
        self.rs_key = rs_public_key
        self.enabled = enabled

    def principal(self, authorization: str | None) -> Principal:
        if not self.enabled:
            return Principal("local", ("group:Admin",))
        if not authorization:
            return ANON
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "invalid-token", "expected 'Authorization: Bearer <JWT>'")
        token = token.strip()
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError:
            raise AuthError(401, "invalid-token", "the token is not a JWT") from None
        key = self.hs_key if alg == "HS256" else self.rs_key if alg == "RS256" else None
        if key is None:
            raise AuthError(401, "invalid-token", f"tokens signed with {alg!r} are not accepted")
        try:
            claims = jwt.decode(token, key, algorithms=[alg],
                                options={"require": ["exp", "iat"]})
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "token-expired", "the token has expired") from None
        except jwt.PyJWTError as e:
            raise AuthError(401, "invalid-token", f"the token was refused: {e}") from None
        ps = claims.get("principals") or []
        if not isinstance(ps, list) or not all(isinstance(p, str) for p in ps):
            raise AuthError(401, "invalid-token", "'principals' must be a list of strings")
        return Principal(str(claims.get("sub") or claims.get("email") or "?"), tuple(ps))


def allowed(user: Principal, perm: str, acl=None, owns: bool = True) -> bool:
    """Role defaults (on what the user does not own, without the OWN_ONLY ones), plus what a
    pipe/system ACL allows the user's principals; any matching deny wins (ours)."""
    ok = perm in user.role_perms(owns)
    for entry in acl or ():
        if not (isinstance(entry, list | tuple) and len(entry) == 3):
            continue
        kind, who, perms = entry
        if not (set(who or ()) & (set(user.principals) | {"group:Everyone"})):
            continue
        if perm in (perms or ()) or "*" in (perms or ()):
            if kind == "deny":
                return False
            if kind == "allow":
                ok = True
    return ok


def require(user: Principal, perm: str, acl=None, owns: bool = True) -> None:
    """Raise 401 (anonymous) or 403 (authenticated) unless `perm` is granted."""
    if not allowed(user, perm, acl, owns):
        if user.anonymous:
            raise AuthError(401, "unauthorized", "this call needs a bearer token")
        if not owns and allowed(user, perm, acl):
            raise AuthError(403, "forbidden", f"permission {perm!r} is granted on what you "
                            "created through the API only")
        raise AuthError(403, "forbidden", f"permission {perm!r} is not granted")
