"""Systems: connection holders shared by the sources and sinks of a hub (spec §15).

`system:url` (HTTP client, or `file://` for offline files) and the SQL systems
(`postgresql`, `mysql`, `sqlite`). A hub keeps one instance per system id, so pipes share
its connection pool; `Hub.close()` closes them."""

from __future__ import annotations


SQL_KINDS = ("postgresql", "mysql", "sqlite")


def make_system(system, roots):
    """`roots` (runtime.confine.Roots): where file: urls and sqlite files may be."""
    if system.type == "url":
        from runtime.systems.url import UrlSystem
        return UrlSystem(system.id, system.config, roots)
    if system.type in SQL_KINDS:
        from runtime.systems.sql import SqlSystem
        return SqlSystem(system.id, system.type, system.config, roots)
    raise ValueError(f"system {system.id!r}: system:{system.type} is not supported offline")


class Systems:
    """The hub's systems, built on first use."""

    def __init__(self, config, roots):
        self.config = config
        self.roots = roots
        self._live = {}

    def get(self, system_id):
        s = self._live.get(system_id)
        if s is None:
            try:
                sysdef = self.config.systems[system_id]
            except KeyError:
                raise ValueError(f"no system named {system_id!r}") from None
            s = self._live[system_id] = make_system(sysdef, self.roots)
        return s

    def close(self):
        for s in self._live.values():
            s.close()
        self._live.clear()
