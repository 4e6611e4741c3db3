"""The sink protocol: what the pump calls, and the capabilities a sink declares.

Every sink has `begin`, `write`, `flush`, `finish`, `load_state`/`save_state` and `close`; the
class attributes say which of the optional behaviours it has, so the pump never guesses:

* `atomic_state` - `write(entities, state)` commits the pipe's continuation state in the same
  atomic commit as the entities (and `load_state` reads it back).
* `groups` - writes are staged and committed in groups (many batches per storage commit);
  `flush()` commits what is staged, and `finish`/`close` always do. Until then a write, and
  the state that came with it, is not durable: a crash resumes after the last commit.
* `checkpoint` - the sink commits every write itself (connectors): the pump saves the pipe
  state after each write, so the marker stays in step with what the target holds.
* `resumes` - (with `checkpoint`) an interrupted full run is continued after the last
  checkpoint instead of restarted: `position()` is kept in the pipe state at every checkpoint
  of a full run and handed back to `resume(position)` after `begin(True)`.
* `populates` - `set_populated()` marks the sink's dataset populated after a complete run.
* `on_event` - set by the pump to `on_event(kind, message, **fields)`: connector retries are
  reported there, into the pipe's execution log.
"""

from __future__ import annotations


class Sink:
    atomic_state = False
    groups = False
    checkpoint = False
    populates = False
    resumes = False
    on_event = None

    def begin(self, full: bool):
        """Called at run start (full: deletion tracking will follow)."""

    def write(self, entities: list, state: dict | None, strict: bool = False):
        """Store a batch; returns (changed count, [(position, _id, message) refused])."""
        raise NotImplementedError  # pragma: no cover

    def position(self) -> dict | None:
        """Sinks with `resumes`: what continuing the current full run needs."""
        return None

    def resume(self, position: dict) -> None:
        """Sinks with `resumes`: continue the full run `position()` was taken in."""

    def flush(self) -> None:
        """Commit staged writes now (sinks with `groups`)."""

    def finish(self, state: dict | None, full: bool, ok: bool) -> int:
        """End of a run: deletion tracking and the final state. Returns changes made."""
        return 0

    def load_state(self) -> dict | None:
        return None

    def save_state(self, state: dict) -> None:
        raise NotImplementedError  # pragma: no cover

    def set_populated(self) -> None:
        """Sinks with `populates`: mark the target populated."""

    def close(self):
        pass
