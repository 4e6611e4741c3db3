"""Datasets: list, info, entities streamed as a JSON array, one entity, deletion, and the
development-only entity post."""

from __future__ import annotations


from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from runtime.service.bodies import json_body, text_body
from runtime.service.common import (AUTH, ENTITY_OR_ARRAY, caller, entity_json, errors, flag,
                                    json_response, node, stream_array, wants_ndjson)
from runtime.service.node import NodeError
from runtime.service.views import dataset_view

router = APIRouter(prefix="/api", tags=["datasets"])


def _guard(n, user, name, perm="read_data"):
    """A dataset written by a pipe follows that pipe's ACL for data access (as roles.TABLE
    says; checked again here)."""
    from runtime.service.common import check
    w = n.config.writer(name)
    if w is not None:
        check(n, user, perm, w)


@router.get("/datasets", responses=AUTH)
def list_datasets(request: Request, verbose: str | None = None,
                  user=Depends(caller)):
    n = node(request)
    names = n.store.names()
    if not flag(verbose, False):
        return json_response([{"_id": name} for name in names])
    out = []
    for name in names:
        try:
            out.append(dataset_view(n, name))
        except NodeError:
            continue  # deleted while listing
    return json_response(out)


@router.get("/datasets/{dataset_id}", responses={**AUTH, **errors(404)})
def get_dataset(request: Request, dataset_id: str, user=Depends(caller)):
    n = node(request)
    _guard(n, user, dataset_id)
    return json_response(dataset_view(n, dataset_id))


@router.delete("/datasets/{dataset_id}", responses={**AUTH, **errors(404, 409)})
def delete_dataset(request: Request, dataset_id: str, user=Depends(caller)):
    n = node(request)
    _guard(n, user, dataset_id, "write_data")
    n.delete_dataset(dataset_id)
    return {"_id": dataset_id, "deleted": True}


@router.get("/datasets/{dataset_id}/entities", responses={**AUTH, **errors(400, 404)})
def dataset_entities(request: Request, dataset_id: str, since: int | None = None,
                     limit: int | None = None, history: str | None = None,
                     deleted: str | None = None, reverse: str | None = None,
                     populated: str | None = None, user=Depends(caller)):
    """Versions after `since` in offset order (latest only unless `history=true`, which is
    the default as in Sesam); `populated=true` answers 404 until the dataset is populated."""
    n = node(request)
    _guard(n, user, dataset_id)
    if limit is not None and limit < 0:
        raise NodeError(400, "bad-parameter", "limit must be >= 0")
    hist, dele, rev = flag(history, True), flag(deleted, True), flag(reverse, False)
    ds = n.open_dataset(dataset_id)
    try:
        if flag(populated, False) and not ds.populated:
            raise NodeError(404, "not-populated", f"dataset {dataset_id!r} is not populated")
        headers = {"X-Dataset-Populated": str(ds.populated).lower(),
                   "X-Dataset-Generation": str(ds.state().props.get("generation") or "")}
    except BaseException:
        ds.close()
        raise
    if rev:
        try:
            rows = list(ds.entities(since=since, history=hist, deleted=dele))
        finally:
            ds.close()
        rows.reverse()
        return stream_array(rows[:limit] if limit is not None else rows, headers=headers)
    return stream_array(ds.entities(since=since, history=hist, deleted=dele, limit=limit),
                        close=ds.close, headers=headers, ndjson=wants_ndjson(request))


@router.get("/datasets/{dataset_id}/entity", responses={**AUTH, **errors(404)})
def dataset_entity(request: Request, dataset_id: str, entity_id: str, offset: int | None = None,
                   user=Depends(caller)):
    """The latest version of `entity_id` (or the version at `offset`)."""
    n = node(request)
    _guard(n, user, dataset_id)
    ds = n.open_dataset(dataset_id)
    try:
        e = None if not entity_id else ds.get(entity_id) if offset is None else \
            ds.version_at(offset)
    finally:
        ds.close()
    if e is None or e.get("_id") != entity_id:
        raise NodeError(404, "not-found", f"no entity {entity_id!r} in {dataset_id!r}")
    return entity_json(e)


@router.post("/datasets/{dataset_id}/entities", responses={**AUTH, **errors(400, 404, 409)},
             openapi_extra={"requestBody": {"required": True, "content": ENTITY_OR_ARRAY}})
async def post_dataset_entities(request: Request, dataset_id: str, force: str | None = None,
                                user=Depends(caller)):
    """Development and tests only: write entities straight into a dataset (one commit)."""
    n = node(request)
    _guard(n, user, dataset_id, "write_data")
    body = await json_body(request)
    stats = await run_in_threadpool(n.write_dataset, dataset_id, body, flag(force, False),
                                    user.owner_id)
    return json_response(stats)
