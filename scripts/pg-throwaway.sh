#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL cluster:
#
#   scripts/pg-throwaway.sh COMMAND [ARG...]
#
# Creates a cluster in a temporary directory (trust authentication, 127.0.0.1 only, on a free
# port), creates the database `pinwheel_test`, runs COMMAND with DATABASE_URL pointing at it,
# then stops the cluster and removes the directory, whether COMMAND passed, failed or was
# interrupted. Exits with COMMAND's status. As root, the server runs as the `postgres` user.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

find_pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then
    echo "$PG_BIN"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
  elif command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  else
    return 1
  fi
}

PG_BIN=$(find_pg_bin) || {
  echo "PostgreSQL server binaries not found (install the postgresql package)" >&2
  exit 1
}

# initdb refuses to run as root: run the server as `postgres` (or a dedicated user).
if [ "$(id -u)" -eq 0 ]; then
  PG_OS_USER=${PG_OS_USER:-postgres}
  if ! id "$PG_OS_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER"
  fi
  as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }
else
  as_pg() { "$@"; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pinwheel-pg.XXXXXX")
DATA="$WORK/data"
started=""

cleanup() {
  if [ -n "$started" ]; then
    (cd "$WORK" && as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop) >/dev/null 2>&1 \
      || (cd "$WORK" && as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate stop) >/dev/null 2>&1 \
      || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(id -u)" -eq 0 ]; then
  chown "$PG_OS_USER" "$WORK"
fi
CALLER_DIR=$PWD
cd "$WORK"   # the server user may not be allowed into the caller's directory

if ! as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --no-locale --no-sync \
    >"$WORK/initdb.log" 2>&1; then
  cat "$WORK/initdb.log" >&2
  exit 1
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Throw-away data: durability settings off for speed.
SERVER_OPTIONS="-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
SERVER_OPTIONS="$SERVER_OPTIONS -c full_page_writes=off -c max_connections=200"
# A free port can be taken between choosing it and binding it: try a few.
for _attempt in 1 2 3 4 5; do
  PORT=$(free_port)
  if as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w -t 60 \
      -o "-p $PORT -k $WORK $SERVER_OPTIONS" start >/dev/null 2>&1; then
    started=1
    break
  fi
done
if [ -z "$started" ]; then
  echo "PostgreSQL did not start; its log:" >&2
  cat "$WORK/server.log" >&2 || true
  exit 1
fi

"$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres pinwheel_test
cd "$CALLER_DIR"

export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/pinwheel_test"
VERSION=$("$PG_BIN/postgres" --version | awk '{print $3}')
echo "Throw-away PostgreSQL $VERSION on 127.0.0.1:$PORT, data in $WORK"
set +e
"$@"
status=$?
set -e
exit $status
