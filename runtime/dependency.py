"""Dependency tracking (pipes-and-pumps.md §9); filled in below."""

from __future__ import annotations


def tracker_for(hub, pipe):
    return None
