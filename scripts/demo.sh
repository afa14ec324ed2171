#!/usr/bin/env bash
# Installs emporion and the demo's Tryton ERP into .venv, then runs `emporion demo` (arguments pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh tryton
exec .venv/bin/emporion demo "$@"
