"""(ours) The repository's CI tests from the API: `dtl test` on the folder the node was
deployed from, in a scratch hub of its own (the node's datasets are not touched)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from runtime.service.common import AUTH, caller, errors, json_response, node
from runtime.service.node import NodeError

router = APIRouter(prefix="/api", tags=["tests"])


def _run(root):
    from runtime.testing.runner import Session, TestRunError
    try:
        with Session(root) as s:
            s.upload()
            s.run()
            return s.verify().to_json()
    except TestRunError as e:
        return {"tests": [], "passed": 0, "failed": 0, "errors": [str(e)], "ok": False}


@router.post("/tests/run", responses={**AUTH, **errors(404)})
async def run_tests(request: Request, _=Depends(caller)):
    """`dtl test` on the node's configuration folder: `{tests: [{name, pipe, status, spec,
    kind, message, diff}], passed, failed, errors, ok}` (a unified diff per failing spec).
    404 when the node was not deployed from a folder."""
    n = node(request)
    if n.config_dir is None:
        raise NodeError(404, "not-found", "the node was not deployed from a folder: no tests")
    return json_response(await run_in_threadpool(_run, n.config_dir))
