#!/usr/bin/env bash
# The main job: set up if needed, then run a whole pilot tender on the embedded defaults
# (SQLite, Prefect local mode, SoftHSM tokens, simulated clock). Extra arguments go to `eproc pilot`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec .venv/bin/eproc pilot "$@"
