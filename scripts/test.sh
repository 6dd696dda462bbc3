#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration, doc tests and examples,
# once, with a throw-away PostgreSQL server (scripts/with-postgres.sh: installs
# Debian's postgresql package if needed, starts a cluster on a free loopback
# port, exports GLUE_TEST_DATABASE_URL, removes it afterwards), so that the
# PostgreSQL tests of glue-auth-sql run for real instead of being skipped.
#
# GLUE_TEST_DATABASE_URL already set: that server is used instead.
# GLUE_NO_POSTGRES=1: no server; the PostgreSQL tests print SKIPPED and pass.
#
# This is the test command README.md gives; .ci/run calls it unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${GLUE_NO_POSTGRES:-}" == 1 ]]; then
    exec cargo test --workspace --all-features --no-fail-fast "$@"
fi
exec bash scripts/with-postgres.sh cargo test --workspace --all-features --no-fail-fast "$@"
