"""The property catalog: every documented pipe, pump, source, transform, sink and system type."""

from runtime.config.catalog.base import MISSING, Kind, Prop, T, type_names
from runtime.config.catalog.pipe import GLOBAL_DEFAULT_TARGETS, METADATA, PIPE, PUMP
from runtime.config.catalog.sinks import SINKS
from runtime.config.catalog.sources import SOURCES
from runtime.config.catalog.systems import SYSTEMS
from runtime.config.catalog.transforms import TRANSFORMS

COMPONENTS = {"source": SOURCES, "transform": TRANSFORMS, "sink": SINKS}

__all__ = ["MISSING", "Kind", "Prop", "T", "type_names", "PIPE", "PUMP", "METADATA",
           "GLOBAL_DEFAULT_TARGETS", "SOURCES", "TRANSFORMS", "SINKS", "SYSTEMS", "COMPONENTS"]
