#!/usr/bin/env bash
# Installs the Vendure 3 test server (scripts/vendure/package-lock.json, from the npm registry only)
# into a cache folder outside the repository and builds its populated template database there once.
# Idempotent: a second run only checks. Prints, as its last line, the cache folder, which holds
# node_modules/, template.sqlite (a fresh populated database to copy) and template.json (its ids).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/vendure"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
lock_hash="$(sha256sum "$here/package-lock.json" | cut -c1-16)"
cache="${EMPORION_CACHE:-$HOME/.cache/emporion}/vendure-${lock_hash}"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9  # two test sessions at once: one installs, the other waits and finds it done

if [ ! -f "$cache/.installed" ]; then
    rm -rf "$cache/node_modules"
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$cache/.installed"
fi

# the template depends on the scripts that build it, so it is rebuilt when they change
template_hash="$(cat "$here/config.js" "$here/populate.js" | sha256sum | cut -c1-16)"
if [ "$(cat "$cache/template.hash" 2>/dev/null)" != "$template_hash" ]; then
    work="$(mktemp -d "$cache/template.XXXXXX")"
    if ! NODE_PATH="$cache/node_modules" VENDURE_DISABLE_TELEMETRY=true PORT=0 \
        VENDURE_DB="$work/template.sqlite" \
        VENDURE_SUPERADMIN_USERNAME="${VENDURE_SUPERADMIN_USERNAME:-superadmin}" \
        VENDURE_SUPERADMIN_PASSWORD="${VENDURE_SUPERADMIN_PASSWORD:-superadmin-test-secret}" \
        node "$here/populate.js" >"$work/populate.log" 2>&1; then
        tail -n 40 "$work/populate.log" >&2
        exit 1
    fi
    tail -n 1 "$work/populate.log" >"$work/template.json"
    mv -f "$work/template.sqlite" "$cache/template.sqlite"
    mv -f "$work/template.json" "$cache/template.json"
    echo "$template_hash" >"$cache/template.hash"
    rm -rf "$work"
fi
echo "$cache"
