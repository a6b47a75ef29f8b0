#!/usr/bin/env bash
# The whole test suite: set up if needed, start a private PostgreSQL 15 cluster on 127.0.0.1,
# run pytest (store tests run on SQLite and PostgreSQL), stop the cluster. Extra args go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
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

set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
# pytest exit 5 means "no tests collected": that is a failure of the suite, not a pass.
exit $rc
