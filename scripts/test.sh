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
# Last, the browser tests (scripts/browser-test.sh, tests/browser/): the
# fulfillment demo page in headless Chromium against the gateway binary.
#
# This is the test command README.md gives; .ci/run calls it unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

test=(cargo test --workspace --all-features --no-fail-fast "$@")
if [[ "${GLUE_NO_REDIS:-}" != 1 ]]; then
    test=(bash scripts/with-redis.sh "${test[@]}")
fi
status=0
if [[ "${GLUE_NO_POSTGRES:-}" == 1 ]]; then
    "${test[@]}" || status=$?
elif [[ "${GLUE_NO_MARIADB:-}" == 1 ]]; then
    bash scripts/with-postgres.sh "${test[@]}" || status=$?
else
    bash scripts/with-postgres.sh bash scripts/with-mariadb.sh "${test[@]}" || status=$?
fi

# Then the fulfillment page in headless Chromium (scripts/browser-test.sh:
# installs Debian's chromium when missing; skips loudly, without failing,
# only when it cannot; GLUE_NO_BROWSER=1 skips on purpose).
bash scripts/browser-test.sh || status=$?
exit "$status"
