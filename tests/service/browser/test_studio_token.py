"""The Studio with authentication on: without a token the API's 401 shows as a toast and no
data; with a pasted token (`dtl token create`) the pages work."""

from __future__ import annotations

import shutil
from pathlib import Path

from runtime.service.auth import local_key, mint
from tests.service.serve_proc import ROOT, Served


def test_studio_with_a_token(browser, tmp_path):
    cfg = tmp_path / "hub"
    shutil.copytree(Path(ROOT) / "examples" / "hub", cfg,
                    ignore=shutil.ignore_patterns(".dtl-data"))
    with Served(cfg, tmp_path / "data", "--no-scheduler") as srv:
        page = browser.new_page()
        try:
            page.goto(srv.base + "/studio/pipes")
            page.wait_for_selector("[data-testid=toast]:has-text('401')")
            assert page.locator(".ag-row").count() == 0
            page.fill("[data-testid=token]", mint(local_key(str(tmp_path / "data")), "Developer"))
            page.click("[data-testid=token-save]")
            page.wait_for_selector(".ag-row[row-id='global-person']")
            page.goto(srv.base + "/studio/pipes/global-person/config")   # the token is kept
            page.wait_for_selector(".cm-content")
        finally:
            page.evaluate("() => localStorage.removeItem('dtlhub-token')")
            page.close()
