"""Studio page timings in headless Chromium against a real `dtl serve` (--no-scheduler):
a hub of 300 pipes and a dataset of 1M entities. Times are from navigation start to the first
grid row in the DOM (the page's own API calls included), best and median of a few loads on a
warm browser, plus the first (cold) load.

    .venv/bin/python bench/studio_bench.py [--pipes 300] [--entities 1000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.service.browser.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.service.serve_proc import Served  # noqa: E402


def write_hub(root: Path, pipes: int, entities: int) -> None:
    (root / "cfg" / "pipes").mkdir(parents=True)
    for i in range(pipes):
        src = {"type": "dataset", "dataset": "big"} if i == 0 else \
            {"type": "dataset", "dataset": f"p{i - 1:03d}"} if i % 3 else \
            {"type": "embedded", "entities": [{"_id": "a", "n": i}]}
        p = {"_id": f"p{i:03d}", "type": "pipe", "name": f"pipe number {i}", "source": src,
             "transform": {"type": "dtl", "rules": {"default": [["copy", "*"]]}}}
        (root / "cfg" / "pipes" / f"p{i:03d}.conf.json").write_text(json.dumps(p))
    from storage import Store
    with Store(str(root / "data")).open("big", writer=True, create=True) as ds:
        step = 50_000
        for k in range(0, entities, step):
            ds.append([{"_id": f"e{i:07d}", "n": i, "name": f"entity {i}", "tags": ["a", "b"]}
                       for i in range(k, min(k + step, entities))])
        ds.set_populated(True)


def timed(page, url, selector, n=5):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(selector, timeout=30000)
        out.append(time.perf_counter() - t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipes", type=int, default=300)
    ap.add_argument("--entities", type=int, default=1_000_000)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        t = time.perf_counter()
        write_hub(root, a.pipes, a.entities)
        print(f"setup: {a.pipes} pipes, {a.entities} entities in {time.perf_counter() - t:.1f} s")
        with Served(root / "cfg", root / "data", "--no-auth", "--no-scheduler") as srv, \
                sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = b.new_page(viewport={"width": 1400, "height": 900})
            rows = {}
            for name, path, sel in (
                    ("pipe list (300 pipes)", "/studio/pipes", ".ag-row[row-id='p000']"),
                    ("first entity page (1M dataset)", "/studio/datasets/big",
                     "[data-testid=entities-grid] .ag-row"),
                    ("pipe config (editor)", "/studio/pipes/p001/config", ".cm-content")):
                ts = timed(page, srv.base + path, sel)
                rows[name] = ts
            b.close()
    print("| page | first load | best | median |")
    print("|---|---:|---:|---:|")
    for name, ts in rows.items():
        print(f"| {name} | {ts[0]:.3f} s | {min(ts):.3f} s | {statistics.median(ts):.3f} s |")


if __name__ == "__main__":
    main()
