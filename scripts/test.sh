#!/usr/bin/env bash
# The whole test suite: set up if needed, lint and type-check (scripts/lint.sh, fails fast),
# start a private PostgreSQL cluster on 127.0.0.1, run pytest (store tests run on SQLite and
# PostgreSQL), stop the cluster. Extra args go to pytest.
# Two pytest-xdist workers: the stack tests mostly wait on servers while the rest use the CPU;
# `--dist loadgroup` keeps tests sharing a session-wide stack in one worker, and each module in one worker
# (tests/conftest.py); `--no-loadscope-reorder` sends the groups in the order tests/conftest.py gives
# them (the longest first), not by their number of tests.
# pytest's exit code is passed through: 5 ("no tests collected") fails like any other error.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
bash scripts/lint.sh
exec bash scripts/with-postgres.sh .venv/bin/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder "$@"
