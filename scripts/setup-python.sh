#!/usr/bin/env bash
# Creates .venv (if missing) and installs emporion into it with the extras given as arguments, then the
# development kit (devkit/: `emporion demo`, `emporion sandbox`, `emporion tryton`, `emporion erp`).
# Usage: scripts/setup-python.sh tryton,test
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-tryton}
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv || {
        # Debian's python3 needs its venv package
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        "$python" -m venv .venv
    }
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[${extras}]"
# the development kit (sandbox shop, Tryton provisioning, demo): its own package, never in a production install
.venv/bin/python -m pip install -q -e ./devkit
