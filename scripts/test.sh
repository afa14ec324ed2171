#!/usr/bin/env bash
# Installs what the tests need (Python packages, PostgreSQL, MariaDB, OpenSSH, Debian's Chromium), starts the
# databases, then runs ruff, mypy (engine and connectors) and the tests.
# Extra arguments go to pytest (e.g. scripts/test.sh -k sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh tryton,test
EMPORION_TEST_PG_URL=${EMPORION_TEST_PG_URL:-$(scripts/postgres.sh | tail -n 1)}
EMPORION_TEST_MARIADB_URL=${EMPORION_TEST_MARIADB_URL:-$(scripts/mariadb.sh | tail -n 1)}
export EMPORION_TEST_MARIADB_URL
export EMPORION_TEST_PG_URL
# the file connector's SFTP tests start a private sshd (Debian's openssh-server)
scripts/sshd.sh >/dev/null
# the browser tests' Chromium, from Debian's packages (never a downloaded browser)
EMPORION_CHROMIUM=$(scripts/chromium.sh | tail -n 1)
export EMPORION_CHROMIUM
.venv/bin/ruff check src devkit tests bench
.venv/bin/mypy src/emporion/engine src/emporion/connectors
status=0
.venv/bin/python -m pytest "$@" || status=$?
# pytest's 5 means no test ran: that is a failure here, not a pass
exit "$status"
