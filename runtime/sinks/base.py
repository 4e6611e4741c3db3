"""The sink protocol: `write(entities, state)` stores one batch and, for sinks that can, the
pipe's continuation state in the same atomic commit. Connectors implement the same shape."""

from __future__ import annotations


class Sink:
    atomic_state = False     # True: the pipe state is committed with each write

    def begin(self, full: bool):
        """Called at run start (full: deletion tracking will follow)."""

    def write(self, entities: list, state: dict | None, strict: bool = False):
        """Store a batch; returns (changed count, [(position, _id, message) refused])."""
        raise NotImplementedError  # pragma: no cover

    def finish(self, state: dict | None, full: bool, ok: bool) -> int:
        """End of a run: deletion tracking and the final state. Returns changes made."""
        return 0

    def load_state(self) -> dict | None:
        return None

    def save_state(self, state: dict) -> None:
        raise NotImplementedError  # pragma: no cover

    def close(self):
        pass
