#!/usr/bin/env bash
# cargo-deny over the workspace's dependency graph with deny.toml: licenses
# (every one allowed on purpose), bans (OpenSSL, and the `rsa` crate except
# through sqlx-mysql; duplicate versions are warnings) and sources (crates.io
# only).
#
# Not `advisories`: cargo-deny reads the RustSec advisory database from its
# git repository, which this workplace (and so CI) cannot reach; only the
# package registries are reachable. Run `cargo deny check advisories` where
# that repository is reachable.
#
# Installs cargo-deny (pinned version, `cargo install --locked` from
# crates.io) when missing: a one-time build of a few minutes on a new machine.
#
# Run by .ci/run; alone: bash scripts/check-deny.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2

bash scripts/install-tool.sh cargo-deny "$CARGO_DENY_VERSION"
cargo deny --version

# The duplicate-version warnings without their inclusion trees (thousands of
# lines); `cargo deny check bans` alone shows them.
cargo deny --all-features check --hide-inclusion-graph licenses bans sources
