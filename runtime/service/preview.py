"""A pipe's transforms run on one entity without writing anything (the Studio's Preview):
the saved or an unsaved configuration, a given source entity or the first one the source
reads, and the entities after each stage. Configuration and DTL errors come back positioned
in the configuration text the caller sent, so an editor can mark their line."""

from __future__ import annotations

import json

from runtime.service import configstore
from runtime.service.node import NodeError, validation_errors

NO_ENTITY_SOURCES = ("http_endpoint",)


def preview(node, pipe_id, body, files_ok=True) -> dict:
    if not isinstance(body, dict):
        raise NodeError(400, "bad-body", "expected {entity?, config?}")
    entity, config = body.get("entity"), body.get("config")
    if entity is not None and not isinstance(entity, dict):
        raise NodeError(400, "bad-body", "entity must be an object")
    out = {"pipe": pipe_id, "source_entity": None, "before_transforms": [], "stages": [],
           "after_transforms": [], "sink": [], "errors": []}
    if config is None:
        pipe = node.pipe(pipe_id)
        cfg = node.config
    else:
        pipe, cfg, errs = _unsaved(node, pipe_id, config, files_ok)
        out["errors"] = errs
        if pipe is None or errs:
            return out
    from dtl import transit
    if entity is None:
        entity = _first_entity(node, pipe)
        out["sampled"] = entity is not None
        if entity is None:
            entity = {"_id": "sample"}
        entity = json.loads(transit.dumps(entity))
    out["source_entity"] = entity
    from runtime.transforms import EntityFailure, build_chain
    hub = node.hub
    try:
        chain = build_chain(pipe, hub.provider, hub._services(pipe), backend=hub.backend)
    except Exception as e:  # noqa: BLE001 - an unsupported transform is an answer, not a crash
        out["errors"].append({"msg": str(e), "level": "error"})
        return out
    trace: list = []
    try:
        result = chain(transit.decode(entity), trace=trace)
    except EntityFailure as f:
        result = None
        out["errors"].append({"level": "error", "msg": str(f), "_id": entity.get("_id")})
    enc = [[json.loads(transit.dumps(e)) for e in stage] for stage in trace]
    if enc:
        out["before_transforms"] = enc[0]
        out["stages"] = [{"type": t.type, "entities": es}
                         for t, es in zip(pipe.transforms, enc[1:])]
    if result is not None:
        out["after_transforms"] = [json.loads(transit.dumps(e)) for e in result]
        # offline the sink stores what the transforms give (no sink-side rewriting)
        out["sink"] = [e for e in out["after_transforms"] if not e.get("_filtered")]
    return out


def _unsaved(node, pipe_id, config, files_ok=True):
    """The unsaved pipe loaded within the deployed configuration (its hops, systems and
    namespaces resolve as they would after Save); errors are those of its own text."""
    text = config if isinstance(config, str) else json.dumps(config, indent=2)
    try:
        ents = configstore.entities_of(text)
    except ValueError:
        ents = []
    if len(ents) != 1 or not isinstance(ents[0].get("_id"), str):
        cfg = configstore.load_text(text, node.env.get(), node.secrets.values())
        errs = validation_errors(cfg) or [{"level": "error", "msg": "expected one pipe "
                                           "with a string _id"}]
        return None, cfg, errs
    new = ents[0]
    name = configstore.layout_name(new)
    rest = [x for x in node.configs.entities() if x["_id"] != new["_id"]]
    cfg = configstore.load_entities(rest + [new], node.env.get(), node.secrets.values(),
                                    raw={name: text})
    if not files_ok:
        from runtime.service.node import refuse_file_uses
        refuse_file_uses(cfg, {new["_id"]})
    cfg = node.confined(cfg)     # files outside the allowed roots: positioned errors
    errs = validation_errors(cfg, {name})
    return cfg.pipes.get(new["_id"]), cfg, errs


def _first_entity(node, pipe):
    if pipe.source is None or pipe.source.type in NO_ENTITY_SOURCES:
        return None
    try:
        src = node.hub._make_source(pipe)
    except Exception:  # noqa: BLE001 - no entity to show: the caller samples one
        return None
    try:
        for batch in src.read(None):
            for e in batch.entities:
                if not e.get("_deleted"):
                    return e
    except Exception:  # noqa: BLE001 - an unreachable source previews a sample
        return None
    finally:
        src.close()
    return None
