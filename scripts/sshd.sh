#!/usr/bin/env bash
# Makes sure Debian's OpenSSH server is installed (for the SFTP tests of the file connector) and prints
# the path of sshd. It only installs the package: the tests start their own sshd on 127.0.0.1 with a
# private configuration (tests/fixtures/sftp.py); the system's ssh service is never enabled or started.
set -euo pipefail
SSHD=/usr/sbin/sshd
if [ ! -x "$SSHD" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        run=()
    else
        run=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${run[@]}" apt-get update -qq >&2
    # policy-rc.d refuses service starts, so installing does not start the system's sshd
    policy=/usr/sbin/policy-rc.d
    created_policy=no
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | "${run[@]}" tee "$policy" >/dev/null
        "${run[@]}" chmod +x "$policy"
        created_policy=yes
    fi
    "${run[@]}" apt-get install -y -qq --no-install-recommends openssh-server >&2
    if [ "$created_policy" = yes ]; then
        "${run[@]}" rm -f "$policy"
    fi
fi
echo "$SSHD"
