#!/usr/bin/env bash
# The API documentation builds without a warning: no broken intra-doc link,
# no undocumented public item (`missing_docs` is warned on workspace-wide in
# Cargo.toml; -D warnings makes every rustdoc and rustc warning fatal here),
# every feature on.
#
# Then, where a nightly toolchain is installed, the library crates as docs.rs
# builds them: nightly rustdoc with `--cfg docsrs` (which turns on
# `feature(doc_cfg)` in glue-auth and glue-auth-core) and the features of
# their [package.metadata.docs.rs] (here all features in one build, which
# adds glue-auth-token's doc-hidden `fuzzing` module). Without nightly that
# half prints SKIPPED.
#
# Run by .ci/run; alone: bash scripts/check-docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" cargo doc --workspace --all-features --no-deps

if ! command -v rustup >/dev/null 2>&1 || ! cargo +nightly --version >/dev/null 2>&1; then
    echo "docs.rs build SKIPPED: no nightly toolchain (cargo +nightly --version fails)"
    exit 0
fi
echo "== as docs.rs: nightly rustdoc, --cfg docsrs"
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} --cfg docsrs -D warnings" cargo +nightly doc --no-deps --all-features \
    -p glue-auth-core -p glue-auth-jwt -p glue-auth-bearer -p glue-auth-scope \
    -p glue-auth-token -p glue-auth-sql -p glue-auth-redis -p glue-auth
