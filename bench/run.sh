#!/usr/bin/env bash
# Every benchmark, each printing its figures next to a baseline measured in the same run.
# Starts its own PostgreSQL like the test command does, so figures cover both databases.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
exec bash scripts/with-postgres.sh bash -c '
  for b in bench/bench_*.py; do echo "== $b"; .venv/bin/python "$b"; done'
