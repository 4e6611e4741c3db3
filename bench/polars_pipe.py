"""The Polars side of bench/pipe_vs_polars.py: the physical work a pipe does, written directly.

    python bench/polars_pipe.py T MODE DATA OUT [DELTA]

T is t1, t2 or t3 (the transforms of shared/bench/impls.py); MODE full or incremental.
full: read persons Parquet (and orders for t3) -> transform -> row hashes -> write the output
and an (_id, hash) file, fsync both. incremental: read DELTA (the changed persons) -> transform
(t3: joined with the orders of those persons) -> row hashes -> anti-join on the stored hashes ->
append the changed rows and their hashes as new files, fsync. Prints the seconds as JSON.
"""

import json
import os
import sys
import time


def _impls():
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (os.environ.get("DTL_SHARED_BENCH"), os.path.join(here, "..", "..", "shared", "bench"),
              "/work/shared/bench"):
        if d and os.path.isfile(os.path.join(d, "impls.py")):
            sys.path.insert(0, d)
            import impls
            return impls
    raise SystemExit("shared/bench/impls.py not found (set DTL_SHARED_BENCH)")


def _write(df, path):
    with open(path, "wb") as f:
        df.write_parquet(f)
        f.flush()
        os.fsync(f.fileno())


def _transform(impls, t, persons, orders_path):
    import polars as pl
    if t == "t1":
        return impls.pl_t1(persons)
    if t == "t2":
        return impls.pl_t2(persons)
    orders = pl.scan_parquet(orders_path)
    return impls.pl_t3(persons, orders)


def main(t, mode, data, out, delta=None):
    import polars as pl
    impls = _impls()
    t0 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    orders = os.path.join(data, "orders.parquet")
    if mode == "full":
        df = _transform(impls, t, pl.scan_parquet(os.path.join(data, "persons.parquet")),
                        orders).collect()
        h = df.hash_rows()
        _write(df, os.path.join(out, f"{t}.parquet"))
        _write(pl.DataFrame({"_id": df["_id"], "hash": h}), os.path.join(out, f"{t}-ids.parquet"))
    else:
        persons = pl.scan_parquet(delta)
        if t == "t3":   # only the orders of the changed persons take part
            ids = persons.select("_id").collect()["_id"]
            orders_lf = pl.scan_parquet(orders).filter(pl.col("person").is_in(ids.implode()))
            df = impls.pl_t3(persons, orders_lf).collect()
        else:
            df = _transform(impls, t, persons, orders).collect()
        df = df.with_columns(df.hash_rows().alias("__hash"))
        stored = pl.read_parquet(os.path.join(out, f"{t}-ids.parquet"))
        changed = df.join(stored, left_on=["_id", "__hash"], right_on=["_id", "hash"], how="anti")
        _write(changed.drop("__hash"), os.path.join(out, f"{t}-delta.parquet"))
        _write(changed.select("_id", pl.col("__hash").alias("hash")),
               os.path.join(out, f"{t}-ids-delta.parquet"))
        df = changed
    print(json.dumps({"seconds": time.perf_counter() - t0, "rows": df.height}))


if __name__ == "__main__":
    main(*sys.argv[1:])
