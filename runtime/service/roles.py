"""What each route needs: the one table of the service's authorization (service-api.md §2).

Every route of the application has an entry here, keyed by method and path template; the
app refuses to start when one has none (`check_routes`), and a route the table does not know
answers 403 (fail closed). `guard` is a dependency of every API router: it checks the entry
before the route runs, so a route's own code never decides who may call it.

An entry is a permission and its scope:
- `public`: no token needed (health, ping, the OpenAPI document, the Studio's static pages);
- `node`: the permission from the caller's roles (`ROLE_PERMS`); a role's OWN_ONLY
  permissions do not count here (run-all-pipes runs pipes of every owner);
- `create`: as `node`, but the caller will own what the route creates (POST /pipes,
  /systems; replacing an existing one is checked on it, routes_config);
- `pipe` / `system`: the role's permission, widened or narrowed by the `permissions` ACL of
  the pipe (`pipe_id`) or system (`system_id`) in the path; an ACL may open a receiver or a
  publisher to `group:Anonymous`;
- `dataset`: a dataset written by a pipe follows that pipe's ACL and owner (`dataset_id`);
  one no pipe writes has the owner who created it through the API (a new one: the caller).

On a `pipe`, `system` or `dataset` scope the OWN_ONLY permissions of a role (the User's
write_config, run_pump_operation, write_data) hold only for its user's own (owners.py).

An anonymous caller who lacks the permission gets 401, an authenticated one 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime.service.auth import Principal, require


@dataclass(frozen=True)
class Need:
    perm: str | None
    scope: str = "node"   # public | node | create | pipe | system | dataset

    def __str__(self):
        return "public" if self.perm is None else f"{self.perm} ({self.scope})"


PUBLIC = Need(None, "public")


def node(perm):
    return Need(perm, "node")


def pipe(perm):
    return Need(perm, "pipe")


def create(perm):
    return Need(perm, "create")


def system(perm):
    return Need(perm, "system")


def dataset(perm):
    return Need(perm, "dataset")


A = "/api"
TABLE: dict[tuple[str, str], Need] = {
    # service
    ("GET", A + "/health"): PUBLIC,
    ("GET", A + "/ping"): PUBLIC,
    ("GET", A): node("read_config"),
    ("GET", A + "/metadata"): node("manage_node"),
    ("PUT", A + "/metadata"): node("manage_node"),
    ("GET", A + "/metrics"): node("read_metrics"),
    # the whole configuration and its history
    ("GET", A + "/config"): node("manage_node"),
    ("PUT", A + "/config"): node("manage_node"),
    ("GET", A + "/config-history/entity"): node("manage_node"),
    # pipes
    ("GET", A + "/pipes"): node("read_config"),
    ("POST", A + "/pipes"): create("write_config"),
    ("POST", A + "/pipes/run-all-pipes"): node("run_pump_operation"),
    ("GET", A + "/pipes/get-pipe-runner-status"): node("read_config"),
    ("GET", A + "/pipes/{pipe_id}"): pipe("read_config"),
    ("DELETE", A + "/pipes/{pipe_id}"): pipe("write_config"),
    ("GET", A + "/pipes/{pipe_id}/config"): pipe("read_config"),
    ("PUT", A + "/pipes/{pipe_id}/config"): pipe("write_config"),
    ("GET", A + "/pipes/{pipe_id}/entities"): pipe("read_data"),
    ("GET", A + "/pipes/{pipe_id}/log"): pipe("read_data"),
    ("GET", A + "/pipes/{pipe_id}/pump"): pipe("read_config"),
    ("POST", A + "/pipes/{pipe_id}/pump"): pipe("run_pump_operation"),
    # an unsaved configuration in the body also needs write_config (routes_pipes)
    ("POST", A + "/pipes/{pipe_id}/preview"): pipe("read_data"),
    # systems
    ("GET", A + "/systems"): node("read_config"),
    ("POST", A + "/systems"): create("write_config"),
    ("GET", A + "/systems/{system_id}"): system("read_config"),
    ("DELETE", A + "/systems/{system_id}"): system("write_config"),
    ("GET", A + "/systems/{system_id}/config"): system("read_config"),
    ("PUT", A + "/systems/{system_id}/config"): system("write_config"),
    # a system's secrets: names only, but knowing them is part of writing the system
    ("GET", A + "/systems/{system_id}/secrets"): system("write_config"),
    ("PUT", A + "/systems/{system_id}/secrets"): system("write_config"),
    ("POST", A + "/systems/{system_id}/secrets"): system("write_config"),
    ("DELETE", A + "/systems/{system_id}/secrets/{secret_key}"): system("write_config"),
    # datasets
    ("GET", A + "/datasets"): node("read_data"),
    ("GET", A + "/datasets/{dataset_id}"): dataset("read_data"),
    ("DELETE", A + "/datasets/{dataset_id}"): dataset("write_data"),
    ("GET", A + "/datasets/{dataset_id}/entities"): dataset("read_data"),
    ("POST", A + "/datasets/{dataset_id}/entities"): dataset("write_data"),
    ("GET", A + "/datasets/{dataset_id}/entity"): dataset("read_data"),
    # publishers and receivers (a pipe's ACL may open them to group:Anonymous)
    ("GET", A + "/publishers/{pipe_id}/entities"): pipe("read_data"),
    ("GET", A + "/publishers/{pipe_id}/entities/{filename}"): pipe("read_data"),
    ("GET", A + "/publishers/{pipe_id}/csv"): pipe("read_data"),
    ("GET", A + "/publishers/{pipe_id}/csv/{filename}"): pipe("read_data"),
    ("POST", A + "/receivers/{pipe_id}/entities"): pipe("write_data"),
    # environment and secrets
    ("GET", A + "/env"): node("manage_node"),
    ("PUT", A + "/env"): node("manage_node"),
    ("POST", A + "/env"): node("manage_node"),
    ("PATCH", A + "/env"): node("manage_node"),
    ("DELETE", A + "/env/{env_var}"): node("manage_node"),
    ("GET", A + "/secrets"): node("manage_node"),
    ("PUT", A + "/secrets"): node("manage_node"),
    ("POST", A + "/secrets"): node("manage_node"),
    ("DELETE", A + "/secrets/{secret_key}"): node("manage_node"),
    # DTL and tests
    ("POST", A + "/dtl/test"): node("read_data"),
    ("POST", A + "/tests/run"): node("manage_node"),
    # the OpenAPI document and its browser, the Studio's pages (they hold no data)
    ("GET", A + "/openapi.json"): PUBLIC,
    ("HEAD", A + "/openapi.json"): PUBLIC,
    ("GET", A + "/reference"): PUBLIC,
    ("HEAD", A + "/reference"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("HEAD", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/studio"): PUBLIC,
    ("GET", "/studio/{path:path}"): PUBLIC,
}
# static file mounts: public, they serve the Studio's code and nothing of the node's
PUBLIC_MOUNTS = ("/studio/assets", "/studio/vendor/")

SCOPE_PARAM = {"pipe": "pipe_id", "system": "system_id", "dataset": "dataset_id"}


def need_of(method: str, path: str) -> Need | None:
    return TABLE.get((method.upper(), path))


def _walk(routes):
    for r in routes:
        sub = getattr(r, "original_router", None)   # newer FastAPI keeps included routers
        if sub is not None:
            yield from _walk(sub.routes)
        else:
            yield r


def route_keys(app) -> list[tuple[str, str]]:
    """(method, path template) of every route the app answers, mounts aside."""
    from starlette.routing import Mount
    out = []
    for r in _walk(app.routes):
        if isinstance(r, Mount):
            continue
        for m in sorted(getattr(r, "methods", None) or ()):
            out.append((m, r.path))
    return out


def mounts(app) -> list[str]:
    from starlette.routing import Mount
    return [r.path for r in _walk(app.routes) if isinstance(r, Mount)]


def check_routes(app) -> None:
    """Every route has an entry and every mount is a public one; else the app does not start."""
    missing = [f"{m} {p}" for m, p in route_keys(app) if (m, p) not in TABLE]
    odd = [p for p in mounts(app) if not p.startswith(PUBLIC_MOUNTS)]
    if missing or odd:
        raise RuntimeError("routes without an entry in runtime/service/roles.py TABLE: "
                           + ", ".join(missing + odd))


def _acl_owns(n, user: Principal, kind: str, ident: str, ent):
    from runtime.service.common import acl_of
    if kind == "dataset" and ent is not None:
        kind, ident = "pipe", ent.id
    if kind == "dataset":
        owner = n.owners.owner("dataset", ident) if _exists(n, ident) else user.owner_id
    else:
        owner = n.owners.owner(kind, ident) if ent is not None else user.owner_id
    acl = acl_of(getattr(ent, "original", None)) if ent is not None else None
    return acl, owner == user.owner_id


def _exists(n, name) -> bool:
    try:
        return n.store.exists(name)
    except Exception:  # noqa: BLE001 - an invalid name names no dataset (the route says so)
        return False


def permit(n, user: Principal, perm: str, kind: str, ident: str, ent=None) -> None:
    """Raise AuthError (401 or 403, saying why) unless `user` has `perm` on the pipe, system
    or dataset `ident` (`ent`: the pipe or system, a dataset's writer pipe; None when there
    is none): roles, ACL and owner."""
    require(user, perm, *_acl_owns(n, user, kind, ident, ent))


def _entity(n, scope, ident):
    cfg = n.config
    if scope == "pipe":
        return cfg.pipes.get(ident)
    if scope == "system":
        return cfg.systems.get(ident)
    return cfg.writer(ident)


def authorize(n, user: Principal, need: Need, params: dict) -> None:
    """Raise AuthError unless `user` may use a route with `need` (path parameters `params`)."""
    if need.perm is None:
        return
    if need.scope in ("node", "create"):
        require(user, need.perm, None, owns=need.scope == "create")
        return
    ident = params.get(SCOPE_PARAM[need.scope])
    if ident is None:
        require(user, need.perm, None, owns=False)
        return
    permit(n, user, need.perm, need.scope, ident, _entity(n, need.scope, ident))
