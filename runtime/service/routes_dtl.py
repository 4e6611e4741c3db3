"""The DTL test endpoint: rules and sample entities in, results (or positioned compile errors)
out, as `dtl transform` would give them."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from runtime.service.bodies import json_body, text_body
from runtime.service.common import AUTH, caller, entity_json, errors, json_response, node
from runtime.service.node import NodeError

router = APIRouter(prefix="/api", tags=["dtl"])
BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["transform"],
    "properties": {"transform": {"type": "object"},
                   "entities": {"type": "array", "items": {"type": "object"}},
                   "datasets": {"type": "object",
                                "additionalProperties": {"type": "array",
                                                         "items": {"type": "object"}}}}}}}}


@router.post("/dtl/test", responses={**AUTH, **errors(400)}, openapi_extra={"requestBody": BODY})
async def dtl_test(request: Request, user=Depends(caller)):
    """`{transform, entities, datasets?}` → `{results, errors}`; compile errors answer 400
    with every diagnostic positioned in `details.errors`. `transform` is a rules object
    or a `dtl` transform; hops read `datasets` when given, else the node's datasets. Each
    entity's outcome is a list of outputs or an error with its `_id`."""
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("transform"), dict):
        raise NodeError(400, "bad-body", "expected {transform: {...}, entities: [...]}")
    ents = body.get("entities") or []
    dsets = body.get("datasets")
    if not isinstance(ents, list) or not all(isinstance(e, dict) for e in ents) or \
            (dsets is not None and not isinstance(dsets, dict)):
        raise NodeError(400, "bad-body", "entities must be a list of objects, datasets an object")
    return await run_in_threadpool(_run, node(request), body, ents, dsets, user)


class GuardedProvider:
    """The node's datasets as hops see them, each behind its writer pipe's ACL (as the
    dataset routes): a hop into a dataset the caller may not read is a 403, not a way
    around the ACL."""

    GUARDED = ("derived", "latest_columns", "has_dataset", "get", "lookup", "scan")

    def __init__(self, n, user, provider):
        self._n, self._user, self._p = n, user, provider

    def __getattr__(self, name):
        attr = getattr(self._p, name)
        if name not in self.GUARDED:
            return attr

        def guarded(dataset, *a, **kw):
            from runtime.service.auth import allowed
            from runtime.service.common import acl_of
            w = self._n.config.writer(dataset) if isinstance(dataset, str) else None
            if w is not None and not allowed(self._user, "read_data", acl_of(w.original)):
                raise NodeError(403, "forbidden", f"permission 'read_data' is not granted "
                                f"on dataset {dataset!r}")
            return attr(dataset, *a, **kw)
        return guarded


def _run(n, body, ents, dsets, user=None):
    import dtl
    from dtl import transit
    rules = body["transform"]
    if rules.get("type") == "dtl" and isinstance(rules.get("rules"), dict):
        rules = rules["rules"]
    kw = {}
    if dsets is not None:
        try:
            kw["datasets"] = {k: [transit.decode(e) for e in v if isinstance(e, dict)]
                              for k, v in dsets.items() if isinstance(v, list)}
        except transit.TransitError as e:
            raise NodeError(400, "bad-entity", f"datasets: {e}") from None
    else:
        kw["provider"] = n.hub.provider if user is None else \
            GuardedProvider(n, user, n.hub.provider)
    try:
        # compiled from text, so errors carry line and column in the rules as shown back
        t = dtl.compile(json.dumps(rules, indent=2), file="transform", **kw)
    except dtl.DTLSyntaxError as e:  # compile errors too: every one, positioned
        raise NodeError(400, "compile-error", f"{len(e.diagnostics)} DTL error(s)", {
            "errors": [{**d.to_json(), "msg": str(d.span) + ": " + d.message}
                       for d in e.diagnostics]}) from None
    results, errs = [], []
    for e in ents:
        try:
            results.append(t.apply(transit.decode(e)))
        except dtl.DTLError as ex:
            results.append(None)
            errs.append({"_id": e.get("_id"), "message": str(ex)})
    return entity_json({"results": results, "errors": errs})
