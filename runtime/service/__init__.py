"""`dtl serve`: Sesam's service API over an embedded node (service-api.md).

`node.Node` holds the data directory, the versioned configuration and the Hub; the `routes_*`
modules are thin FastAPI routers over it; `auth` checks bearer JWTs and permissions;
`server` starts uvicorn (or a background server for tests and benchmarks)."""
