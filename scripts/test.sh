#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration, doc tests and examples.
# This is the test command README.md gives; .ci/run calls it unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --all-features --no-fail-fast "$@"
