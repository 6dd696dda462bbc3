#!/usr/bin/env bash
# The API documentation builds without a warning: no broken intra-doc link,
# no undocumented public item (`missing_docs` is warned on workspace-wide in
# Cargo.toml; -D warnings makes every rustdoc and rustc warning fatal here),
# every feature on, as docs.rs builds the crates
# ([package.metadata.docs.rs] in each Cargo.toml).
#
# Run by .ci/run; alone: bash scripts/check-docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" cargo doc --workspace --all-features --no-deps
