#!/usr/bin/env bash
# Idempotent set-up on Debian 12 as root: apt packages, then a virtualenv in .venv.
# Sourced by scripts/pilot.sh and scripts/test.sh; safe to run again at any time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

APT_PACKAGES=(softhsm2 opensc xmlsec1 openssl postgresql python3-venv python3-dev gcc chromium
  # printable documents (issue 16): WeasyPrint's Pango, a Persian font (Noto Naskh Arabic), and the
  # tools the tests read the PDFs and QR codes with
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core poppler-utils zbar-tools)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

py=""
for cand in python3.11 python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(0 if sys.version_info[:2]==(3,11) else 1)'; then
    py="$cand"; break
  fi
done
[[ -n $py ]] || { echo "[setup] Python 3.11 is required" >&2; exit 1; }

stamp=".venv/.eproc-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ ! -x .venv/bin/python || ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  echo "[setup] creating .venv and installing the project (pip install -e '.[dev]')" >&2
  [[ -x .venv/bin/python ]] || "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
# Prefect keeps its local state under the checkout, never in the user's home.
export PREFECT_HOME="${PREFECT_HOME:-$root/.prefect}"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export DO_NOT_TRACK=1
