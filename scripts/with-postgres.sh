#!/usr/bin/env bash
# Run a command with a private PostgreSQL 15 cluster on 127.0.0.1 (initdb/pg_ctl as the postgres
# user in a temporary directory), exported as EPROC_TEST_PG_URL; the cluster stops afterwards.
set -euo pipefail
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[[ -x $pgbin/initdb ]] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
pgdir="$(mktemp -d /tmp/eproc-pg.XXXXXX)"
pgport="${EPROC_TEST_PG_PORT:-54329}"
chown postgres:postgres "$pgdir"
chmod 700 "$pgdir"
as_pg() { runuser -u postgres -- "$@"; }
stop_pg() {
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap stop_pg EXIT
as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $pgport -k $pgdir -c fsync=off -c max_connections=200" start >/dev/null
export EPROC_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$pgport/postgres"
export EPROC_TEST_PG_BIN="$pgbin" EPROC_TEST_PG_DATA="$pgdir/data" EPROC_TEST_PG_LOG="$pgdir/log"
"$@"
