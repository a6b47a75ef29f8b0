#!/usr/bin/env bash
# Lint and type checks, the project's habits (issue 9, part 7): ruff on the whole tree, mypy on every
# package of the engine (the benchmarks and tests are not type-checked).
# Configuration: pyproject.toml ([tool.ruff], [tool.mypy]); caches live in .venv. Both tools run
# every time; the exit status is non-zero when either finds something.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
status=0
echo "[lint] ruff check ." >&2
.venv/bin/ruff check --output-format concise . || status=1
echo "[lint] mypy domain services flows tasks api stations store signing sealing integrations pilot eproc config" >&2
.venv/bin/mypy domain services flows tasks api stations store signing sealing integrations pilot eproc config || status=1
exit "$status"
