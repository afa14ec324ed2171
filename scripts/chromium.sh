#!/usr/bin/env bash
# Makes sure Debian's Chromium (and its driver) is installed for the browser tests, installing both from
# Debian's packages on a machine that has none; never downloads a browser of its own. Prints the path.
set -euo pipefail
browser=${EMPORION_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$browser" ]; then
    if [ "$(id -u)" = 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo -n)
    else
        echo "chromium.sh: $browser is missing and installing it needs root (or sudo)" >&2
        exit 1
    fi
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends \
        chromium chromium-driver fonts-dejavu-core >/dev/null
fi
if [ ! -x "$browser" ]; then
    echo "chromium.sh: $browser is still missing after the install" >&2
    exit 1
fi
echo "$browser"
