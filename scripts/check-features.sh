#!/usr/bin/env bash
# Builds every feature combination of the `glue-auth` facade (all 32 subsets
# of bearer, scope, token, sql, axum), and checks that the crates that only
# read claims stay free of cryptography: neither jsonwebtoken nor aws-lc is a
# normal dependency of glue-auth-core or glue-auth-scope.
#
# Run by .ci/run; alone: bash scripts/check-features.sh
set -euo pipefail
cd "$(dirname "$0")/.."

features=(bearer scope token sql axum)
n=${#features[@]}
for ((mask = 0; mask < (1 << n); mask++)); do
    set_=()
    for ((i = 0; i < n; i++)); do
        if (((mask >> i) & 1)); then set_+=("${features[i]}"); fi
    done
    list=$(IFS=,; echo "${set_[*]}")
    echo "== glue-auth --no-default-features --features '${list}'"
    cargo check --quiet -p glue-auth --no-default-features --features "${list}"
done

# The key-source features of the bearer layer, on top of the default set.
for extra in watch remote-keys; do
    echo "== glue-auth --no-default-features --features '${extra}'"
    cargo check --quiet -p glue-auth --no-default-features --features "${extra}"
done

# The gateway without the shared Redis throttle (a redis_url is then a
# configuration error).
echo "== glue-gateway --no-default-features"
cargo check --quiet -p glue-gateway --no-default-features

for crate in glue-auth-core glue-auth-scope; do
    tree=$(cargo tree -p "$crate" -e normal --prefix none)
    if grep -Eq '^(jsonwebtoken|aws-lc-rs|aws-lc-sys) ' <<<"$tree"; then
        echo "$crate depends on a crypto library:" >&2
        grep -E '^(jsonwebtoken|aws-lc-rs|aws-lc-sys) ' <<<"$tree" >&2
        exit 1
    fi
    echo "== $crate: no jsonwebtoken, no aws-lc"
done
