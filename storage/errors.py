"""Storage errors. `EntityError` is bad data (CLI exit 3); the rest are storage/I-O (exit 4)."""

from __future__ import annotations


class StorageError(Exception):
    """A dataset could not be read or written."""


class WriterLockedError(StorageError):
    """Another writer (in this or another process) holds the dataset."""


class CorruptionError(StorageError):
    """Segments, commit log and indexes disagree."""


class NoSuchDataset(StorageError, KeyError):
    def __str__(self):
        return f"no dataset named {self.args[0]!r}"


class EntityError(ValueError):
    """One or more entities cannot be stored; `problems` is [(position, _id or None, message)]."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = [f"entity #{pos}" + (f" (_id {eid!r})" if eid is not None else "") + f": {msg}"
                 for pos, eid, msg in self.problems[:20]]
        if len(self.problems) > 20:
            lines.append(f"... and {len(self.problems) - 20} more")
        super().__init__("\n".join(lines))
