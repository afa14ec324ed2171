#!/usr/bin/env bash
# Makes sure a MariaDB server runs on 127.0.0.1:3306 with a login for the tests, installing it from
# Debian's packages on a machine that has none. Prints the URL the tests use (SQLAlchemy, PyMySQL).
set -euo pipefail
user=emporion_test
password=emporion_test
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
fi
if ! mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1 \
    && ! mariadb-admin -uroot ping >/dev/null 2>&1; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    for _ in $(seq 1 60); do mariadb-admin -uroot ping >/dev/null 2>&1 && break; sleep 1; done
fi
# a throw-away test login on a loopback-only server: it creates and drops its test databases
mariadb -uroot <<SQL
CREATE USER IF NOT EXISTS '${user}'@'127.0.0.1' IDENTIFIED BY '${password}';
CREATE USER IF NOT EXISTS '${user}'@'localhost' IDENTIFIED BY '${password}';
GRANT ALL PRIVILEGES ON *.* TO '${user}'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '${user}'@'localhost' WITH GRANT OPTION;
SQL
echo "mysql+pymysql://${user}:${password}@127.0.0.1:3306/"
