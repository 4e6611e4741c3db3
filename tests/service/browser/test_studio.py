"""Every P1 page of the Management Studio, clicked through in Chromium; each test leaves a
screenshot in docs/studio/."""

from __future__ import annotations

import json
import re
import subprocess

from tests.service.browser.conftest import shot
from tests.service.serve_proc import DTL, wait_for


def tid(name):
    return f"[data-testid='{name}']"


def test_pipes_list_filters_and_shows_a_started_run(page, hub):
    page.goto(hub.base + "/studio")
    page.wait_for_selector(".ag-row[row-id='global-person']")
    assert page.locator(tid("pipe-status-global-person")).inner_text() == "ok"
    page.fill(tid("pipe-filter"), "billing-invoice")
    wait_for(lambda: page.locator(tid("pipe-count")).inner_text() == "1 pipes")
    page.fill(tid("pipe-filter"), "")
    page.select_option(tid("pipe-status-filter"), "failed")
    wait_for(lambda: page.locator(".ag-center-cols-container .ag-row").count() ==
             len([p for p in hub.client().get("/pipes").json()
                  if p["runtime"]["success"] is False]))
    page.select_option(tid("pipe-status-filter"), "")
    # start a pump through the API; the list follows by itself (polling, no reload)
    with hub.client() as c:
        before = c.get("/pipes/erp-order").json()["runtime"]["last-started"]
        assert c.post("/pipes/erp-order/pump", data={"operation": "start"}).status_code == 200
        wait_for(lambda: c.get("/pipes/erp-order").json()["runtime"]["last-started"] != before)
        after = c.get("/pipes/erp-order").json()["runtime"]["last-started"]
    wait_for(lambda: after in page.locator(".ag-row[row-id='erp-order']").first.inner_text(), 15,
             what="the list to show the new run")
    shot(page, "pipes")


def test_pipe_menu_operations(page, hub):
    page.goto(hub.base + "/studio/pipes/erp-customer")
    page.wait_for_selector(tid("op-disable"))
    page.once("dialog", lambda d: d.accept("maintenance"))
    page.click(tid("op-disable"))
    page.wait_for_selector(tid("op-enable"))                 # the header follows the state
    assert page.locator(tid("pipe-status")).inner_text() == "disabled"
    page.click(tid("op-enable"))
    page.wait_for_selector(tid("op-disable"))
    page.once("dialog", lambda d: d.accept("5"))
    page.click(tid("op-update-last-seen"))
    wait_for(lambda: "last seen: 5" in page.locator(tid("pipe-summary")).inner_text())
    page.once("dialog", lambda d: d.accept())
    page.click(tid("op-reset"))
    wait_for(lambda: "last seen: null" in page.locator(tid("pipe-summary")).inner_text())
    page.once("dialog", lambda d: d.accept())
    page.click(tid("op-reset-to-end"))
    page.wait_for_selector(tid("toast") + ":has-text('set-last-seen-to-end: ok')")
    page.once("dialog", lambda d: d.accept())
    page.click(tid("op-restart"))
    page.wait_for_selector(tid("toast") + ":has-text('start: ok')")
    wait_for(lambda: "processed 2" in page.locator(tid("pipe-summary")).inner_text(), 20)
    shot(page, "pipe-detail")


def test_config_save_with_an_error_shows_it_at_its_line(page, hub):
    page.goto(hub.base + "/studio/pipes/person-out/config")
    page.wait_for_selector(".cm-content")
    text = hub.client().get("/pipes/person-out/config").json()
    text["transform"]["rules"]["default"].append(["add", "x", ["no-such-function", 1]])
    body = json.dumps(text, indent=2)
    want = next(i for i, ln in enumerate(body.splitlines(), 1) if "no-such-function" in ln)
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.evaluate("t => document.querySelector('[data-testid=config-editor]').cmView.dispatch("
                  "{changes: {from: 0, insert: t}})", json.dumps(text))
    page.click(tid("config-format"))                         # the editor's Format button
    page.click(".cm-content")
    page.keyboard.press("Control+s")                          # the editor's key binding
    err = page.wait_for_selector(tid("config-error"))
    assert int(err.get_attribute("data-line")) == want
    assert "no-such-function" in err.inner_text()
    marked = page.locator(".cm-error-line").first
    assert "no-such-function" in marked.inner_text()
    shot(page, "config-error")
    doc = "() => document.querySelector('[data-testid=config-editor]').cmView.state.doc" \
          ".toString()"
    edited = page.evaluate(doc)
    assert edited == body                                     # Format pretty-printed it
    page.click(tid("config-undo"))
    assert page.evaluate(doc) != edited                       # undo goes back
    # nothing was saved
    assert "no-such-function" not in json.dumps(hub.client().get("/pipes/person-out/config")
                                                 .json())


def test_preview_equals_dtl_transform(page, hub, tmp_path):
    page.goto(hub.base + "/studio/pipes/person-out/preview")
    page.wait_for_selector(tid("preview-stage-after"))
    entity = {"_id": "p-9", "crm-person:name": "Eve", "global-person:email": "eve@example.org",
              "global-person:orders": [{"global-person:amount": 3}, {"global-person:amount": 4}]}
    page.evaluate("t => { const v = document.querySelector('[data-testid=preview-entity]').cmView;"
                  " v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: t}}) }",
                  json.dumps(entity))
    ran = page.locator(tid("tab-preview-body")).get_attribute("data-ran")
    page.click(tid("preview-entity") + " .cm-content")
    page.keyboard.press("Control+Enter")
    wait_for(lambda: page.locator(tid("tab-preview-body")).get_attribute("data-ran") != ran)
    shown = json.loads(page.locator(tid("preview-stage-after") + " pre").inner_text())
    rules = hub.client().get("/pipes/person-out/config").json()["transform"]["rules"]
    (tmp_path / "rules.json").write_text(json.dumps(rules))
    r = subprocess.run([DTL, "transform", str(tmp_path / "rules.json"), "-"],
                       input=json.dumps(entity), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert shown == json.loads(r.stdout.splitlines()[0])
    assert shown["order_total"] == 7
    shot(page, "preview")


def test_effective_config_input_output_and_log(page, hub):
    page.goto(hub.base + "/studio/pipes/global-person/effective")
    page.wait_for_selector(tid("effective-config") + " .cm-content")
    assert '"merge"' in page.locator(tid("effective-config")).inner_text()
    shot(page, "effective-config")
    page.click(tid("tab-input"))                 # a merge source: its entities computed now
    page.wait_for_selector(tid("stage-entities") + " " + tid("entity-row"))
    page.click(tid("tab-output"))
    page.wait_for_selector(tid("entities-grid") + " .ag-row")
    shot(page, "output")
    page.click(tid("tab-log"))
    page.wait_for_selector(tid("log-row") + "[data-type='pump-completed']")
    page.select_option(tid("log-filter"), "pump-started")
    wait_for(lambda: page.locator(tid("log-row")).count() > 0 and all(
        t == "pump-started" for t in page.locator(tid("log-row")).evaluate_all(
            "rs => rs.map(r => r.dataset.type)")))
    page.locator(tid("log-row") + " summary").first.click()
    assert '"sync_type"' in page.locator(tid("log-detail")).first.inner_text()
    shot(page, "execution-log")


def test_dataset_list_and_entity_browser_with_history_and_diff(page, hub):
    with hub.client() as c:       # three versions of one entity in a dataset of our own
        for n in (1, 2, 3):
            c.post("/datasets/notes/entities", json={"_id": "n1", "v": n, "when":
                   "~t2024-01-0%dT10:00:00Z" % n, "ref": "~:crm:1"})
        c.post("/datasets/notes/entities", json=[{"_id": f"x{i}"} for i in range(120)])
    page.goto(hub.base + "/studio/datasets")
    page.wait_for_selector(".ag-row[row-id='notes']")
    assert page.locator(".ag-row[row-id^='system:']").count() == 0
    page.check(tid("show-system"))
    page.wait_for_selector(".ag-row[row-id^='system:']")
    shot(page, "datasets")
    page.goto(hub.base + "/studio/datasets/notes")
    page.wait_for_selector(tid("entities-grid") + " .ag-row")
    wait_for(lambda: page.locator(tid("dataset-info")).inner_text().startswith("121 entities"))
    assert page.locator(tid("dataset-info")).inner_text() == "121 entities, 123 versions in the log"
    loaded = lambda: page.locator("main > div").first.get_attribute("data-loaded")  # noqa
    wait_for(lambda: loaded() == "50")
    page.click(tid("load-more"))
    wait_for(lambda: loaded() == "100")
    page.click(tid("load-more"))
    wait_for(lambda: loaded() == "121")
    assert page.locator(tid("load-more")).is_disabled()
    page.check(tid("opt-history"))
    wait_for(lambda: loaded() == "50")
    shot(page, "entities")
    page.fill(tid("jump-id"), "n1")
    page.click(tid("jump-go"))
    page.wait_for_selector(tid("entity-view"))
    types = page.locator(tid("typed-value")).evaluate_all("vs => vs.map(v => v.dataset.type)")
    assert sorted(types) == ["NI", "datetime"]
    assert page.locator(tid("version-row")).count() == 3
    picks = page.locator(tid("version-pick"))
    picks.nth(0).check()
    picks.nth(2).check()
    page.wait_for_selector(tid("diff-table"))
    changed = page.locator(tid("diff-changed") + " td:first-child").all_inner_texts()
    assert {"v", "when"} <= set(changed) and "ref" not in changed
    shot(page, "entity-history")


def test_flow_graph_is_drawn_and_opens_a_pipe(page, hub):
    page.goto(hub.base + "/studio/flows")
    page.wait_for_selector(tid("flow-graph") + " svg")
    src = page.locator(tid("flow-graph")).get_attribute("data-source")
    assert "-.->" in src                                      # hops are dashed edges
    assert re.search(r"class \w+ st-ok", src)
    shot(page, "flows")
    page.locator(tid("flow-graph") + " svg .node", has_text="global-person").first.click()
    page.wait_for_url("**/studio/pipes/global-person**")


def test_env_and_secrets_pages(page, hub):
    page.goto(hub.base + "/studio/settings/env")
    page.wait_for_selector(tid("env-table"))
    page.click(tid("env-add"))
    page.locator(tid("env-name")).last.fill("studio_var")
    page.locator(tid("env-value")).last.fill("42")
    page.click(tid("env-save"))
    page.wait_for_selector(tid("toast") + ":has-text('environment saved')")
    assert hub.client().get("/env").json()["studio_var"] == "42"
    shot(page, "env")
    page.goto(hub.base + "/studio/settings/secrets")
    page.wait_for_selector("main[data-page=secrets]")
    page.fill(tid("secret-name"), "studio-secret")
    page.fill(tid("secret-value"), "very-hidden-value")
    page.click(tid("secret-add"))
    page.wait_for_selector(tid("secret-row") + "[data-name='studio-secret']")
    assert "very-hidden-value" not in page.content()
    shot(page, "secrets")
    page.once("dialog", lambda d: d.accept())
    page.locator(tid("secret-row") + "[data-name='studio-secret'] button").click()
    page.wait_for_selector(tid("secret-row") + "[data-name='studio-secret']", state="detached")


def test_tests_page_runs_dtl_test(page, hub):
    page.goto(hub.base + "/studio/tests")
    page.click(tid("tests-run"))
    wait_for(lambda: "passed" in page.locator(tid("test-summary")).inner_text(), 120)
    r = subprocess.run([DTL, "test", hub.config_dir, "--format", "json"], capture_output=True,
                       text=True, timeout=120)
    summary = page.locator(tid("test-summary")).inner_text()
    if r.stdout.strip():
        want = json.loads(r.stdout)
        assert summary.startswith(f"{want['passed']} passed, {want['failed']} failed")
        failing = [t for t in want["tests"] if t["status"] == "failed" and t["diff"]]
        assert page.locator(tid("test-diff")).count() == len(failing)
    else:   # the run itself failed: the page says what the command says
        assert r.returncode != 0
        first = r.stderr.strip().splitlines()[0].removeprefix("error: ")[:60]
        assert first.split(":")[0] in summary, (summary, r.stderr)
    shot(page, "tests")
