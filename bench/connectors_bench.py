"""sql source and sink throughput on PostgreSQL (127.0.0.1:5432, database `test`) against
plain psycopg baselines in the same run: COPY TO / a server-side cursor for reading, COPY FROM /
executemany for writing. Usage: python bench/connectors_bench.py [N]"""

import os
import resource
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import psycopg  # noqa: E402

from runtime.config.model import FrozenDict  # noqa: E402
from runtime.sinks.sql import SqlSink  # noqa: E402
from runtime.sources.sql import SqlSource  # noqa: E402
from runtime.systems.sql import SqlSystem  # noqa: E402

DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
SRC, DST, BASE = "bench_conn_src", "bench_conn_dst", "bench_conn_base"
COLS = "id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(12,2), ts TIMESTAMPTZ"


def rate(n, secs):
    return f"{n / secs:,.0f} entities/s ({secs:.2f} s)"


def main(n=1_000_000):
    with psycopg.connect(DSN, autocommit=True) as c:
        for t in (SRC, DST, BASE):
            c.execute(f"DROP TABLE IF EXISTS {t}")
            c.execute(f"CREATE TABLE {t} ({COLS})")
        c.execute(f"INSERT INTO {SRC} SELECT g, 'name ' || g, g / 100.0, "
                  f"timestamptz '2020-01-01' + g * interval '1 second' "
                  f"FROM generate_series(1, {n}) g")
        c.execute(f"VACUUM ANALYZE {SRC}")
    sysdef = FrozenDict({"host": "127.0.0.1", "port": 5432, "username": "postgres",
                         "password": "", "database": "test"})
    system = SqlSystem("pg", "postgresql", sysdef, ".")
    hub = types.SimpleNamespace(systems=types.SimpleNamespace(get=lambda _id: system))
    pipe = types.SimpleNamespace(pump=FrozenDict({}))
    out = {}

    # -- reading --------------------------------------------------------------------------
    t = time.perf_counter()
    with psycopg.connect(DSN) as c, c.cursor() as cur:
        rows = 0
        with cur.copy(f"COPY {SRC} TO STDOUT") as cp:
            for _ in cp.rows():
                rows += 1
    out["baseline COPY TO (rows as tuples)"] = rate(rows, time.perf_counter() - t)
    t = time.perf_counter()
    with psycopg.connect(DSN) as c, c.cursor(name="b") as cur:
        cur.itersize = 1000
        rows = sum(1 for _ in cur.execute(f"SELECT * FROM {SRC}"))
    out["baseline server-side cursor"] = rate(rows, time.perf_counter() - t)

    src = SqlSource(pipe, FrozenDict({"system": "pg", "table": SRC}), 1000, hub)
    t = time.perf_counter()
    batches = []
    got = 0
    for b in src.read(None):
        got += len(b.entities)
        if len(batches) < 1000:              # keep 1000 batches (≤1M) for the sink run
            batches.append(b.entities)
    out["sql source (table -> entities)"] = rate(got, time.perf_counter() - t)
    rss_src = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    # -- writing --------------------------------------------------------------------------
    tuples = [(e["id"], e["name"], e["amount"], e["ts"].to_datetime()) for b in batches
              for e in b]
    t = time.perf_counter()
    with psycopg.connect(DSN) as c, c.cursor() as cur:
        with cur.copy(f"COPY {BASE} FROM STDIN") as cp:
            for r in tuples:
                cp.write_row(r)
    out["baseline COPY FROM"] = rate(len(tuples), time.perf_counter() - t)
    with psycopg.connect(DSN, autocommit=True) as c:
        c.execute(f"TRUNCATE {BASE}")
    t = time.perf_counter()
    with psycopg.connect(DSN) as c, c.cursor() as cur:
        for i in range(0, len(tuples), 1000):
            cur.executemany(f"INSERT INTO {BASE} VALUES (%s, %s, %s, %s)", tuples[i:i + 1000])
            c.commit()
    out["baseline executemany INSERT (1000/txn)"] = rate(len(tuples), time.perf_counter() - t)
    del tuples

    sink = SqlSink(hub, pipe, FrozenDict({"system": "pg", "table": DST}))
    t = time.perf_counter()
    for b in batches:
        sink.write(b, {"runs": 1})
    out["sql sink (upsert, 1000/txn)"] = rate(sum(map(len, batches)), time.perf_counter() - t)
    t = time.perf_counter()
    for b in batches[:100]:
        sink.write(b, {"runs": 1})
    out["sql sink (upsert of existing rows, 100k)"] = rate(sum(map(len, batches[:100])),
                                                           time.perf_counter() - t)
    with psycopg.connect(DSN, autocommit=True) as c:
        assert c.execute(f"SELECT count(*) FROM {DST}").fetchone()[0] == n
        for tname in (SRC, DST, BASE):
            c.execute(f"DROP TABLE {tname}")
    system.close()
    print(f"N = {n:,}; PostgreSQL 15 server, libpq {psycopg.pq.version()}; psycopg {psycopg.__version__}")
    for k, v in out.items():
        print(f"| {k} | {v} |")
    print(f"max RSS after the source pass: {rss_src} MiB (whole process, batches kept for "
          "the sink run)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
