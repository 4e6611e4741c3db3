"""Writes the configuration the SIGKILL test runs: a receiver filled once, then a chain of two
dataset-to-dataset pipes with small batches (many commits to be killed between)."""

import json
import os
import sys


def write(root, n):
    os.makedirs(os.path.join(root, "pipes"), exist_ok=True)
    pipes = [
        {"_id": "src", "type": "pipe", "source": {"type": "dataset", "dataset": "raw"},
         "batch_size": 50,
         "transform": {"type": "dtl", "rules": {"default": [
             ["copy", "*"], ["add", "double", ["multiply", 2, "_S.n"]]]}}},
        {"_id": "dst", "type": "pipe", "source": {"type": "dataset", "dataset": "src"},
         "batch_size": 70,
         "transform": {"type": "dtl", "rules": {"default": [
             ["copy", "_id"], ["add", "sum", ["plus", "_S.n", "_S.double"]],
             ["add", "tag", ["concat", "t-", ["string", "_S.n"]]]]}}},
    ]
    for p in pipes:
        with open(os.path.join(root, "pipes", p["_id"] + ".conf.json"), "w") as f:
            json.dump(p, f)


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]))
