"""sql source and sink against real SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest

from tests.runtime.connectors.conftest import events, hub_for

BIG = 123456789012345678901234567890          # beyond 64 bits
TYPES = {  # column types per database: id, big integer, decimal, timestamp with zone, text, bytes
    "sqlite": ("INTEGER", "DECIMAL TEXT", "DECIMAL TEXT", "TIMESTAMP", "TEXT", "BLOB"),
    "postgresql": ("INTEGER", "NUMERIC(40,0)", "NUMERIC(30,10)", "TIMESTAMPTZ", "TEXT", "BYTEA"),
    "mysql": ("INTEGER", "DECIMAL(40,0)", "DECIMAL(30,10)", "DATETIME(6)", "TEXT", "LONGBLOB"),
}
OSLO = dt.timezone(dt.timedelta(hours=2))


def _create(db, name):
    t = TYPES[db.kind]
    db.run(f"CREATE TABLE {db.q(name)} (id {t[0]} NOT NULL PRIMARY KEY, big {t[1]}, "
           f"amount {t[2]}, ts {t[3]}, name {t[4]}, data {t[5]}, note {t[4]})")


def _rows():
    ts = dt.datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=OSLO)
    return [
        (1, BIG, Decimal("12345678901234567890.1234567890"), ts, "Ærlig 😀 ñ", b"\x00\xffbin",
         None),
        (2, -BIG, Decimal("-0.0000000001"), ts + dt.timedelta(days=400), "plain", b"", "x"),
        (3, None, None, None, None, None, None),
    ]


def _insert(db, name, rows):
    ph = ", ".join(["?" if db.kind == "sqlite" else "%s"] * 7)
    conv = []
    for r in rows:
        r = list(r)
        if db.kind == "sqlite":
            r[1] = None if r[1] is None else str(r[1])
            r[2] = None if r[2] is None else str(r[2])
            r[3] = None if r[3] is None else r[3].isoformat()
        elif db.kind == "mysql" and r[3] is not None:
            r[3] = r[3].astimezone(dt.timezone.utc).replace(tzinfo=None)
        conv.append(tuple(r))
    db.run((f"INSERT INTO {db.q(name)} VALUES ({ph})", conv))


def _norm(db, rows):
    out = []
    for r in rows:
        r = list(r)
        ts = r[3]
        if isinstance(ts, str):
            ts = dt.datetime.fromisoformat(ts)
        if isinstance(ts, dt.datetime):
            ts = ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)
            r[3] = ts.astimezone(dt.timezone.utc)
        for i in (1, 2):
            if r[i] is not None:
                r[i] = Decimal(str(r[i]))
        r[5] = None if r[5] is None else bytes(r[5])
        out.append(tuple(r))
    return sorted(out, key=lambda x: x[0])


def _systems(db):
    return [{"_id": "db", **db.system}]


def test_round_trip_per_type(db, tmp_path):
    src, dst = db.table("src"), db.table("dst")
    _create(db, src)
    _create(db, dst)
    _insert(db, src, _rows())
    pipes = [
        {"_id": "in", "type": "pipe", "source": {"type": "sql", "system": "db", "table": src}},
        {"_id": "out", "type": "pipe", "source": {"type": "dataset", "dataset": "in"},
         "sink": {"type": "sql", "system": "db", "table": dst}},
    ]
    with hub_for(tmp_path, _systems(db), pipes) as hub:
        s = hub.run()
        assert s.ok, [(p.pipe, p.reason) for p in s.pipes.values()]
        ents = {e["_id"]: e for e in hub.output("in")}
        assert set(ents) == {"1", "2", "3"}
        assert ents["1"]["amount"] == Decimal("12345678901234567890.1234567890")
        assert isinstance(ents["1"]["amount"], Decimal)
        assert ents["1"]["big"] == BIG
        assert ents["1"]["ts"].isoformat().startswith("2024-03-01T10:30:15.123456")
        assert ents["1"]["data"] == b"\x00\xffbin" and ents["1"]["name"] == "Ærlig 😀 ñ"
        assert "note" not in ents["1"] and ents["3"] == {"_id": "3", "id": 3}
    cols = "id, big, amount, ts, name, data, note"
    assert _norm(db, db.rows(f"SELECT {cols} FROM {db.q(dst)}")) == \
        _norm(db, db.rows(f"SELECT {cols} FROM {db.q(src)}"))


def test_since_compound_key_and_query(sqlite_db, tmp_path):
    db = sqlite_db
    t = db.table()
    db.run(f"CREATE TABLE {t} (a TEXT, b INTEGER, v TEXT, upd INTEGER, PRIMARY KEY (a, b))",
           (f"INSERT INTO {t} VALUES (?, ?, ?, ?)", [("x", 1, "one", 1), ("x", 2, "two", 2)]))
    pipes = [{"_id": "p", "type": "pipe", "source": {"type": "sql", "system": "db", "table": t,
                                                      "updated_column": "upd"}},
             {"_id": "q", "type": "pipe", "source": {
                 "type": "sql", "system": "db", "query": [f"SELECT * FROM {t}"],
                 "primary_key": ["a", "b"], "updated_column": "upd",
                 "updated_query": f"SELECT * FROM {t} WHERE upd >= :since"}}]
    with hub_for(tmp_path, _systems(db), pipes) as hub:
        r = hub.run(until_stable=False)
        assert r["p"].read == 2 and r["q"].read == 2
        assert [e["_id"] for e in hub.output("p")] == ["x:1", "x:2"]
        db.run(f"INSERT INTO {t} VALUES ('y', 1, 'three', 3)")
        r = hub.run(until_stable=False)
        assert r["p"].read == 2 and r["q"].read == 2      # since >= 2: the last row and the new
        assert [e["_id"] for e in hub.output("q")] == ["x:1", "x:2", "y:1"]


def test_sink_creates_table_upserts_and_deletes(db, tmp_path):
    t = db.table("made")
    ents = [{"_id": "a", "n": 1, "price": "~f10.50", "when": "~t2020-01-02T03:04:05Z",
             "tags": ["x"]},
            {"_id": "b", "n": 2, "price": "~f0.25", "when": "~t2021-01-02T03:04:05Z"}]
    pipe = {"_id": "w", "type": "pipe", "source": {"type": "embedded", "entities": ents},
            "sink": {"type": "sql", "system": "db", "table": t,
                     "create_table_if_missing": True}}
    with hub_for(tmp_path, _systems(db), [pipe]) as hub:
        assert hub.run(until_stable=False).ok
    assert sorted(db.rows(f"SELECT id, n FROM {db.q(t)}")) == [("a", 1), ("b", 2)]
    ents[0]["n"] = 5
    ents[1]["_deleted"] = True
    with hub_for(tmp_path, _systems(db), [pipe]) as hub:
        assert hub.run(until_stable=False).ok
    assert db.rows(f"SELECT id, n FROM {db.q(t)}") == [("a", 5)]


def test_bad_rows_are_logged_and_the_rest_written(db, tmp_path):
    t = db.table("strict")
    db.run(f"CREATE TABLE {db.q(t)} (id VARCHAR(20) NOT NULL PRIMARY KEY, n INTEGER NOT NULL"
           + (", CHECK (n >= 0)" if db.kind != "mysql" else "") + ")")
    ents = [{"_id": f"e{i}", "n": i} for i in range(10)]
    ents[3]["n"] = None                      # NOT NULL
    ents[7]["n"] = 2 ** 40                   # out of range for INTEGER (sqlite: fits)
    pipe = {"_id": "w", "type": "pipe", "source": {"type": "embedded", "entities": ents},
            "sink": {"type": "sql", "system": "db", "table": t}}
    with hub_for(tmp_path, _systems(db), [pipe]) as hub:
        r = hub.run(until_stable=False)
        assert r.ok
        bad = {e["entity"]["_id"] for e in events(hub, "w", "write-error")}
    assert "e3" in bad and "e0" not in bad
    got = {r[0] for r in db.rows(f"SELECT id FROM {db.q(t)}")}
    assert got == {f"e{i}" for i in range(10)} - bad


def test_failed_batch_leaves_table_and_since_unmoved(pg, tmp_path):
    db = pg
    src, dst = db.table("src"), db.table("dst")
    db.run(f"CREATE TABLE {src} (id INTEGER PRIMARY KEY, upd INTEGER)",
           f"INSERT INTO {src} SELECT g, g FROM generate_series(1, 50) g",
           f"CREATE TABLE {dst} (id INTEGER PRIMARY KEY, upd INTEGER)",
           f"""CREATE FUNCTION {dst}_f() RETURNS trigger AS $$ BEGIN
               IF NEW.id = 150 THEN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001';
               END IF; RETURN NEW; END $$ LANGUAGE plpgsql""",
           f"CREATE TRIGGER {dst}_t BEFORE INSERT ON {dst} FOR EACH ROW EXECUTE FUNCTION {dst}_f()")
    pipe = {"_id": "p", "type": "pipe", "batch_size": 100,
            "source": {"type": "sql", "system": "db", "table": src, "updated_column": "upd"},
            "sink": {"type": "sql", "system": "db", "table": dst},
            "pump": {"batch_retries": 1, "write_retry_delay": 0.01}}
    try:
        with hub_for(tmp_path, _systems(db), [pipe]) as hub:
            assert hub.run(until_stable=False).ok                # full run: since 50
            db.run(f"INSERT INTO {src} SELECT g, g FROM generate_series(51, 250) g")
            r = hub.run(until_stable=False)                      # rows 50..149, then 150 fails
            assert not r.ok and "after 1 retries" in r["p"].reason
            assert db.rows(f"SELECT count(*), max(id) FROM {dst}") == [(149, 149)]
            assert hub.pump("p").load_state()["since"] == 149
            assert len(events(hub, "p", "write-retry")) == 1
            db.run(f"DROP TRIGGER {dst}_t ON {dst}")
            r = hub.run(until_stable=False)
            assert r.ok and r["p"].read == 102          # resumed at since >= 149
        assert db.rows(f"SELECT count(*), max(id) FROM {dst}") == [(250, 250)]
    finally:
        db.run(f"DROP TABLE IF EXISTS {dst}", f"DROP FUNCTION IF EXISTS {dst}_f()")


def _killer(db, table, stop):
    """Kill the backend that is inserting into `table` while the trigger sleeps in it (once).
    Matching any active INSERT raced: a fast batch could finish between the lookup and the
    kill, and the pool then replaced the dead idle connection without a write retry."""
    if db.kind == "postgresql":
        find = ("SELECT pid FROM pg_stat_activity WHERE state = 'active' AND "
                f"position('{table}' in query) > 0 AND query LIKE 'INSERT%%' "
                "AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()")
    else:
        find = ("SELECT id FROM information_schema.processlist WHERE "
                f"locate('{table}', info) > 0 AND state = 'User sleep' "
                "AND id <> connection_id()")
    while not stop.is_set():
        ids = db.rows(find)
        if ids:
            db.run(f"SELECT pg_terminate_backend({ids[0][0]})" if db.kind == "postgresql"
                   else f"KILL {ids[0][0]}")
            return
        time.sleep(0.02)


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_connection_killed_mid_batch(kind, request, tmp_path):
    db = request.getfixturevalue("pg" if kind == "postgresql" else "maria")
    t = db.table("victim")
    if kind == "postgresql":
        db.run(f"CREATE TABLE {t} (id TEXT PRIMARY KEY, n INTEGER)",
               f"""CREATE FUNCTION {t}_f() RETURNS trigger AS $$ BEGIN
                   IF NEW.id = 'e150' THEN PERFORM pg_sleep(1.5); END IF;
                   RETURN NEW; END $$ LANGUAGE plpgsql""",
               f"CREATE TRIGGER {t}_t BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION {t}_f()")
    else:
        db.run(f"CREATE TABLE {t} (id VARCHAR(20) PRIMARY KEY, n INTEGER)",
               f"CREATE TRIGGER {t}_t BEFORE INSERT ON {t} FOR EACH ROW "
               f"BEGIN IF NEW.id = 'e150' THEN SET @{t} = SLEEP(1.5); END IF; END")
    ents = [{"_id": f"e{i}", "n": i} for i in range(300)]
    pipe = {"_id": "p", "type": "pipe", "batch_size": 100,
            "source": {"type": "embedded", "entities": ents},
            "sink": {"type": "sql", "system": "db", "table": t},
            "pump": {"batch_retries": 3, "write_retry_delay": 0.05}}
    stop = threading.Event()
    killer = threading.Thread(target=_killer, args=(db, t, stop))
    killer.start()
    try:
        with hub_for(tmp_path, [{"_id": "db", **db.system}], [pipe]) as hub:
            r = hub.run(until_stable=False)
            retries = events(hub, "p", "write-retry")
        rows = db.rows(f"SELECT count(*), count(DISTINCT id), sum(n) FROM {t}")
    finally:
        stop.set()
        killer.join()
        if kind == "postgresql":
            db.run(f"DROP TABLE IF EXISTS {t}", f"DROP FUNCTION IF EXISTS {t}_f()")
    assert r.ok, r.as_dict()
    assert retries and "rolled back" in retries[0]["message"]
    assert [tuple(int(x) for x in r) for r in rows] == [(300, 300, sum(range(300)))]
