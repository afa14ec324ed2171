#!/usr/bin/env bash
# Installs what the tests need (Python packages, PostgreSQL, MariaDB, OpenSSH, Debian's Chromium, the real
# Medusa and Vendure shops from npm), starts the databases, then runs ruff, mypy (engine and connectors)
# and the tests.
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
# the declarative connector's real shops, Medusa v2 (on PostgreSQL) and Vendure 3 (SQLite through sql.js),
# installed from the npm registry into a cache outside the checkout (seconds once cached)
scripts/medusa.sh >/dev/null &
medusa_pid=$!
scripts/vendure.sh >/dev/null || { echo "installing Vendure failed" >&2; exit 1; }
wait "$medusa_pid" || { echo "installing Medusa failed" >&2; exit 1; }
# the browser tests' Chromium, from Debian's packages (never a downloaded browser)
EMPORION_CHROMIUM=$(scripts/chromium.sh | tail -n 1)
export EMPORION_CHROMIUM
.venv/bin/ruff check src devkit tests bench
.venv/bin/mypy src/emporion/engine src/emporion/connectors
status=0
# The ERP connectors' suites (Odoo, SQL, files: their own sandboxes, databases and sshd; Tryton's
# catalogue and customer writes), the two-way suites and the declarative shop connector's (the example
# shop, the MerchantPro sandbox, real Medusa and Vendure) run beside the rest, in a second pytest process:
# on two cores the whole run takes about two thirds of the time.
# Arguments (or EMPORION_TEST_SERIAL=1) run one pytest process as given.
erp_suites=(
    tests/connectors/odoo tests/connectors/sql tests/connectors/files tests/connectors/rows
    tests/integration/test_odoo_erp.py tests/integration/test_odoo_erp_orders.py
    tests/integration/test_demo_odoo.py tests/integration/test_sql_erp.py
    tests/integration/test_sql_erp_orders.py tests/integration/test_files_erp.py
    tests/integration/test_demo_wawi.py tests/devkit/test_wawi.py tests/devkit/test_wawi_files.py
    tests/devkit/test_odoo_sandbox.py tests/devkit/test_odoo_sandbox_orm.py
    tests/devkit/test_odoo_sandbox_sales.py tests/devkit/test_odoo_sandbox_recorded.py
    tests/devkit/test_odoo_sandbox_wire.py
    tests/connectors/tryton/test_catalogue_write.py tests/connectors/tryton/test_customers.py
    tests/integration/test_two_way_catalogue.py tests/integration/test_two_way_customers.py
    tests/integration/test_two_way_unkept.py tests/chaos/test_two_way_sigkill.py
    tests/integration/test_two_way_odoo.py
    tests/connectors/rest tests/shops tests/devkit/test_merchantpro_sandbox.py
    tests/integration/test_rest_shop.py tests/integration/test_vendure_e2e.py
    tests/integration/test_medusa_e2e.py
)
if [ "$#" -eq 0 ] && [ "${EMPORION_TEST_SERIAL:-0}" != 1 ]; then
    erp_log=$(mktemp)
    .venv/bin/python -m pytest -p no:cacheprovider "${erp_suites[@]}" >"$erp_log" 2>&1 &
    erp_pid=$!
    ignored=()
    for suite in "${erp_suites[@]}"; do ignored+=("--ignore=$suite"); done
    .venv/bin/python -m pytest "${ignored[@]}" || status=$?
    erp_status=0
    wait "$erp_pid" || erp_status=$?
    echo "== the ERP connectors' suites =="
    cat "$erp_log"
    rm -f "$erp_log"
    if [ "$status" -eq 0 ]; then status=$erp_status; fi
else
    .venv/bin/python -m pytest "$@" || status=$?
fi
# pytest's 5 means no test ran: that is a failure here, not a pass
exit "$status"
