"""The ASGI application: routers, uniform error answers, and the OpenAPI document
(`/api/openapi.json`, browsable at `/api/reference`)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from runtime.service import (routes_config, routes_datasets, routes_dtl, routes_endpoints,
                             routes_env, routes_pipes, routes_service, routes_tests)
from runtime.service.auth import AuthError, Verifier
from runtime.service.node import NodeError

log = logging.getLogger("dtlhub.service")


def _error(status, code, message, details=None):
    body = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(node, verifier: Verifier, *, max_body: int | None = None) -> FastAPI:
    from contextlib import asynccontextmanager
    from importlib.metadata import version

    @asynccontextmanager
    async def lifespan(_app):
        # the scheduler runs while the server does; shutdown (SIGTERM) ends the pump runs
        # after their current batch, before uvicorn lets the signal end the process
        node.start()
        try:
            yield
        finally:
            from starlette.concurrency import run_in_threadpool
            await run_in_threadpool(node.close)

    app = FastAPI(title="dtlhub", version=version("dtlhub"), lifespan=lifespan,
                  description="Sesam's service API on an embedded dtlhub node.",
                  openapi_url="/api/openapi.json", docs_url="/api/reference", redoc_url=None)
    app.state.node = node
    app.state.verifier = verifier
    from runtime.service.bodies import DEFAULT_MAX_BODY, BodyLimit
    app.add_middleware(BodyLimit, limit=max_body or DEFAULT_MAX_BODY)
    # fixed /pipes/... routes first: they win over /pipes/{pipe_id}
    # every API route is checked against runtime/service/roles.py's table before it runs
    from fastapi import Depends

    from runtime.service.common import guard
    from runtime.service.roles import check_routes
    for r in (routes_service, routes_pipes, routes_config, routes_datasets, routes_endpoints,
              routes_env, routes_dtl, routes_tests):
        app.include_router(r.router, dependencies=[Depends(guard)])
    from runtime.studio import mount
    mount(app)
    check_routes(app)

    @app.exception_handler(NodeError)
    async def node_error(_req: Request, e: NodeError):
        return _error(e.status, e.code, e.message, e.details)

    @app.exception_handler(AuthError)
    async def auth_error(_req: Request, e: AuthError):
        return _error(e.status, e.code, e.message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_req: Request, e: RequestValidationError):
        details = [{"loc": list(x.get("loc", ())), "msg": x.get("msg")} for x in e.errors()]
        return _error(400, "bad-request", "invalid request parameters", details)

    @app.exception_handler(HTTPException)
    async def http_error(_req: Request, e: HTTPException):
        return _error(e.status_code, {404: "not-found", 405: "method-not-allowed"}
                      .get(e.status_code, "http-error"), str(e.detail))

    @app.exception_handler(Exception)
    async def crash(_req: Request, e: Exception):
        log.exception("unhandled error")
        return _error(500, "internal-error", f"{type(e).__name__}: see the server log")

    _document_errors(app)
    return app


def _document_errors(app: FastAPI):
    """Every route can answer 400 for bad parameters (FastAPI documents 422, which we never
    send), so the published document says 400 with our error shape instead."""
    from runtime.service.common import errors
    base = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        doc = base()
        for path in doc.get("paths", {}).values():
            for op in path.values():
                rs = op.get("responses", {})
                rs.pop("422", None)
                for code, spec in errors(400).items():
                    rs.setdefault(str(code), spec)
        doc.setdefault("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        doc["components"]["schemas"].pop("ValidationError", None)
        return doc
    app.openapi = openapi
