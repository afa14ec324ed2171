#!/usr/bin/env bash
# Makes sure Debian's OpenSSH server is installed for the SFTP tests of the file connector, installing
# it from Debian's packages on a machine that has none, and prints the path of sshd. It only installs:
# the tests and the demo start their own sshd on 127.0.0.1 with a private configuration
# (devkit/src/emporion_devkit/sftp.py, used by tests/fixtures/sftp.py);
# the system's ssh service is neither enabled nor started here.
set -euo pipefail
sshd=/usr/sbin/sshd
if [ ! -x "$sshd" ]; then
    if [ "$(id -u)" = 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo -n)
    else
        echo "sshd.sh: $sshd is missing and installing it needs root (or sudo)" >&2
        exit 1
    fi
    # policy-rc.d refuses service starts while the package installs, so the system's sshd stays off
    policy=/usr/sbin/policy-rc.d
    made_policy=no
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
        "${as_root[@]}" chmod +x "$policy"
        made_policy=yes
    fi
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq \
        --no-install-recommends openssh-server >/dev/null
    if [ "$made_policy" = yes ]; then
        "${as_root[@]}" rm -f "$policy"
    fi
fi
if [ ! -x "$sshd" ]; then
    echo "sshd.sh: $sshd is still missing after the install" >&2
    exit 1
fi
echo "$sshd"
