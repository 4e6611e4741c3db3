"""Generates docs/service.md's endpoint table from the app's own OpenAPI document, so the
reference cannot drift from what `dtl serve` answers.

    python -m runtime.service.reference > docs/service.md
"""

from __future__ import annotations

import tempfile

INTRO = """# The service: `dtl serve`

Generated from the OpenAPI document of the running app by
`python -m runtime.service.reference`; do not edit by hand.

`dtl serve DIR [--data D] [--host 127.0.0.1] [--port 9042] [--profile P]` serves Sesam's API
for a configuration folder and its data directory (TLS: `--ssl-certfile`/`--ssl-keyfile`; RS256:
`--jwt-public-key`). Without DIR it serves the configuration already stored in `--data`.
The live OpenAPI document is `/api/openapi.json`, browsable at `/api/reference`.

The node runs itself: pipes fire by `cron_expression` or `schedule_interval` (default 30 s for
dataset-to-dataset pipes, else 900 s; everything once at start), a dataset that changed
(a pump run, a receiver post, `POST /datasets/{id}/entities`) signals the pipes reading it,
a changed pipe configuration runs that pipe, one run per pipe at a time. `--no-scheduler` or
the node metadata's `task_manager.disable_pump_scheduler: true` turn the timer off; the pump
operations `disable`/`enable` take one pipe out of it. `GET /pipes` shows `is-running`,
`progress` (counts of the run under way), `next-run` and `started-by` while runs happen.
The Management Studio (`/studio`, docs/studio/README.md) is a client of these endpoints only.

SIGTERM lets each running pump finish the batch it is writing (committed with its state),
logs `pump-failed` with the reason, and exits; the next start resumes after that batch.

Authentication: `Authorization: Bearer <JWT>`; `dtl token create --role admin|...` signs an
HS256 token with the key kept in the data directory. Missing, forged or expired tokens get
401, a role without the permission 403 — never data. A pipe's `permissions` can open its
receiver or publisher to anonymous callers; a matching deny always wins. Secrets are
write-only: only their names are ever returned.

The `User` role manages its own: it may change, pump, feed (receivers, dataset posts) and
delete the pipes, systems and datasets its token created through the API (the token's
`user:` principal, else its `sub`, is recorded as owner in `system:config-owners`), and only
read everyone else's, including the configuration folder's (they have no owner);
`run-all-pipes` runs every pipe, so it needs Developer or Admin. `system:` datasets are
written by the node only, whatever the role.
"""


def markdown() -> str:
    from runtime.service.app import create_app
    from runtime.service.auth import Verifier
    from runtime.service.node import Node
    with tempfile.TemporaryDirectory() as d:
        node = Node(d)
        try:
            spec = create_app(node, Verifier(b"reference")).openapi()
        finally:
            close = getattr(node, "close", None)
            if close:
                close()
    rows = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            text = (op.get("description") or "").strip().split("\n")[0]
            summary = op.get("summary", "")
            rows.append(f"| `{method.upper()}` | `{path}` | {summary}"
                        + (f": {text}" if text else "") + " |")
    return INTRO + "\n## Endpoints\n\n| method | path | what |\n|---|---|---|\n" + \
        "\n".join(rows) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
