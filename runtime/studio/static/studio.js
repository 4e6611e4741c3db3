// The Management Studio: one module, pages routed by path, every datum from the public API.
import * as CM from "codemirror";
import { createGrid, ModuleRegistry, AllCommunityModule, themeQuartz } from "aggrid";

ModuleRegistry.registerModules([AllCommunityModule]);

const main = document.getElementById("main");
let pollTimer = null;
let leaveGuard = null;          // () => true when leaving may lose edits
let jsonLang = null;            // CodeMirror JSON support, loaded once

// ---- the API ---------------------------------------------------------------------------
function token() { return localStorage.getItem("dtlhub-token") || ""; }

async function api(method, path, { json, form, query, quiet, text } = {}) {
  const url = new URL("/api" + path, location.origin);
  for (const [k, v] of Object.entries(query || {}))
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  const headers = {};
  if (token()) headers.Authorization = "Bearer " + token();
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (text !== undefined) { headers["Content-Type"] = "application/json"; body = text; }
  if (form) body = new URLSearchParams(form);
  const r = await fetch(url, { method, headers, body });
  let data = null;
  const raw = await r.text();
  try { data = raw ? JSON.parse(raw) : null; } catch { data = raw; }
  if (!r.ok && !quiet) toast(`${r.status} ${(data && data.message) || r.statusText}`, "error");
  return { status: r.status, ok: r.ok, data };
}

function enc(s) { return encodeURIComponent(s); }

// ---- small DOM helpers -------------------------------------------------------------------
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "testid") el.dataset.testid = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false)
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

function link(href, text, testid) {
  return h("a", { href, testid, "data-link": true }, text);
}

function toast(msg, kind = "ok") {
  const t = h("div", { class: "toast " + kind, testid: "toast", role: "status" }, msg);
  document.getElementById("toasts").append(t);
  setTimeout(() => t.remove(), 6000);
}

function localTime(t) {
  if (t === null || t === undefined) return "";
  const d = typeof t === "number" ? new Date(t > 1e14 ? t / 1e3 : t > 1e11 ? t : t * 1000) : new Date(t);
  if (isNaN(d)) return String(t);
  const s = h("time", { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
  return s;
}

function pretty(v) { return JSON.stringify(v, null, 2); }

function poll(fn, ms) {
  clearInterval(pollTimer);
  pollTimer = setInterval(fn, ms);
}

// ---- routing -------------------------------------------------------------------------------
const routes = [
  [/^\/studio\/?$/, () => navigate("/studio/pipes", true)],
  [/^\/studio\/pipes\/?$/, pipesPage],
  [/^\/studio\/pipes\/new$/, () => pipePage(null, "config")],
  [/^\/studio\/pipes\/([^/]+)(?:\/([a-z-]+))?$/, (id, tab) => pipePage(decodeURIComponent(id), tab || "config")],
  [/^\/studio\/datasets\/?$/, datasetsPage],
  [/^\/studio\/datasets\/([^/]+)\/entities\/(.+)$/, (ds, e) => entityPage(decodeURIComponent(ds), decodeURIComponent(e))],
  [/^\/studio\/datasets\/([^/]+)$/, (ds) => datasetPage(decodeURIComponent(ds))],
  [/^\/studio\/flows\/?$/, flowsPage],
  [/^\/studio\/tests\/?$/, testsPage],
  [/^\/studio\/settings\/env$/, envPage],
  [/^\/studio\/settings\/secrets$/, secretsPage],
];

function navigate(path, replace = false) {
  if (leaveGuard && leaveGuard() && !confirm("Discard unsaved changes?")) return;
  leaveGuard = null;
  (replace ? history.replaceState : history.pushState).call(history, {}, "", path);
  render();
}

async function render() {
  clearInterval(pollTimer);
  const path = location.pathname;
  for (const a of document.querySelectorAll("header nav a"))
    a.classList.toggle("active", path.startsWith(a.getAttribute("href").replace(/\/env$|\/secrets$/, "")));
  for (const [re, page] of routes) {
    const m = path.match(re);
    if (m) {
      main.replaceChildren();
      main.dataset.page = "loading";
      try { await page(...m.slice(1)); } catch (e) {
        main.append(h("p", { class: "error", testid: "page-error" }, String(e)));
      }
      return;
    }
  }
  main.replaceChildren(h("p", { testid: "not-found" }, "No such page: ", path));
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-link]");
  if (a && !ev.ctrlKey && !ev.metaKey && a.origin === location.origin) {
    ev.preventDefault();
    navigate(a.pathname);
  }
});
window.addEventListener("popstate", render);
window.addEventListener("beforeunload", (ev) => { if (leaveGuard && leaveGuard()) ev.preventDefault(); });

document.getElementById("token").value = token();
document.getElementById("token-save").addEventListener("click", () => {
  localStorage.setItem("dtlhub-token", document.getElementById("token").value.trim());
  toast("token saved");
  render();
});

// ---- editors (CodeMirror 6) ------------------------------------------------------------------
async function jsonSupport() {
  if (!jsonLang) {
    const d = CM.languages.find((l) => l.name === "JSON");
    jsonLang = d ? await d.load() : [];
  }
  return jsonLang;
}

const markErrors = CM.StateEffect.define();
const errorLines = CM.StateField.define({
  create: () => CM.Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(markErrors)) {
      const b = new CM.RangeSetBuilder();
      const lines = [...new Set(e.value)].filter((n) => n >= 1 && n <= tr.state.doc.lines).sort((a, b) => a - b);
      for (const n of lines) {
        const line = tr.state.doc.line(n);
        b.add(line.from, line.from, CM.Decoration.line({ class: "cm-error-line" }));
      }
      deco = b.finish();
    }
    return deco;
  },
  provide: (f) => CM.EditorView.decorations.from(f),
});

async function editor(parent, text, { readOnly = false, keys = [], onChange } = {}) {
  const ext = [CM.basicSetup, await jsonSupport(), errorLines,
               CM.Prec.highest(CM.keymap.of(keys)), CM.EditorState.readOnly.of(readOnly)];
  if (onChange) ext.push(CM.EditorView.updateListener.of((u) => { if (u.docChanged) onChange(); }));
  const view = new CM.EditorView({ doc: text, extensions: ext, parent });
  parent.cmView = view;
  return view;
}

function editorText(view) { return view.state.doc.toString(); }
function setEditorText(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}
function markLines(view, lines) {
  view.dispatch({ effects: markErrors.of(lines) });
  if (lines.length) {
    const n = Math.min(Math.max(lines[0], 1), view.state.doc.lines);
    view.dispatch({ effects: CM.EditorView.scrollIntoView(view.state.doc.line(n).from, { y: "center" }) });
  }
}

// ---- grids (AG Grid) -------------------------------------------------------------------------
function grid(parent, columnDefs, rowData, extra = {}) {
  return createGrid(parent, {
    theme: themeQuartz, columnDefs, rowData, animateRows: false,
    defaultColDef: { sortable: true, resizable: true, filter: true, minWidth: 80 },
    getRowId: (p) => String(p.data._id), ...extra,
  });
}

function cellLink(href, testid) {
  return (p) => {
    const a = link(href(p.data), p.value, testid ? testid(p.data) : undefined);
    return a;
  };
}

// ---- pipes list ----------------------------------------------------------------------------------
function pipeStatus(p) {
  const rt = p.runtime || {};
  if (!rt["is-valid-config"]) return "invalid config";
  if (rt["is-running"]) return "running";
  if (rt["is-disabled"]) return "disabled";
  if (rt.success === false) return "failed";
  if (rt.success === true) return "ok";
  return "not run";
}

function pipeRow(p) {
  const rt = p.runtime || {}, f = p.flow || {};
  const c = rt["last-run-counts"] || {};
  const q = rt.queues || {};
  return {
    _id: p._id, name: f.name || "", status: pipeStatus(p),
    lastRun: rt["last-started"] || "", result: rt["last-message"] || "",
    counts: rt["last-run-counts"] ? `${c["sync-type"]} · seen ${c.processed} · changed ${c.changed}` : "",
    nextRun: rt["next-run"] || "",
    queues: `src ${q.source ?? "-"} · deps ${Object.values(q.dependencies || {}).reduce((a, b) => a + b, 0)} · retries ${q.retries ?? 0}`,
    source: `${f["source-type"] || ""} ${(f["source-datasets"] || []).join(", ")}`.trim(),
    sink: `${f["sink-type"] || ""} ${(f["sink-datasets"] || []).join(", ")}`.trim(),
  };
}

async function pipesPage() {
  const filter = h("input", { type: "search", placeholder: "filter pipes", testid: "pipe-filter" });
  const status = h("select", { testid: "pipe-status-filter" },
    ["", "ok", "running", "failed", "disabled", "invalid config", "not run"].map((s) =>
      h("option", { value: s }, s || "any status")));
  const count = h("span", { testid: "pipe-count", class: "muted" });
  const gridEl = h("div", { class: "grid", testid: "pipes-grid" });
  main.append(h("h1", {}, "Pipes"),
    h("div", { class: "toolbar" }, filter, status, count,
      h("button", { testid: "new-pipe", onclick: () => navigate("/studio/pipes/new") }, "New pipe")),
    gridEl);
  const r = await api("GET", "/pipes", { query: { verbose: "false" } });
  if (!r.ok) return;
  const statusCell = (p) => h("span", { class: "badge " + p.value.replace(" ", "-"), testid: "pipe-status-" + p.data._id }, p.value);
  const g = grid(gridEl, [
    { field: "_id", headerName: "Pipe", cellRenderer: cellLink((d) => "/studio/pipes/" + enc(d._id), (d) => "pipe-link-" + d._id), flex: 2 },
    { field: "name", flex: 2 },
    { field: "status", cellRenderer: statusCell, width: 120 },
    { field: "lastRun", headerName: "Last run", width: 190 },
    { field: "result", headerName: "Result", flex: 1 },
    { field: "counts", headerName: "Last counts", flex: 2 },
    { field: "nextRun", headerName: "Next run", width: 190 },
    { field: "queues", headerName: "Queues", flex: 2 },
    { field: "source", headerName: "Source", flex: 2 },
    { field: "sink", headerName: "Sink", flex: 2 },
  ], r.data.map(pipeRow), {
    isExternalFilterPresent: () => !!status.value,
    doesExternalFilterPass: (n) => n.data.status === status.value,
    onModelUpdated: (e) => { count.textContent = `${e.api.getDisplayedRowCount()} pipes`; },
  });
  filter.addEventListener("input", () => g.setGridOption("quickFilterText", filter.value));
  status.addEventListener("change", () => g.onFilterChanged());
  main.dataset.page = "pipes";
  poll(async () => {
    const r2 = await api("GET", "/pipes", { query: { verbose: "false" }, quiet: true });
    if (r2.ok && main.dataset.page === "pipes") g.setGridOption("rowData", r2.data.map(pipeRow));
  }, 2000);
}

// ---- pipe detail -----------------------------------------------------------------------------
const TABS = [["config", "Config"], ["preview", "Preview"], ["effective", "Effective config"],
              ["input", "Input"], ["output", "Output"], ["log", "Execution log"]];

async function pipePage(id, tab) {
  const isNew = id === null;
  let pipe = null;
  if (!isNew) {
    const r = await api("GET", "/pipes/" + enc(id));
    if (!r.ok) { main.append(h("p", { testid: "page-error" }, "No pipe ", id)); return; }
    pipe = r.data;
  }
  const header = h("div", { class: "pipe-header", testid: "pipe-header" });
  const body = h("div", { class: "tab-body", testid: "tab-" + tab + "-body" });
  const tabs = h("nav", { class: "tabs", role: "tablist" }, TABS.map(([t, label]) =>
    isNew && t !== "config" && t !== "preview" ? null :
      h("a", { href: isNew ? "#" : `/studio/pipes/${enc(id)}/${t}`, "data-link": !isNew, role: "tab",
               class: t === tab ? "active" : "", testid: "tab-" + t,
               onclick: isNew ? (e) => { e.preventDefault(); showTab(t); } : undefined }, label)));
  main.append(header, tabs, body);
  const state = { id, pipe, draft: null };
  const drawHeader = () => renderPipeHeader(header, state);
  drawHeader();
  const showTab = async (t) => {
    body.replaceChildren();
    body.dataset.testid = "tab-" + t + "-body";
    for (const a of tabs.querySelectorAll("a")) a.classList.toggle("active", a.dataset.testid === "tab-" + t);
    await ({ config: configTab, preview: previewTab, effective: effectiveTab, input: inputTab,
             output: outputTab, log: logTab })[t](body, state, showTab);
  };
  state.showTab = showTab;
  await showTab(tab);
  main.dataset.page = "pipe";
  if (!isNew) poll(async () => {
    const r = await api("GET", "/pipes/" + enc(id), { quiet: true });
    if (r.ok && main.dataset.page === "pipe") { state.pipe = r.data; drawHeader(); }
  }, 2000);
}

function renderPipeHeader(el, state) {
  const p = state.pipe;
  if (!p) { el.replaceChildren(h("h1", {}, "New pipe"), h("p", { class: "muted" }, "Give it an _id, then Save.")); return; }
  const rt = p.runtime, st = pipeStatus(p);
  const ops = new Set(rt["supported-operations"] || []);
  const noLastSeen = !!(p.config && p.config.effective && p.config.effective.disable_set_last_seen);
  const op = async (operation, extra = {}) => {
    const r = await api("POST", `/pipes/${enc(p._id)}/pump`, { form: { operation, ...extra } });
    if (r.ok) toast(`${operation}: ok`);
    if (r.status === 409) toast("already running", "error");
    return r;
  };
  const btn = (testid, label, fn, enabled = true, why = "") =>
    h("button", { testid, onclick: fn, disabled: !enabled, title: enabled ? label : why }, label);
  const menu = h("div", { class: "pipe-menu", testid: "pipe-menu", role: "menu" },
    btn("op-start", "Start", () => op("start"), ops.has("start") && !rt["is-running"], "not runnable or running"),
    btn("op-stop", "Stop", () => op("stop"), rt["is-running"], "not running"),
    rt["is-disabled"]
      ? btn("op-enable", "Enable", () => op("enable"))
      : btn("op-disable", "Disable", () => {
          const c = prompt(`Disable pipe ${p._id}? Optional comment:`, "");
          if (c !== null) op("disable", { comment: c });
        }),
    btn("op-reset", "Reset…", () => { if (confirm(`Reset pipe ${p._id}? The next run reads everything.`)) op("update-last-seen", { "last-seen": "" }); },
        !noLastSeen, "disable_set_last_seen is set"),
    btn("op-restart", "Restart", async () => {
      if (!confirm(`Restart pipe ${p._id} (reset, then start)?`)) return;
      const r = await op("update-last-seen", { "last-seen": "" });
      if (r.ok) await op("start");
    }, !noLastSeen && ops.has("start"), "disable_set_last_seen is set"),
    btn("op-update-last-seen", "Update last seen…", () => {
      const v = prompt(`New last seen for ${p._id} (integer, string or comma-separated list):`, rt["last-seen"] ?? "");
      if (v !== null) op("update-last-seen", { "last-seen": v });
    }, !noLastSeen, "disable_set_last_seen is set"),
    btn("op-reset-to-end", "Reset to end…", () => { if (confirm(`Set last seen of ${p._id} to the end of its source?`)) op("set-last-seen-to-end"); }),
    btn("op-delete", "Delete…", async () => {
      if (!confirm(`Delete pipe ${p._id}? Its datasets stay.`)) return;
      const r = await api("DELETE", "/pipes/" + enc(p._id));
      if (r.ok) { toast(`deleted ${p._id}`); leaveGuard = null; navigate("/studio/pipes"); }
    }),
  );
  const prog = rt.progress || {};
  el.replaceChildren(
    h("h1", {}, h("span", { testid: "pipe-id" }, p._id), " ",
      h("span", { class: "badge " + st.replace(" ", "-"), testid: "pipe-status" }, st)),
    h("p", { class: "muted", testid: "pipe-summary" },
      `last message: ${rt["last-message"] ?? "-"} · last seen: ${JSON.stringify(rt["last-seen"] ?? null)} · ` +
      `processed ${prog.processed ?? 0}, changed ${prog.changed ?? 0} · next run ${rt["next-run"] || "-"}`),
    menu);
}

async function configTab(body, state, showTab) {
  const p = state.pipe;
  const text = state.draft ?? (p ? pretty(p.config.original) :
    pretty({ _id: "", type: "pipe", source: { type: "dataset", dataset: "" },
             transform: { type: "dtl", rules: { default: [["copy", "*"]] } } }));
  const errors = h("ul", { class: "errors", testid: "config-errors" });
  const holder = h("div", { class: "editor", testid: "config-editor" });
  const force = h("input", { type: "checkbox", testid: "config-force" });
  let saved = p ? pretty(p.config.original) : null;
  const save = async () => {
    const t = editorText(view);
    let id = null;
    try { id = JSON.parse(t)._id; } catch { /* the server positions the syntax error */ }
    if (!p && !id) { toast("give the pipe an _id before saving", "error"); return true; }
    const r = p ? await api("PUT", `/pipes/${enc(p._id)}/config`, { text: t, query: { force: force.checked || undefined }, quiet: true })
                : await api("POST", "/pipes", { text: "[" + t + "]", query: { force: force.checked || undefined }, quiet: true });
    showErrors(r.ok ? (r.data && r.data.runtime ? r.data.runtime["config-errors"] : []) :
      ((r.data && r.data.details && r.data.details.validation_errors) || [{ msg: (r.data && r.data.message) || r.status }]));
    if (r.ok) {
      toast("saved");
      saved = t; state.draft = null; leaveGuard = null;
      if (!p) navigate(`/studio/pipes/${enc(id)}/config`);
      else { const g = await api("GET", "/pipes/" + enc(p._id)); if (g.ok) state.pipe = g.data; }
    } else {
      toast(`${r.status} ${(r.data && r.data.message) || "not saved"}`, "error");
    }
    return true;
  };
  const format = () => {
    try { setEditorText(view, pretty(JSON.parse(editorText(view)))); }
    catch (e) { toast("not valid JSON: " + e.message, "error"); }
    return true;
  };
  const preview = () => { state.draft = editorText(view); showTab("preview"); return true; };
  const showErrors = (list) => {
    errors.replaceChildren(...(list || []).map((e) =>
      h("li", { testid: "config-error", "data-line": e.line ?? "" },
        e.line ? h("b", {}, `line ${e.line}:${e.column ?? ""} `) : null, h("pre", {}, e.msg || e.message))));
    markLines(view, (list || []).map((e) => e.line).filter(Boolean));
  };
  body.append(h("div", { class: "toolbar" },
    h("button", { testid: "config-save", onclick: save, title: "Ctrl+S" }, "Save"),
    h("button", { testid: "config-format", onclick: format }, "Format"),
    h("button", { testid: "config-undo", onclick: () => CM.undo(view) }, "Undo"),
    h("button", { testid: "config-preview", onclick: preview, title: "Ctrl+Enter" }, "Preview"),
    h("label", {}, force, " force (save despite errors)")), holder, errors);
  const view = await editor(holder, text, {
    keys: [{ key: "Mod-s", run: () => { save(); return true; }, preventDefault: true },
           { key: "Mod-Enter", run: preview, preventDefault: true }],
    onChange: () => { state.draft = editorText(view); },
  });
  leaveGuard = () => saved !== null && editorText(view) !== saved;
  if (p) showErrors(p.runtime["config-errors"].map((e) => ({ ...e })));
}

async function previewTab(body, state) {
  const p = state.pipe;
  const left = h("div", { class: "editor small", testid: "preview-entity" });
  const out = h("div", { class: "preview-out", testid: "preview-result" });
  const errs = h("ul", { class: "errors", testid: "preview-errors" });
  let entityView = null;
  const run = async (useEntity) => {
    const req = {};
    if (state.draft) req.config = state.draft;
    if (useEntity) {
      try { req.entity = JSON.parse(editorText(entityView)); }
      catch (e) { toast("the source entity is not valid JSON: " + e.message, "error"); return true; }
    }
    const pid = p ? p._id : ((() => { try { return JSON.parse(state.draft)._id; } catch { return ""; } })() || "new");
    const r = await api("POST", `/pipes/${enc(pid)}/preview`, { json: req });
    if (!r.ok) return true;
    const d = r.data;
    if (!useEntity && d.source_entity) setEditorText(entityView, pretty(d.source_entity));
    const section = (testid, title, ents) => h("section", { testid },
      h("h3", {}, title), h("pre", { class: "json" }, ents.map((e) => pretty(e)).join("\n")));
    out.replaceChildren(
      section("preview-stage-before", "before transforms", d.before_transforms || []),
      ...(d.stages || []).map((s, i) => section("preview-stage-" + i, `after transform ${i + 1} (${s.type})`, s.entities)),
      section("preview-stage-after", "after transforms", d.after_transforms || []),
      section("preview-stage-sink", "sink", d.sink || []));
    errs.replaceChildren(...(d.errors || []).map((e) =>
      h("li", { testid: "preview-error" }, e.line ? `line ${e.line}:${e.column} ` : "", h("pre", {}, e.msg))));
    body.dataset.ran = String(Number(body.dataset.ran || 0) + 1);
    return true;
  };
  body.append(h("div", { class: "toolbar" },
      h("button", { testid: "preview-run", onclick: () => run(true), title: "Ctrl+Enter" }, "Preview"),
      h("button", { testid: "preview-first", onclick: () => run(false) }, "First source entity"),
      state.draft ? h("span", { class: "muted", testid: "preview-unsaved" }, "previewing unsaved config") : null),
    h("div", { class: "split" }, h("div", {}, h("h3", {}, "source entity"), left), h("div", {}, out)), errs);
  entityView = await editor(left, "{}", { keys: [{ key: "Mod-Enter", run: () => { run(true); return true; } }] });
  await run(false);
}

async function effectiveTab(body, state) {
  const holder = h("div", { class: "editor", testid: "effective-config" });
  body.append(holder);
  await editor(holder, pretty(state.pipe.config.effective), { readOnly: true });
}

async function inputTab(body, state) {
  const f = state.pipe.flow || {};
  if (f["source-type"] === "dataset" && f["source-datasets"].length === 1)
    return datasetBrowser(body, f["source-datasets"][0]);
  return stageEntities(body, state.pipe._id, "source");
}

async function outputTab(body, state) {
  const f = state.pipe.flow || {};
  if (f["sink-type"] === "dataset" && f["sink-datasets"].length === 1)
    return datasetBrowser(body, f["sink-datasets"][0]);
  return stageEntities(body, state.pipe._id, "sink");
}

async function stageEntities(body, pipeId, stage) {
  const r = await api("GET", `/pipes/${enc(pipeId)}/entities`, { query: { stage, limit: 100 } });
  const list = h("div", { testid: "stage-entities" });
  body.append(h("p", { class: "muted" }, `${stage} entities, computed now (first 100)`), list);
  if (r.ok) list.append(...r.data.map((e) => h("details", { testid: "entity-row" },
    h("summary", {}, String(e._id)), typedView(e))));
}

async function logTab(body, state) {
  const sel = h("select", { testid: "log-filter" }, ["", "pump-started", "pump-completed", "pump-failed",
    "pump-offset-set", "read-error", "write-error"].map((t) => h("option", { value: t }, t || "all events")));
  const rows = h("div", { testid: "log-rows" });
  body.append(h("div", { class: "toolbar" }, sel,
    h("button", { testid: "log-refresh", onclick: () => load() }, "Refresh")), rows);
  const load = async () => {
    const r = await api("GET", `/pipes/${enc(state.pipe._id)}/log`, { query: { reverse: "true", limit: 200 }, quiet: true });
    if (!r.ok) return;
    const evs = r.data.filter((e) => !sel.value || e.type === sel.value);
    rows.replaceChildren(...evs.map((e) => {
      const m = e.metrics || {};
      return h("details", { testid: "log-row", "data-type": e.type, class: "log " + e.type },
        h("summary", {}, h("b", {}, e.type), " ", localTime(e.event_time), " ", e.sync_type || "",
          e.total_time !== undefined ? ` ${e.total_time.toFixed(3)} s` : "",
          m["entities.entities_last_run"] !== undefined ? ` seen ${m["entities.entities_last_run"]} changed ${m["entities.changes_last_run"]}` : "",
          e.reason_why_stopped ? " — " + e.reason_why_stopped : "",
          e.original_error_message && !e.reason_why_stopped ? " — " + e.original_error_message : ""),
        h("pre", { class: "json", testid: "log-detail" }, pretty(e)));
    }));
  };
  sel.addEventListener("change", load);
  await load();
  poll(load, 3000);
}

// ---- datasets ------------------------------------------------------------------------------
async function datasetsPage() {
  const filter = h("input", { type: "search", placeholder: "filter datasets", testid: "dataset-filter" });
  const sys = h("input", { type: "checkbox", testid: "show-system" });
  const gridEl = h("div", { class: "grid", testid: "datasets-grid" });
  main.append(h("h1", {}, "Datasets"), h("div", { class: "toolbar" }, filter,
    h("label", {}, sys, " show system datasets")), gridEl);
  const r = await api("GET", "/datasets", { query: { verbose: "true" } });
  if (!r.ok) return;
  const rows = r.data.map((d) => ({ _id: d._id, count: d.runtime["count-index-exists"],
    deleted: d.runtime["count-index-deleted"], log: d.runtime["count-log-exists"],
    populated: d.runtime.populated, pipe: d.runtime["sink-of"] || "", origin: d.runtime.origin }));
  const g = grid(gridEl, [
    { field: "_id", headerName: "Dataset", flex: 3, cellRenderer: cellLink((d) => "/studio/datasets/" + enc(d._id), (d) => "dataset-link-" + d._id) },
    { field: "count", headerName: "Entities", width: 120 }, { field: "deleted", width: 110 },
    { field: "log", headerName: "Log size", width: 110 }, { field: "populated", width: 110 },
    { field: "pipe", headerName: "Producing pipe", flex: 2, cellRenderer: (p) => p.value ? link("/studio/pipes/" + enc(p.value), p.value) : "" },
    { field: "origin", width: 100 },
  ], rows, { isExternalFilterPresent: () => !sys.checked, doesExternalFilterPass: (n) => n.data.origin !== "system" });
  filter.addEventListener("input", () => g.setGridOption("quickFilterText", filter.value));
  sys.addEventListener("change", () => g.onFilterChanged());
  main.dataset.page = "datasets";
}

async function datasetPage(ds) {
  main.append(h("h1", {}, "Dataset ", h("span", { testid: "dataset-id" }, ds)));
  const body = h("div");
  main.append(body);
  await datasetBrowser(body, ds);
  main.dataset.page = "dataset";
}

async function datasetBrowser(body, ds) {
  const hist = h("input", { type: "checkbox", testid: "opt-history" });
  const del = h("input", { type: "checkbox", testid: "opt-deleted", checked: true });
  const jump = h("input", { type: "search", placeholder: "jump to _id", testid: "jump-id" });
  const info = h("span", { class: "muted", testid: "dataset-info" });
  const gridEl = h("div", { class: "grid", testid: "entities-grid" });
  const more = h("button", { testid: "load-more" }, "Load more");
  body.append(h("div", { class: "toolbar" },
    h("label", {}, hist, " history"), h("label", {}, del, " deleted"), jump,
    h("button", { testid: "jump-go", onclick: () => {
      if (jump.value) navigate(`/studio/datasets/${enc(ds)}/entities/${enc(jump.value)}`);
    } }, "Go"), info), gridEl, more);
  const meta = await api("GET", "/datasets/" + enc(ds), { quiet: true });
  if (meta.ok) info.textContent = `${meta.data.runtime["count-index-exists"]} entities, ` +
    `${meta.data.runtime["count-log-exists"]} versions in the log`;
  let since = null;
  const g = grid(gridEl, [
    { field: "_id", flex: 3, cellRenderer: cellLink((d) => `/studio/datasets/${enc(ds)}/entities/${enc(d.id)}`, () => "entity-link") },
    { field: "_updated", headerName: "_updated", width: 110 },
    { field: "_deleted", headerName: "_deleted", width: 100 },
    { field: "ts", headerName: "_ts", width: 210 },
    { field: "props", headerName: "properties", flex: 4 },
  ], [], { getRowId: (p) => String(p.data._updated) });
  let busy = null;
  const load = (reset) => (busy = (busy || Promise.resolve()).then(() => loadPage(reset)));
  const loadPage = async (reset) => {
    if (reset) { since = null; g.setGridOption("rowData", []); }
    const r = await api("GET", `/datasets/${enc(ds)}/entities`, { query: { since: since ?? undefined, limit: 50,
      history: String(hist.checked), deleted: String(del.checked) } });
    if (!r.ok) return;
    const rows = r.data.map((e) => ({ _id: String(e._id), id: e._id, _updated: e._updated, _deleted: !!e._deleted,
      ts: e._ts ? new Date(e._ts / 1000).toISOString() : "",
      props: Object.keys(e).filter((k) => !k.startsWith("_")).join(", ") }));
    if (r.data.length) since = r.data[r.data.length - 1]._updated;
    g.applyTransaction({ add: rows });
    more.disabled = r.data.length < 50;
    body.dataset.loaded = String(g.getDisplayedRowCount());
  };
  more.addEventListener("click", () => load(false));
  hist.addEventListener("change", () => load(true));
  del.addEventListener("change", () => load(true));
  await load(true);
}

// typed rendering of transit values
const TRANSIT = [["~:", "NI"], ["~r", "URI"], ["~t", "datetime"], ["~d", "date"], ["~b", "bytes"],
                 ["~u", "UUID"], ["~f", "decimal"]];
function typedView(v) {
  if (v === null) return h("span", { class: "v-null" }, "null");
  if (Array.isArray(v)) return h("ol", { class: "v-list" }, v.map((x) => h("li", {}, typedView(x))));
  if (typeof v === "object") return h("dl", { class: "v-obj" }, Object.entries(v).flatMap(([k, x]) =>
    [h("dt", {}, k), h("dd", {}, typedView(x))]));
  if (typeof v === "string") {
    for (const [p, label] of TRANSIT) if (v.startsWith(p))
      return h("span", { class: "v-typed", testid: "typed-value", "data-type": label },
        h("span", { class: "type-badge" }, label), " ", v.slice(2));
    return h("span", { class: "v-str" }, JSON.stringify(v));
  }
  return h("span", { class: "v-" + typeof v }, String(v));
}

async function entityPage(ds, eid) {
  const r = await api("GET", `/datasets/${enc(ds)}/entity`, { query: { entity_id: eid }, quiet: true });
  main.append(h("h1", {}, link("/studio/datasets/" + enc(ds), ds), " / ", h("span", { testid: "entity-id" }, eid)));
  if (!r.ok) { main.append(h("p", { testid: "page-error" }, `no entity ${eid} in ${ds}`)); return; }
  const raw = h("input", { type: "checkbox", testid: "raw-toggle" });
  const view = h("div", { testid: "entity-view", class: "entity" });
  const show = () => view.replaceChildren(raw.checked ? h("pre", { class: "json" }, pretty(r.data)) : typedView(r.data));
  raw.addEventListener("change", show);
  show();
  // the versions: newest first, walking _previous
  const versions = [r.data];
  for (let cur = r.data; cur._previous !== undefined && cur._previous !== null && versions.length < 50;) {
    const pr = await api("GET", `/datasets/${enc(ds)}/entity`, { query: { entity_id: eid, offset: cur._previous }, quiet: true });
    if (!pr.ok) { versions.push(null); break; }   // compacted away
    versions.push(pr.data); cur = pr.data;
  }
  const picks = new Set();
  const diff = h("div", { testid: "diff-view" });
  const list = h("table", { testid: "versions", class: "versions" },
    h("tr", {}, h("th", {}, "diff"), h("th", {}, "_updated"), h("th", {}, "_ts"), h("th", {}, "_deleted")),
    versions.map((v, i) => v === null ? h("tr", { testid: "version-row" }, h("td", { colspan: 4 }, "earlier versions compacted away")) :
      h("tr", { testid: "version-row" },
        h("td", {}, h("input", { type: "checkbox", testid: "version-pick", onchange: (e) => {
          e.target.checked ? picks.add(i) : picks.delete(i);
          if (picks.size === 2) { const [a, b] = [...picks].sort((x, y) => y - x); diff.replaceChildren(diffView(versions[a], versions[b])); }
        } })),
        h("td", {}, String(v._updated)), h("td", {}, v._ts ? new Date(v._ts / 1000).toISOString() : ""),
        h("td", {}, String(!!v._deleted)))));
  main.append(h("div", { class: "toolbar" }, h("label", {}, raw, " raw JSON"),
      h("button", { testid: "copy-json", onclick: () => navigator.clipboard && navigator.clipboard.writeText(pretty(r.data)) }, "Copy as JSON")),
    view, h("h2", {}, `Versions (${versions.length})`), list, h("p", { class: "muted" }, "Tick two versions to compare them."), diff);
  main.dataset.page = "entity";
}

function diffView(a, b) {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !["_hash"].includes(k)).sort();
  return h("table", { class: "diff", testid: "diff-table" },
    h("tr", {}, h("th", {}, "property"), h("th", {}, `_updated ${a._updated}`), h("th", {}, `_updated ${b._updated}`)),
    keys.map((k) => {
      const x = JSON.stringify(a[k]), y = JSON.stringify(b[k]);
      return h("tr", { class: x === y ? "" : "changed", testid: x === y ? "diff-same" : "diff-changed" },
        h("td", {}, k), h("td", {}, h("pre", {}, x ?? "—")), h("td", {}, h("pre", {}, y ?? "—")));
    }));
}

// ---- flow graph (Mermaid) ------------------------------------------------------------------------
async function flowsPage() {
  const holder = h("div", { testid: "flow-graph", class: "flow" });
  main.append(h("h1", {}, "Flows"), h("p", { class: "muted" },
    "Systems, pipes and datasets; dashed edges are hops. Click a pipe or dataset to open it."), holder);
  const r = await api("GET", "/pipes", { query: { verbose: "false" } });
  if (!r.ok) return;
  const ids = new Map();
  const nid = (kind, name) => { const k = kind + ":" + name; if (!ids.has(k)) ids.set(k, kind[0] + ids.size); return ids.get(k); };
  const q = (s) => '"' + String(s).replace(/"/g, "#quot;") + '"';
  const lines = ["flowchart LR"], clicks = [], cls = [];
  const datasets = new Set(), systems = new Set();
  for (const p of r.data) {
    const f = p.flow || {}, st = pipeStatus(p).replace(" ", "-");
    const pn = nid("pipe", p._id);
    lines.push(`  ${pn}[${q(p._id)}]`);
    cls.push(`  class ${pn} st-${st}`);
    clicks.push(`  click ${pn} href "/studio/pipes/${enc(p._id)}"`);
    for (const d of f["source-datasets"] || []) { datasets.add(d); lines.push(`  ${nid("dataset", d)} --> ${pn}`); }
    for (const d of f["hop-datasets"] || []) { datasets.add(d); lines.push(`  ${nid("dataset", d)} -.-> ${pn}`); }
    for (const d of f["sink-datasets"] || []) { datasets.add(d); lines.push(`  ${pn} --> ${nid("dataset", d)}`); }
    const s = f.systems || {};
    if (s.source) { systems.add(s.source); lines.push(`  ${nid("system", s.source)} --> ${pn}`); }
    if (s.sink) { systems.add(s.sink); lines.push(`  ${pn} --> ${nid("system", s.sink)}`); }
  }
  for (const d of datasets) {
    lines.push(`  ${nid("dataset", d)}[(${q(d)})]`);
    clicks.push(`  click ${nid("dataset", d)} href "/studio/datasets/${enc(d)}"`);
  }
  for (const s of systems) lines.push(`  ${nid("system", s)}{{${q(s)}}}`);
  lines.push("  classDef st-ok fill:#d7f5dd,stroke:#2b8a3e", "  classDef st-running fill:#d0ebff,stroke:#1971c2",
    "  classDef st-failed fill:#ffe3e3,stroke:#c92a2a", "  classDef st-disabled fill:#eee,stroke:#888,stroke-dasharray:3",
    "  classDef st-invalid-config fill:#fff3bf,stroke:#e67700", "  classDef st-not-run fill:#fff,stroke:#888");
  const src = [...lines, ...cls, ...clicks].join("\n");
  holder.dataset.source = src;
  const { mermaid } = await import("mermaid");
  mermaid.initialize({ startOnLoad: false, securityLevel: "loose", flowchart: { htmlLabels: false }, maxEdges: 5000, maxTextSize: 500000 });
  const { svg, bindFunctions } = await mermaid.render("flowsvg", src);
  holder.innerHTML = svg;
  if (bindFunctions) bindFunctions(holder);
  for (const a of holder.querySelectorAll("a")) {
    const href = a.getAttribute("href") || a.getAttribute("xlink:href");
    if (href) a.addEventListener("click", (e) => { e.preventDefault(); navigate(href); });
  }
  main.dataset.page = "flows";
}

// ---- tests -------------------------------------------------------------------------------------
async function testsPage() {
  const out = h("div", { testid: "test-results" });
  const summary = h("p", { testid: "test-summary", class: "muted" }, "Runs `dtl test` on the folder the node was deployed from (in a scratch hub).");
  const runBtn = h("button", { testid: "tests-run" }, "Run tests");
  main.append(h("h1", {}, "Tests"), h("div", { class: "toolbar" }, runBtn), summary, out);
  runBtn.addEventListener("click", async () => {
    runBtn.disabled = true; summary.textContent = "running…";
    const r = await api("POST", "/tests/run");
    runBtn.disabled = false;
    if (!r.ok) { summary.textContent = "could not run: " + ((r.data && r.data.message) || r.status); return; }
    const d = r.data;
    summary.textContent = `${d.passed} passed, ${d.failed} failed` + (d.errors.length ? ` — ${d.errors.join("; ")}` : "");
    out.replaceChildren(...d.tests.map((t) => h("details", { testid: "test-row", "data-status": t.status, open: t.status === "failed" },
      h("summary", {}, h("span", { class: "badge " + (t.status === "passed" ? "ok" : "failed") }, t.status), " ", t.name,
        t.message ? " — " + t.message : ""),
      t.diff ? h("pre", { class: "diff-text", testid: "test-diff" }, t.diff) : null)));
  });
  main.dataset.page = "tests";
}

// ---- settings ----------------------------------------------------------------------------------
async function envPage() {
  main.append(h("h1", {}, "Environment variables"));
  const r = await api("GET", "/env");
  if (!r.ok) return;
  const table = h("table", { testid: "env-table", class: "kv" });
  const addRow = (k = "", v = "") => {
    const tr = h("tr", { testid: "env-row" },
      h("td", {}, h("input", { value: k, testid: "env-name", placeholder: "name" })),
      h("td", {}, h("input", { value: typeof v === "string" ? v : JSON.stringify(v), testid: "env-value", placeholder: "value" })),
      h("td", {}, h("button", { testid: "env-delete", onclick: () => tr.remove() }, "Delete")));
    table.append(tr);
  };
  for (const [k, v] of Object.entries(r.data)) addRow(k, v);
  const save = async () => {
    const obj = {};
    for (const tr of table.querySelectorAll("tr")) {
      const [k, v] = tr.querySelectorAll("input");
      if (k.value) obj[k.value] = v.value;
    }
    const s = await api("PUT", "/env", { json: obj });
    if (s.ok) toast("environment saved");
  };
  main.append(table, h("div", { class: "toolbar" },
    h("button", { testid: "env-add", onclick: () => addRow() }, "Add variable"),
    h("button", { testid: "env-save", onclick: save }, "Save")));
  main.dataset.page = "env";
}

async function secretsPage() {
  main.append(h("h1", {}, "Secrets"), h("p", { class: "muted" }, "Names only: values are write-only."));
  const list = h("ul", { testid: "secret-list" });
  const load = async () => {
    const r = await api("GET", "/secrets");
    if (!r.ok) return;
    const names = Array.isArray(r.data) ? r.data : Object.keys(r.data || {});
    list.replaceChildren(...names.map((n) => h("li", { testid: "secret-row", "data-name": n }, n, " ",
      h("button", { testid: "secret-delete", onclick: async () => {
        if (!confirm(`Delete secret ${n}?`)) return;
        if ((await api("DELETE", "/secrets/" + enc(n))).ok) { toast("deleted " + n); load(); }
      } }, "Delete"))));
  };
  const name = h("input", { testid: "secret-name", placeholder: "name" });
  const value = h("input", { testid: "secret-value", placeholder: "value", type: "password" });
  main.append(list, h("div", { class: "toolbar" }, name, value, h("button", { testid: "secret-add", onclick: async () => {
    if (!name.value) return;
    if ((await api("POST", "/secrets", { json: { [name.value]: value.value } })).ok) {
      toast("secret set"); name.value = value.value = ""; load();
    }
  } }, "Set secret")));
  await load();
  main.dataset.page = "secrets";
}

render();
