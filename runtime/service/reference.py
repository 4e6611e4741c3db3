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

Authentication: `Authorization: Bearer <JWT>`; `dtl token create --role admin|...` signs an
HS256 token with the key kept in the data directory. Missing, forged or expired tokens get
401, a role without the permission 403 — never data. A pipe's `permissions` can open its
receiver or publisher to anonymous callers; a matching deny always wins. Secrets are
write-only: only their names are ever returned.
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
