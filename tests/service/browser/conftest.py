"""The Studio in real headless Chromium (Debian's `chromium`, driven by Playwright) against a
real `dtl serve` of a copy of examples/hub on 127.0.0.1. With CI set, a missing browser fails."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.service.serve_proc import ROOT, Served, wait_for

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(ROOT) / "docs" / "studio"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_missing():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    why = _browser_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests need a browser: {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright
    profile = tempfile.mkdtemp(prefix="dtl-chromium-")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 1400, "height": 900})
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A served copy of the example hub, its first scheduler runs done."""
    tmp = tmp_path_factory.mktemp("studio")
    cfg = tmp / "hub"
    shutil.copytree(Path(ROOT) / "examples" / "hub", cfg,
                    ignore=shutil.ignore_patterns(".dtl-data"))
    srv = Served(cfg, tmp / "data", "--no-auth", log=tmp / "serve.log").start()
    with srv.client() as c:
        wait_for(lambda: len(c.get("/publishers/person-out/entities").json()) >= 4, 60,
                 what="the first runs")
        wait_for(lambda: not any(p["runtime"]["is-running"] for p in c.get("/pipes").json()))
    yield srv
    srv.terminate()


@pytest.fixture
def page(browser, hub):
    pg = browser.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(15000)
    pg.base = hub.base
    yield pg
    pg.close()
    assert errors == [], errors


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
