#!/usr/bin/env bash
# Every benchmark, each printing its figures next to a baseline measured in the same run.
# Starts its own PostgreSQL like the test command does, so figures cover both databases (bench_burst.py:
# SQLite here, to stay within ~3 minutes; its PostgreSQL run is `--database postgresql` under
# scripts/with-postgres.sh). bench_sitting.py runs the issue-12 sitting (5 member processes, each with its
# own token directory and PIN) at 200 bids x 1 MB (~40-75 s); bench_orchestration.py brings the stack up
# twice (~3 min, ~7 min on a loaded machine).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
exec bash scripts/with-postgres.sh bash -c '
  for b in bench/bench_*.py; do echo "== $b"; .venv/bin/python "$b"; done'
