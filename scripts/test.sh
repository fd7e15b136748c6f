#!/usr/bin/env bash
# `make test`: install the system packages the tests need, then run the whole suite twice:
#   1. on SQLite, browser tests included;
#   2. on a throw-away PostgreSQL cluster (scripts/pg-throwaway.sh), browser tests left out;
#      the multiprocess test (two app processes, one PostgreSQL, one Redis) runs here.
# Both runs always happen; the exit status is non-zero if either failed.
# Extra arguments go to both pytest runs: `bash scripts/test.sh -x -k people`.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${VENV:-.venv}/bin/python
if [ ! -x "$PYTHON" ]; then
  echo "$PYTHON is missing: run \`make install-test\` first (\`make test\` does)." >&2
  exit 1
fi
# Under `make test` a missing Chromium or redis-server is a failure, not a skip.
export PINWHEEL_REQUIRE_TOOLS=1
unset DATABASE_URL REDIS_URL PINWHEEL_CONFIG SIGNIN_RATE_LIMIT

bash scripts/install-system-deps.sh || exit 1

echo "=== Test suite on SQLite (with browser tests) ==="
"$PYTHON" -m pytest "$@"
sqlite_status=$?

echo
if [ $sqlite_status -ne 0 ]; then
  echo "*** The SQLite run failed (exit $sqlite_status); running on PostgreSQL anyway. ***"
fi
echo "=== Test suite on PostgreSQL (without browser tests) ==="
bash scripts/pg-throwaway.sh "$PYTHON" -m pytest -m "not browser" "$@"
pg_status=$?

if [ $sqlite_status -ne 0 ] || [ $pg_status -ne 0 ]; then
  exit 1
fi
