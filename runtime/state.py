"""Pipe state (continuation value, dependency-tracking offsets, run counters) for sinks that
cannot commit it with their writes: a JSON file replaced atomically (temp, fsync, rename)."""

from __future__ import annotations

import json
import os


class FileState:
    def __init__(self, root, pipe_id):
        from urllib.parse import quote
        self.path = os.path.join(root, "pipes", quote(pipe_id, safe="-_.") + ".json")

    def load(self):
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def save(self, state):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
