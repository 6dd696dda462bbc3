#!/usr/bin/env bash
# The public API of every library crate exposes no third-party type but the
# ones external-types.toml allows (http, http-body, bytes, tower, axum-core,
# tonic, futures-core, the workspace's own crates; std/core/alloc always):
# no jsonwebtoken, aws-lc, sqlx, moka or redis type in a signature, a public
# field, a trait impl or a re-export, so that those can change without a
# breaking release. Every feature on.
#
# cargo-check-external-types reads rustdoc's JSON output, which only nightly
# produces; the version below reads JSON format 57 (the `nightly` toolchain
# here, 1.97.0-nightly 2026-05-19, writes 57; a nightly with another format
# makes the tool stop with an error naming both numbers). Installed
# (`cargo install --locked`, pinned) when missing. Without a nightly
# toolchain it prints SKIPPED and exits 0, like scripts/fuzz-smoke.sh:
# nothing else produces rustdoc JSON.
#
# Run by .ci/run; alone: bash scripts/check-external-types.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.5.0
crates=(
    glue-auth-core glue-auth-jwt glue-auth-bearer glue-auth-scope
    glue-auth-token glue-auth-sql glue-auth-redis glue-auth
)

if ! command -v rustup >/dev/null 2>&1 || ! cargo +nightly --version >/dev/null 2>&1; then
    echo "external types SKIPPED: no nightly toolchain (cargo +nightly --version fails); rustdoc JSON needs nightly"
    exit 0
fi
bash scripts/install-tool.sh cargo-check-external-types "$VERSION"

status=0
for c in "${crates[@]}"; do
    echo "== $c"
    cargo +nightly check-external-types --all-features \
        --manifest-path "crates/$c/Cargo.toml" --config external-types.toml || status=1
done
exit "$status"
