"""A small bounded version of bench/service_load.py: concurrent receivers and publisher readers
on 127.0.0.1; nothing lost or duplicated."""

from bench.service_load import run


def test_concurrent_post_and_pull_lose_nothing():
    res = run(entities=6000, posters=3, readers=2, batch=250, limit_s=90, fsync=False)
    assert res["errors"] == []
    assert res["stored"] == res["stored_versions"] == 6000
    assert res["readers_exact"] == [True, True]
