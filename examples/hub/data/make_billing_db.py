#!/usr/bin/env python3
"""Regenerates data/billing.sqlite, the example's "billing system" (an SQLite database)."""
import os
import sqlite3

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "billing.sqlite")
if os.path.exists(path):
    os.remove(path)
con = sqlite3.connect(path)
con.executescript("""
CREATE TABLE invoice (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    amount DECIMAL TEXT NOT NULL,
    issued TIMESTAMP NOT NULL,
    paid BOOLEAN NOT NULL
);
INSERT INTO invoice VALUES
    (1, 'c-100', '120.50', '2026-10-01 09:00:00', 1),
    (2, 'c-100', '79.50', '2026-11-01 09:00:00', 0),
    (3, 'c-200', '45.00', '2026-11-03 12:30:00', 0);
""")
con.commit()
con.close()
