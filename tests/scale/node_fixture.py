"""A small invented Sesam node for the executor's tests, shaped like real node repositories:
namespaced identifiers, inbound embedded pipes, a `merge` source over two of them, a global
pipe over the merge output with a hops join on `$ids`, downstream pipes with `apply-hops`
(dependency tracking through a namespaced reference), a filter, a pipe that changes `_id`
one-to-one and an inverse join (a department counting its people). Generation 1 changes,
removes and renames things on every side."""

from __future__ import annotations

import json
import os

N = 240        # employees: enough that every shard of 2 or 4 holds some of everything


def employees(gen):
    out = []
    for i in range(N):
        if gen and i % 9 == 0:
            continue                              # removed
        status = "quit" if (i % 6 == 0 or (gen and i % 10 == 1)) else "active"
        out.append({"_id": f"e{i}", "name": f"Employee {i}", "email": f"e{i}@example.org",
                    "dept": f"d{(i + (gen and i % 4 == 0)) % 7}", "status": status})
    return out


def contacts(gen):
    return [{"_id": f"c{i}", "mail": f"e{i * 2}@example.org",
             "phone": f"555-{i}" + ("-new" if gen and i % 5 == 0 else "")}
            for i in range(N // 2) if not (gen and i % 11 == 3)]


def depts(gen):
    return [{"_id": f"d{j}", "code": f"d{j}", "title": f"Dept {j}" + (" (renamed)" if gen and j == 2 else "")}
            for j in range(7)]


def skills(gen):
    return [{"_id": f"s{k}", "employee": f"e{(k * 7) % N}", "skill": f"skill {k % 13}",
             "level": (k % 5) + (1 if gen and k % 8 == 0 else 0)} for k in range(2 * N)]


def pipes(gen):
    def embedded(pid, ents, rules=None):
        p = {"_id": pid, "type": "pipe", "source": {"type": "embedded", "entities": ents}}
        if rules:
            p["transform"] = {"type": "dtl", "rules": {"default": [["copy", "*"]] + rules}}
        return p

    def dtl(pid, source, default, **extra):
        return {"_id": pid, "type": "pipe", "source": {"type": "dataset", "dataset": source},
                "transform": {"type": "dtl", "rules": {"default": default, **extra}}}

    return [
        embedded("hr-employee", employees(gen),
                 [["add", "dept-ni", ["ni", "hr-dept", "_S.hr-employee:dept"]]]),
        embedded("crm-contact", contacts(gen)),
        embedded("hr-dept", depts(gen)),
        embedded("hr-skill", skills(gen),
                 [["add", "employee-ni", ["ni", "hr-employee", "_S.hr-skill:employee"]]]),
        {"_id": "merge-person", "type": "pipe",
         "source": {"type": "merge", "version": 2, "datasets": ["hr-employee h", "crm-contact c"],
                    "equality": [["eq", "h.hr-employee:email", "c.crm-contact:mail"]],
                    "identity": "first"}},
        dtl("global-person", "merge-person", [
            ["copy", "*"],
            ["add", "name", ["coalesce", ["list", "_S.hr-employee:name", "_S.crm-contact:mail"]]],
            ["add", "dept-title", ["first", ["hops", {
                "datasets": ["hr-dept d"], "where": ["eq", "_S.hr-employee:dept", "d.hr-dept:code"],
                "return": "d.hr-dept:title"}]]]]),
        dtl("person-skills", "global-person", [
            ["filter", ["eq", "_S.hr-employee:status", "active"]],
            ["add", "name", "_S.global-person:name"],
            ["add", "skills", ["apply-hops", "skill", {
                "datasets": ["hr-skill s"], "where": ["eq", "_S.$ids", "s.hr-skill:employee-ni"]}]],
            ["add", "top", ["max", "_T.skills.level"]]],
            skill=[["add", "skill", "_S.hr-skill:skill"], ["add", "level", "_S.hr-skill:level"]]),
        dtl("person-export", "global-person", [
            ["add", "_id", ["concat", "export-", "_S._id"]],
            ["add", "of", "_S._id"], ["add", "title", "_S.global-person:dept-title"]]),
        dtl("dept-headcount", "hr-dept", [
            ["copy", "_id"], ["add", "title", "_S.hr-dept:title"],
            ["add", "people", ["count", ["hops", {
                "datasets": ["hr-employee e"], "where": ["eq", "_S.hr-dept:code", "e.hr-employee:dept"]}]]]]),
    ]


def write(root, gen=0):
    """The node folder in `root` (generation 1: changes on every side)."""
    os.makedirs(os.path.join(root, "pipes"), exist_ok=True)
    with open(os.path.join(root, "node-metadata.conf.json"), "w") as f:
        json.dump({"_id": "node", "type": "metadata", "namespaced_identifiers": True}, f)
    for p in pipes(gen):
        with open(os.path.join(root, "pipes", f"{p['_id']}.conf.json"), "w") as f:
            json.dump(p, f, indent=1)
    return root
