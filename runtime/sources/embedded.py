"""`embedded`: the entities written in the pipe configuration; every run is a full run."""

from __future__ import annotations

from dtl import transit
from runtime.config.model import thaw
from runtime.sources.base import Batch, Source, chunks


class EmbeddedSource(Source):
    def __init__(self, pipe, component, batch_size):
        super().__init__(pipe, batch_size)
        self.component = component

    def read(self, since):
        ents = (transit.decode(thaw(e)) for e in self.component.get("entities") or ())
        for b in chunks(ents, self.batch_size):
            yield Batch(b, None)
