#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration, doc tests and examples,
# once, with a throw-away PostgreSQL server and a throw-away MariaDB server
# (scripts/with-postgres.sh and scripts/with-mariadb.sh: each installs
# Debian's package if needed, starts a server on a free loopback port,
# exports GLUE_TEST_DATABASE_URL / GLUE_TEST_MYSQL_URL, removes it
# afterwards), so that the PostgreSQL and MariaDB tests of glue-auth-sql run
# for real instead of being skipped.
#
# GLUE_TEST_DATABASE_URL / GLUE_TEST_MYSQL_URL already set: that server is
# used instead.
# GLUE_NO_POSTGRES=1: no servers at all; the PostgreSQL and MariaDB tests
# print SKIPPED and pass.
# GLUE_NO_MARIADB=1: no MariaDB server (PostgreSQL still runs); the MariaDB
# tests print SKIPPED and pass.
# A throw-away Redis server (scripts/with-redis.sh, GLUE_TEST_REDIS_URL) runs
# too, for the shared login throttle of glue-auth-redis and the gateway;
# GLUE_NO_REDIS=1: none, the Redis tests print SKIPPED and pass.
#
# This is the test command README.md gives; .ci/run calls it unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

test=(cargo test --workspace --all-features --no-fail-fast "$@")
if [[ "${GLUE_NO_REDIS:-}" != 1 ]]; then
    test=(bash scripts/with-redis.sh "${test[@]}")
fi
if [[ "${GLUE_NO_POSTGRES:-}" == 1 ]]; then
    exec "${test[@]}"
fi
if [[ "${GLUE_NO_MARIADB:-}" == 1 ]]; then
    exec bash scripts/with-postgres.sh "${test[@]}"
fi
exec bash scripts/with-postgres.sh bash scripts/with-mariadb.sh "${test[@]}"
