#!/usr/bin/env bash
# Prepares a real Medusa v2 server for the tests, from the npm registry alone: installs scripts/medusa/
# (npm ci) into a cache directory outside the repository and builds a migrated template database
# (with the tests' admin user) that a test session copies with CREATE DATABASE ... TEMPLATE.
# Idempotent: a second run only checks. Prints, as its last line, the cache directory.
#   EMPORION_CACHE        where caches live (default ~/.cache/emporion)
#   EMPORION_TEST_PG_URL  PostgreSQL login that may create databases (default: scripts/postgres.sh's)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project="$here/medusa"
admin_email=admin@emporion.test  # the tests' admin login (tests/fixtures/medusa.py)
admin_password=emporion-medusa-admin
pg_url=${EMPORION_TEST_PG_URL:-$(bash "$here/postgres.sh" | tail -n 1)}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "warning: Node $(node --version) is older than Medusa 2.21 asks (20.19 or 22.12 and newer)" >&2
fi

hash=$(sha256sum "$project/package-lock.json" | cut -c1-12)
cache="${EMPORION_CACHE:-$HOME/.cache/emporion}/medusa-$hash"
template="emporion_medusa_tpl_$hash"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9  # one preparation at a time; the others wait, then find everything done

cp "$project/package.json" "$project/package-lock.json" "$project/medusa-config.js" "$cache/"
# the project's own code (emporion's webhook subscriber), loaded by `medusa start` from src/: copied
# on every run, so a changed subscriber reaches the cache without reinstalling Medusa
mkdir -p "$cache/src" && cp -R "$project/src/." "$cache/src/"
if [ ! -f "$cache/.installed" ]; then
    echo "installing Medusa into $cache (npm ci)" >&2
    (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$cache/.installed"
fi

db_url() { # the PostgreSQL URL of database $1 with the login of $pg_url
    local base=${pg_url%%\?*}
    echo "${base%/*}/$1"
}
psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql "$pg_url" -v ON_ERROR_STOP=1 -qtAX "$@"; }
exists=$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$template'")
if [ "$exists" != 1 ]; then
    building="${template}_build"
    echo "building template database $template" >&2
    psql_admin -c "DROP DATABASE IF EXISTS $building" -c "CREATE DATABASE $building"
    export DATABASE_URL
    DATABASE_URL=$(db_url "$building")
    export JWT_SECRET COOKIE_SECRET MEDUSA_DISABLE_TELEMETRY=true NODE_ENV=production
    JWT_SECRET=$(head -c 24 /dev/urandom | base64)
    COOKIE_SECRET=$(head -c 24 /dev/urandom | base64)
    (cd "$cache" && npx --no-install medusa db:migrate >"$cache/migrate.log" 2>&1) \
        || { tail -n 40 "$cache/migrate.log" >&2; exit 1; }
    (cd "$cache" && npx --no-install medusa user -e "$admin_email" -p "$admin_password" \
        >"$cache/user.log" 2>&1) || { tail -n 40 "$cache/user.log" >&2; exit 1; }
    # the finished database takes the template's name in one step, never half-built
    psql_admin -c "ALTER DATABASE $building RENAME TO $template"
fi
echo "$cache"
