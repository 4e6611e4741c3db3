"""schemathesis against our own OpenAPI document on a live server, bounded: no 500s, every
status, content type and body as documented."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)
from schemathesis.checks import not_a_server_error

from runtime.service.auth import local_key, mint
from runtime.service.server import Background, build
from tests.service.conftest import HUBCONF


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data = tmp_path_factory.mktemp("st-data")
    app = build(data, HUBCONF, fsync=False)
    with Background(app) as bg:
        yield bg, mint(local_key(data), "Admin")


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_openapi_conformance(live):
    bg, token = live
    schema = schemathesis.openapi.from_url(bg.url + "/openapi.json")
    base = bg.url.rsplit("/api", 1)[0]
    headers = {"Authorization": f"Bearer {token}"}
    failures, ops = [], 0
    for result in schema.get_all_operations():
        op = result.ok()
        ops += 1

        @given(case=op.as_strategy())
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as e:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{op.method.upper()} {op.path}: {str(e)[:600]}")
    assert ops >= 40
    assert not failures, "\n\n".join(failures)
