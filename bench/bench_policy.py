"""Cost of following the stored alarm policy: the per-batch / per-request version check.

The correlator calls :func:`firegrid.alarms.policy_store.current` once per batch, the timer
loop once per pass and the API once per request that needs the policy. In steady state it
is one primary-key query (the newest version) and a cache hit; after an edit the document
is parsed once. This prints, in one run on the same database:

- the steady-state check (µs per call), next to the floor: a bare ``SELECT 1`` in the same
  kind of session;
- the first call after a new version (query + parse + validation of the document).

Usage::

    python bench/bench_policy.py [--db postgresql://...] [--calls 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from firegrid.accounts.principal import system_principal
from firegrid.alarms import policy_store
from firegrid.alarms.policy_doc import PolicyDocument
from firegrid.alarms.rules import default_document
from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.core.settings import normalise_database_url


def _per_call_us(db: Database, calls: int, work: Any) -> float:
    with db.session() as session:
        work(session)  # warm
        start = time.perf_counter()
        for _ in range(calls):
            work(session)
        return (time.perf_counter() - start) / calls * 1e6


def run(url: str, calls: int) -> dict[str, Any]:
    upgrade(url)
    db = Database(url)
    try:
        with db.session() as session:
            policy_store.current(session)  # seed version 1
        floor_us = _per_call_us(db, calls, lambda s: s.execute(text("SELECT 1")).scalar())
        check_us = _per_call_us(db, calls, policy_store.current)
        parses: list[float] = []
        data = PolicyDocument(*default_document()).as_data()
        for i in range(20):
            data["policy"]["fold_window_s"] = 100 + i
            with db.session() as session:
                policy_store.save(session, system_principal("bench"), data, cause="bench")
            with db.session() as session:
                start = time.perf_counter()
                policy_store.current(session)
                parses.append((time.perf_counter() - start) * 1e3)
        return {
            "backend": db.engine.dialect.name,
            "calls": calls,
            "select_1_us": round(floor_us, 1),
            "version_check_us": round(check_us, 1),
            "check_over_floor": round(check_us / floor_us, 2),
            "after_edit_ms_median": round(statistics.median(parses), 2),
        }
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = normalise_database_url(args.db) if args.db else f"sqlite:///{Path(tmp) / 'p.db'}"
        result = run(url, args.calls)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['backend']}: version check {result['version_check_us']} µs/call "
        f"(SELECT 1 floor {result['select_1_us']} µs, ×{result['check_over_floor']}); "
        f"first call after an edit {result['after_edit_ms_median']} ms (median of 20)"
    )


if __name__ == "__main__":
    main()
