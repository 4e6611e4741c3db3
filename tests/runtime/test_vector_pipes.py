"""Pipes on the vector backend (`dtl run --backend vector`): each source batch goes through the
transform as one batch (columnar, with hops joins over the store's `derived` cache), and the
sink datasets, errors and dependency tracking are exactly those of the default backend."""

import os

import pytest

from test_pump import internal, receiver, write_config

import dtl
from dtl.api import Transform
from dtl.provider import NullProvider
from dtl.backends.vector import joins
from runtime import transforms

RULES = {"default": [
    ["filter", ["neq", "_S.skip", True]],
    ["copy", "_id"],
    ["add", "name", ["upper", "_S.name"]],
    # fails (DTLRuntimeError) for an entity whose fmt is not a string
    ["add", "year", ["datetime-format", "_S.fmt", "~t2020-01-01T00:00:00Z"]],
    ["add", "_orders", ["hops", {"datasets": ["orders o"], "where": ["eq", "_S._id", "o.person"]}]],
    ["add", "order_count", ["count", "_T._orders"]],
    ["add", "order_total", ["plus", 0.0, ["sum", "_T._orders.amount"]]],
    ["remove", "_orders"]]}

PIPES = [receiver("persons"), receiver("orders"),
         internal("po", "persons", RULES, batch_size=4,
                  pump={"max_consecutive_write_errors": 10, "dead_letter_dataset": "po-dead"})]


@pytest.fixture
def spies(monkeypatch):
    """Counts batches the transform ran columnar and the join views hops used."""
    seen = {"columnar": 0, "views": []}
    each, view = Transform._columnar_each, joins.view

    def columnar_each(self, entities, bindings):
        got = each(self, entities, bindings)
        seen["columnar"] += got is not None
        return got

    def counted_view(provider, dataset, probe=None):
        v = view(provider, dataset, probe)
        seen["views"].append(v)
        return v
    monkeypatch.setattr(Transform, "_columnar_each", columnar_each)
    monkeypatch.setattr(joins, "view", counted_view)
    return seen


def _hub(root, backend, monkeypatch):
    from runtime.config import load_config
    from runtime.hub import Hub
    return Hub(load_config(write_config(os.path.join(root, "config"), PIPES)),
               os.path.join(root, "data"), backend=backend)


def _snapshot(hub, summary):
    r = summary["po"]
    with hub.dataset("po") as ds:
        latest = sorted(({k: v for k, v in e.items() if k != "_ts"}
                         for e in ds.entities(deleted=True)), key=lambda e: e["_id"])
    errors = sorted((e["_id"], e["original_error_message"])
                    for e in hub.execution_log("po", "write-error"))
    with hub.dataset("po-dead") as ds:
        dead = sorted(e["_id"] for e in ds.entities(deleted=False))
    return {"stats": (r.read, r.written, r.changed, r.errors, r.queued, r.deleted),
            "output": hub.output("po"), "latest": latest, "errors": errors, "dead": dead}


PERSONS = [{"_id": f"p{i}", "name": f"n{i}", "fmt": "%Y"} for i in range(12)]
PERSONS[5]["skip"] = True        # filtered, never live: not stored
PERSONS[7]["fmt"] = 3            # fails: logged, dead-lettered, the rest are written
ORDERS = [{"_id": "o1", "person": "p1", "amount": 10.0}, {"_id": "o2", "person": "p1", "amount": 2.5},
          {"_id": "o3", "person": "p2", "amount": 4}, {"_id": "o4", "person": "p4", "amount": 1.0},
          {"_id": "o5", "person": "p9", "amount": None}]


def _scenario(hub):
    hub.post("orders", ORDERS)
    hub.post("persons", PERSONS)
    s1 = hub.run()
    assert s1.ok, s1.as_dict()
    first = _snapshot(hub, s1)
    # orders change: dependency tracking re-queues p1, p2 and p4; persons change too
    hub.post("orders", [{"_id": "o1", "person": "p1", "amount": 20.0},
                        {"_id": "o6", "person": "p2", "amount": 1.5},
                        {"_id": "o4", "_deleted": True}])
    hub.post("persons", [{"_id": "p3", "_deleted": True, "fmt": "%Y"},
                         {"_id": "p6", "name": "n6", "fmt": "%Y", "skip": True},
                         {"_id": "p10", "name": "new", "fmt": "%Y"}])
    s2 = hub.run()
    assert s2.ok, s2.as_dict()
    return first, _snapshot(hub, s2)


def test_vector_pipes_equal_auto(tmp_path, monkeypatch, spies):
    with _hub(str(tmp_path / "closure"), "closure", monkeypatch) as hub:
        closure = _scenario(hub)
    assert spies["columnar"] == 0 and spies["views"] == []
    for backend in ("vector", "auto"):   # auto: a columnar join pays, so batches go columnar
        spies["columnar"], spies["views"] = 0, []
        with _hub(str(tmp_path / backend), backend, monkeypatch) as hub:
            got = _scenario(hub)
            prov = hub.provider
            # hops used the cache (a run's first probe: a view of the orders its keys hit)
            assert prov.derived("orders").get("latest-parts") is not None
        assert got == closure, backend
        # the batches ran columnar, joins through a view of the orders dataset
        assert spies["columnar"] >= 3
        views = spies["views"]
        assert views and all(v is not None for v in views)

    first, second = closure
    out = {e["_id"]: e for e in first["output"]}
    assert sorted(out) == sorted(f"p{i}" for i in range(12) if i not in (5, 7))
    assert (out["p1"]["order_count"], out["p1"]["order_total"]) == (2, 12.5)
    assert (out["p2"]["order_count"], out["p2"]["order_total"]) == (1, 4.0)
    assert (out["p9"]["order_count"], out["p9"]["order_total"]) == (1, 0.0)
    assert out["p0"] == {"_id": "p0", "name": "N0", "year": "2020", "order_count": 0,
                         "order_total": 0.0}
    assert [e[0] for e in first["errors"]] == ["write-error:p7"] and first["dead"] == ["p7"]
    assert first["stats"][3] == 1
    out = {e["_id"]: e for e in second["output"]}
    assert second["stats"][4] == 3                                   # p1, p2, p4 re-queued
    assert (out["p1"]["order_count"], out["p1"]["order_total"]) == (2, 22.5)
    assert (out["p2"]["order_count"], out["p2"]["order_total"]) == (2, 5.5)
    assert (out["p4"]["order_count"], out["p4"]["order_total"]) == (0, 0.0)
    assert out["p10"]["name"] == "NEW" and "p3" not in out and "p6" not in out
    latest = {e["_id"]: e for e in second["latest"]}
    assert latest["p3"]["_deleted"] is True and latest["p6"]["_deleted"] is True
    assert "p5" not in latest


def test_two_hubs_with_other_backends_do_not_affect_each_other(tmp_path, monkeypatch, spies):
    """The backend is the hub's (no module global): a closure hub and a vector hub open in
    one process each run their own, with the same results."""
    with _hub(str(tmp_path / "c"), "closure", monkeypatch) as hc, \
            _hub(str(tmp_path / "v"), "vector", monkeypatch) as hv:
        closure = _scenario(hc)
        assert spies["columnar"] == 0
        vector = _scenario(hv)
        assert spies["columnar"] >= 3
        spies["columnar"] = 0
        hc.post("persons", [{"_id": "p11", "name": "x", "fmt": "%Y"}])
        assert hc.run().ok and spies["columnar"] == 0   # the vector hub changed nothing here
        for hub, backend in ((hc, "closure"), (hv, "vector")):
            chain = hub._chain(hub.config.pipes["po"])
            assert [st.transform.backend for st in chain.stages if st.kind == "dtl"] == [backend]
    assert vector == closure


def _posted(root, monkeypatch):
    """A configuration (root/config) with persons and orders posted into root/data."""
    with _hub(root, "closure", monkeypatch) as hub:
        hub.post("orders", ORDERS)
        hub.post("persons", PERSONS)
    return os.path.join(root, "config"), os.path.join(root, "data")


@pytest.mark.parametrize("backend", ["closure", "vector"])
def test_dtl_run_and_a_task_run_on_the_backend_they_are_given(tmp_path, monkeypatch, spies,
                                                               backend):
    """`dtl run --backend` and an executor task (its TaskSpec's backend) compile the pipes
    on that backend: vector batches run columnar, closure ones never do."""
    from click.testing import CliRunner
    from cli.commands.run import run_cmd
    from runtime.executor.task import TaskSpec, run_task
    cfg, data = _posted(str(tmp_path / "cli"), monkeypatch)
    r = CliRunner().invoke(run_cmd, [cfg, "--data", data, "--backend", backend,
                                     "--keep-going", "--format", "json"])
    assert r.exit_code == 0 and r.exception is None, r.output
    assert (spies["columnar"] > 0) == (backend == "vector")
    spies["columnar"] = 0
    cfg, data = _posted(str(tmp_path / "task"), monkeypatch)
    out = run_task(TaskSpec(cfg, data, "po", fingerprint=str(tmp_path), backend=backend))
    assert (out.run["status"], out.run["read"], out.run["errors"]) == ("ok", 12, 1), out.run
    assert (spies["columnar"] > 0) == (backend == "vector")


def test_the_join_view_is_cached_per_dataset_content(tmp_path, monkeypatch, spies):
    with _hub(str(tmp_path), "vector", monkeypatch) as hub:
        hub.post("orders", ORDERS)
        hub.post("persons", PERSONS)
        hub.run(["po"], until_stable=False)
        run1 = list(spies["views"])   # kept alive: ids are compared below
        # 3 batches; the one with the failing p7 raises before its join and reruns per entity
        # the first probe: a view of the orders its keys hit; then the whole view, cached
        assert len(run1) == 2 and run1[0] is not run1[1]
        assert hub.provider.derived("orders")["vector"] is run1[1]
        # an order changes: the cached view is dropped, the rerun sees the new amount
        hub.post("orders", [{"_id": "o2", "person": "p1", "amount": 7.5},
                            {"_id": "o3", "person": "p2", "amount": 5}])
        del spies["views"][:]
        s = hub.run(["po"], until_stable=False)
        assert s["po"].queued == 2
        assert spies["views"] and all(v is not w for v in spies["views"] for w in run1)
        out = {e["_id"]: e for e in hub.output("po")}
        assert out["p1"]["order_total"] == 17.5 and out["p2"]["order_total"] == 5.0


def test_run_many_keeps_the_chain_rules(tmp_path, monkeypatch):
    """run_many equals run per entity: namespaces, _filtered ids, _deleted, id_required,
    emit_children and failures."""
    pipe = {"_id": "ns", "type": "pipe", "source": {"type": "dataset", "dataset": "x"},
            "namespaced_identifiers": True, "add_namespaces": True, "remove_namespaces": True,
            "transform": [
                {"type": "dtl", "rules": {"default": [
                    ["filter", ["neq", "_S.ns:skip", True]],
                    ["copy", "*"],
                    ["add", "n", ["plus", "_S.ns:v", 1]],
                    ["add", "y", ["datetime-format", "_S.ns:fmt", "~t2020-01-01T00:00:00Z"]],
                    ["if", ["eq", "_S.ns:noid", True], ["add", "_id", 5]],
                    ["add", "$children", ["apply", "kid", "_S.ns:kids"]]],
                    "kid": [["add", "_id", "_S.k"]]}},
                {"type": "emit_children"},
                {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "k2", "_S._id"]]}}]}
    from runtime.config import load_config
    ents = [{"_id": "a", "v": 1, "fmt": "%Y", "kids": [{"k": "a1"}, {"k": "a2"}]},
            {"_id": "b", "skip": True, "fmt": "%Y", "kids": [{"k": "b1"}]},
            {"_id": "c", "v": 2, "fmt": 5, "kids": [{"k": "c1"}]},
            {"_id": "d", "v": 3, "fmt": "%Y", "noid": True},
            {"_id": "e", "_deleted": True, "v": 4, "fmt": "%Y", "kids": [{"k": "e1"}]},
            {"_id": "f", "fmt": "%Y", "kids": [{"k": 7}]}]
    results = {}
    for backend in ("auto", "vector"):
        cfg = load_config(write_config(str(tmp_path / backend), [pipe]))
        for mf in (True, False):
            chain = transforms.build_chain(cfg.pipes["ns"], NullProvider(), {},
                                           backend=backend, mark_filtered=mf)
            expected = []
            for e in ents:
                try:
                    expected.append(chain(dict(e)))
                except transforms.EntityFailure as ex:
                    expected.append(("failure", str(ex), ex.entity))
            got = [("failure", str(r), r.entity) if isinstance(r, transforms.EntityFailure)
                   else r for r in chain.run_many([dict(e) for e in ents])]
            assert got == expected
            results[backend, mf] = got
    assert results["auto", True] == results["vector", True]
    assert results["auto", False] == results["vector", False]
    assert results["auto", True][0] == [{"_id": "a1", "k2": "ns:a1"},
                                            {"_id": "a2", "k2": "ns:a2"}]
    assert results["auto", True][2][0] == "failure" and "format string" in results["auto", True][2][1]
    assert results["auto", True][3][0] == "failure" and "string _id" in results["auto", True][3][1]
    assert results["auto", True][4] == [{"_id": "e1", "k2": "ns:e1"}]
    assert results["auto", True][5][0] == "failure"


def _store_provider(tmp_path, ents):
    from storage import Store, StoreProvider
    store = Store(str(tmp_path / "store"))
    with store.open("orders", writer=True, create=True) as ds:
        ds.append(ents)
    return store, StoreProvider(store)


def test_store_provider_scan_is_in_lookup_order_with_hashed_long_ids(tmp_path):
    long_a, long_z = "a" * 600, "z" * 500 + "é" * 10
    ids = ["b", long_z, "c", long_a, "bb" + "x" * 490, "\x00n", "a", "zz"]
    ents = [{"_id": i, "person": "p", "k": n} for n, i in enumerate(ids)]
    store, prov = _store_provider(tmp_path, ents + [{"_id": "gone", "person": "p"}])
    with store.open("orders", writer=True) as ds:
        ds.append([{"_id": "gone", "_deleted": True}])
    scanned = [e["_id"] for e in prov.scan("orders")]
    assert scanned == sorted(ids)
    assert [e["_id"] for e in prov.lookup("orders", ("person",), ["p"])] == scanned
    # hops through the columnar view give the lookups' order
    rules = {"default": [["copy", "_id"], ["add", "ks", ["hops", {
        "datasets": ["orders o"], "where": ["eq", "_S._id", "o.person"]}]],
        ["add", "ks", "_T.ks.k"]]}
    vec = dtl.compile(rules, backend="vector", provider=prov)
    ref = dtl.compile(rules, backend="closure", provider=prov)
    src = [{"_id": "p"}, {"_id": "q"}]
    assert vec.apply_each(src) == [ref.apply(e) for e in src]
    assert vec.apply_each(src)[0] == [{"_id": "p", "ks": [5, 6, 3, 0, 4, 2, 7, 1]}]
    assert prov.derived("orders")["vector"] is not None
    prov.close()


def test_store_provider_derived_is_emptied_when_the_dataset_changes(tmp_path):
    store, prov = _store_provider(tmp_path, [{"_id": "o1", "person": "p"}])
    d = prov.derived("orders")
    d["x"] = 1
    assert prov.derived("orders") is d
    with store.open("orders", writer=True) as ds:
        ds.append([{"_id": "o2", "person": "p"}])
    d2 = prov.derived("orders")
    assert d2 is not d and d2 == {}
    assert prov.derived("orders") is d2
    assert prov.derived("missing") == {}
    prov.close()


def test_a_receiver_transforms_the_posted_batch_at_once(tmp_path, monkeypatch, spies):
    """http_endpoint: the posted entities go through a join rule as one columnar batch (auto);
    a failing entity still fails the whole request and writes nothing."""
    from runtime.config import load_config
    from runtime.hub import Hub
    join = [rule for rule in RULES["default"] if rule[0] != "filter" and
            (rule[0] != "add" or rule[1] != "year")]
    pipes = [receiver("orders"), receiver("rx", transform={"type": "dtl", "rules": {
        "default": join}})]
    with Hub(load_config(write_config(str(tmp_path / "config"), pipes)),
             str(tmp_path / "data"), backend="auto") as hub:
        hub.post("orders", ORDERS)
        hub.post("rx", [{"_id": "p1", "name": "a"}, {"_id": "p2", "name": "b"},
                        {"_id": "p3", "name": "c"}])
        assert spies["columnar"] == 1
        assert [(e["_id"], e["name"], e["order_count"], e["order_total"])
                for e in hub.output("rx")] == [("p1", "A", 2, 12.5), ("p2", "B", 1, 4.0),
                                               ("p3", "C", 0, 0.0)]
        with pytest.raises(Exception, match="without a string _id"):
            hub.post("rx", [{"_id": "p8", "name": "x"}, {"_id": 5}, {"_id": "p9"}])
        assert [e["_id"] for e in hub.output("rx")] == ["p1", "p2", "p3"]
