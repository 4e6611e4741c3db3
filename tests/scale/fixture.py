"""A small configuration of our own for the executor's tests: an inbound json pipe and an
embedded one, then dataset pipes that run by shard (a plain one, a hops join on a non-_id key
with dependency tracking, a filter that deletes) and ones that cannot (a changed `_id`, a merge
source)."""

from __future__ import annotations

import json
import os


def people(n, gen=0):
    out = []
    for i in range(n):
        if gen and i % 7 == 0:
            continue                     # removed in generation 1: deletion tracking
        out.append({"_id": f"p-{i}", "name": f"person {i}" + (" v2" if gen and i % 5 == 0
                                                              else ""),
                    "email": f"p{i}@example.org", "city": f"c-{i % 13}",
                    "score": (i * 37) % 100})
    return out


def orders(n, gen=0):
    return [{"_id": f"o-{i}", "person": f"p-{(i * 7) % (n + 5)}",
             "amount": float((i * 13) % 50) + (0.5 if gen and i % 11 == 0 else 0.0)}
            for i in range(2 * n)]


def cities(gen=0):
    return [{"_id": f"c-{j}", "city_id": f"c-{j}",
             "name": f"city {j}" + (" renamed" if gen and j == 3 else "")} for j in range(13)]


PIPES = [
    {"_id": "people", "type": "pipe",
     "source": {"type": "json", "system": "files", "url": "people.json"}},
    {"_id": "cities", "type": "pipe",
     "source": {"type": "json", "system": "files", "url": "cities.json"}},
    {"_id": "orders", "type": "pipe",
     "source": {"type": "json", "system": "files", "url": "orders.json"}},
    {"_id": "people-orders", "type": "pipe",          # a columnar hops join (T3's rule)
     "source": {"type": "dataset", "dataset": "people"},
     "transform": {"type": "dtl", "rules": {"default": [
         ["copy", "_id"], ["add", "name", "_S.name"],
         ["add", "_orders", ["hops", {"datasets": ["orders o"],
                                      "where": ["eq", "_S._id", "o.person"]}]],
         ["add", "order_count", ["count", "_T._orders"]],
         ["add", "order_total", ["plus", 0.0, ["sum", "_T._orders.amount"]]],
         ["remove", "_orders"]]}}},
    {"_id": "contacts", "type": "pipe",
     "source": {"type": "embedded", "entities": [
         {"_id": f"k-{i}", "mail": f"p{i * 3}@example.org", "phone": f"555-{i}"}
         for i in range(40)]}},
    {"_id": "people-simple", "type": "pipe",
     "source": {"type": "dataset", "dataset": "people"},
     "transform": {"type": "dtl", "rules": {"default": [   # a columnar rule
         ["copy", "_id"], ["add", "name", "_S.name"], ["add", "score", "_S.score"],
         ["add", "shout", ["upper", "_S.name"]], ["add", "double", ["*", 2, "_S.score"]]]}}},
    {"_id": "people-join", "type": "pipe",
     "source": {"type": "dataset", "dataset": "people"},
     "transform": {"type": "dtl", "rules": {"default": [
         ["copy", "_id"], ["add", "name", "_S.name"],
         ["add", "city_name", ["first", ["hops", {
             "datasets": ["cities c"], "where": ["eq", "_S.city", "c.city_id"],
             "return": "c.name"}]]]]}}},
    {"_id": "people-high", "type": "pipe",
     "source": {"type": "dataset", "dataset": "people-simple"},
     "transform": {"type": "dtl", "rules": {"default": [
         ["filter", ["gt", "_S.score", 50]], ["copy", "*"]]}}},
    {"_id": "people-rekey", "type": "pipe",
     "source": {"type": "dataset", "dataset": "people"},
     "transform": {"type": "dtl", "rules": {"default": [
         ["add", "_id", ["concat", "x-", "_S._id"]], ["add", "of", "_S._id"]]}}},
    {"_id": "people-contact", "type": "pipe",
     "source": {"type": "merge", "version": 2,
                "datasets": ["people p", "contacts k"],
                "equality": [["eq", "p.email", "k.mail"]], "identity": "first"}},
]


def write(root, n=600, gen=0):
    """The configuration in `root` (generation 1: some people changed or removed, a city
    renamed)."""
    os.makedirs(os.path.join(root, "pipes"), exist_ok=True)
    os.makedirs(os.path.join(root, "systems"), exist_ok=True)
    os.makedirs(os.path.join(root, "data"), exist_ok=True)
    with open(os.path.join(root, "systems", "files.conf.json"), "w") as f:
        json.dump({"_id": "files", "type": "system:url", "url_pattern": "file:data/%s"}, f)
    for p in PIPES:
        with open(os.path.join(root, "pipes", f"{p['_id']}.conf.json"), "w") as f:
            json.dump(p, f, indent=1)
    with open(os.path.join(root, "data", "people.json"), "w") as f:
        json.dump(people(n, gen), f)
    with open(os.path.join(root, "data", "orders.json"), "w") as f:
        json.dump(orders(n, gen), f)
    with open(os.path.join(root, "data", "cities.json"), "w") as f:
        json.dump(cities(gen), f)
    return root
