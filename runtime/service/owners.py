"""Who created each pipe, system and dataset through the API (service-api.md §2: the User role
manages its own). Kept beside the configuration in the dataset `system:config-owners`, keyed
`<kind>:<id>`, so an upload cannot claim or change an owner: only the server writes it.

An owner is recorded when the API creates the entity and kept while it is replaced; deleting
the entity, or a configuration upload that no longer holds it, forgets it. Entities from the
configuration folder or a whole-config upload have no owner (only roles that manage any
entity manage them). A crash between the configuration write and the owner's leaves an
entity without owner: fail closed, never someone else's."""

from __future__ import annotations

NAME = "system:config-owners"


class Owners:
    def __init__(self, store):
        self.store = store
        self._by_key = {}
        if store.exists(NAME):
            with store.open(NAME) as ds:
                self._by_key = {e["_id"]: e.get("owner") for e in ds.entities()
                                if not e.get("_deleted")}

    def owner(self, kind: str, ident: str) -> str | None:
        return self._by_key.get(f"{kind}:{ident}")

    def set(self, kind: str, pairs) -> None:
        """Record `owner` for each (ident, owner) of `kind`."""
        rows = [{"_id": f"{kind}:{i}", "owner": o} for i, o in pairs]
        if not rows:
            return
        with self.store.open(NAME, writer=True, create=True) as ds:
            ds.append(rows)
        self._by_key.update({r["_id"]: r["owner"] for r in rows})

    def forget(self, kind: str, idents) -> None:
        keys = [f"{kind}:{i}" for i in idents if f"{kind}:{i}" in self._by_key]
        if not keys:
            return
        with self.store.open(NAME, writer=True) as ds:
            ds.delete(keys)
        for k in keys:
            self._by_key.pop(k, None)

    def keep_only(self, kind: str, idents) -> None:
        """Forget the owners of `kind` entities not in `idents` (after an upload)."""
        keep = {f"{kind}:{i}" for i in idents}
        prefix = kind + ":"
        self.forget(kind, [k[len(prefix):] for k in self._by_key
                           if k.startswith(prefix) and k not in keep])
