#!/usr/bin/env bash
# The pytest suite on SQLite and on PostgreSQL side by side, one pass per core, so CI's wall
# time is the longer pass, not their sum. Each pass writes its own log; both are printed when
# both have finished (SQLite first), and the exit status is the first failing pass's.
# Extra arguments go to both pytest runs (e.g. a test path or -k expression).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
logs=$(mktemp -d)
# some backend-independent files run on the PostgreSQL pass only (tests/conftest.py)
export FIREGRID_TEST_SPLIT=1
trap 'kill 0 2>/dev/null' INT TERM

# --durations: each pass lists its slowest tests, to keep the two passes balanced
FIREGRID_TEST_DB=sqlite "$BIN/python" -m pytest -q --durations=15 "$@" >"$logs/sqlite.log" 2>&1 &
sqlite_pid=$!
# the second pass keeps no cache so the two never write the same cache files
FIREGRID_TEST_DB=postgres "$BIN/python" -m pytest -q -p no:cacheprovider --durations=15 "$@" \
  >"$logs/postgres.log" 2>&1 &
postgres_pid=$!

wait "$sqlite_pid"; sqlite_rc=$?
wait "$postgres_pid"; postgres_rc=$?

echo "=== pytest on SQLite: exit $sqlite_rc ==="
cat "$logs/sqlite.log"
echo "=== pytest on PostgreSQL: exit $postgres_rc ==="
cat "$logs/postgres.log"
rm -rf "$logs"
if [ "$sqlite_rc" -ne 0 ]; then exit "$sqlite_rc"; fi
exit "$postgres_rc"
