#!/usr/bin/env bash
# Packs every publishable crate (the libraries and the glue-gateway binary)
# with `cargo package`, unpacks the .crate files into a temporary workspace
# whose members are the unpacked crates (and whose [patch.crates-io] points
# them at each other, so nothing from the repository compiles), and runs
# their tests and doc tests there: what crates.io and docs.rs would get.
#
# A test or doc test that reads a file outside its own crate fails here: the
# unpacked crates sit in target/package-check/ws/crates/<name>-<version>/, so
# a path such as `../../../shared/fixtures/...` or `../../scripts/...` lands
# inside target/package-check, where nothing but the workspace is.
#
# Left out of the packages on purpose (each crate's Cargo.toml `exclude`
# says why), so not run here; the repository's test run (scripts/test.sh)
# has them:
#   - glue-auth-bearer: tests/fixtures.rs (interoperability with the tokens
#     of ../shared/fixtures) and benches/;
#   - glue-auth-token: benches/ (they read ../shared/fixtures);
#   - glue-auth-sql: tests/with_mariadb_script.rs, tests/with_postgres_script.rs
#     (they test the repository's scripts/with-*.sh);
#   - glue-gateway: tests/ (end to end, with database servers from scripts/);
#     its unit tests run here, so the binary builds from its package.
# No database or Redis server is started: the PostgreSQL, MariaDB and Redis
# tests print SKIPPED, as documented in scripts/test.sh (the GLUE_TEST_*
# variables are unset for this run).
#
# The dependencies come from crates.io (pinned by the repository's
# Cargo.lock) and are compiled into the repository's target directory
# (CARGO_TARGET_DIR), so most of them are already built by the other steps.
#
# Run by .ci/run; alone: bash scripts/check-package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

crates=(
    glue-auth-core glue-auth-jwt glue-auth-bearer glue-auth-scope
    glue-auth-token glue-auth-sql glue-auth-redis glue-auth glue-gateway
)

echo "== cargo package (${#crates[@]} crates)"
rm -rf "$CARGO_TARGET_DIR/package"
args=()
for c in "${crates[@]}"; do args+=(-p "$c"); done
# --no-verify: the build below is the verification (tests and doc tests,
# all features); --allow-dirty: the contents count, not the commit.
cargo package --no-verify --allow-dirty "${args[@]}"

# Always the same directory: cargo fingerprints a path crate by its path
# relative to the workspace and by its files' times, not by the absolute path
# that env!("CARGO_MANIFEST_DIR") compiles into a test, so the unpacked
# crates stay where the last run compiled them. And every file of a .crate
# carries one fixed time, so the files are unpacked beside the workspace and
# copied in only when their content changed (getting the current time):
# cargo then rebuilds exactly what changed, never a stale binary.
work="$CARGO_TARGET_DIR/package-check"
fresh="$work/unpacked"
rm -rf "$fresh"
mkdir -p "$fresh" "$work/ws/crates"
patch=""
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
for c in "${crates[@]}"; do
    file="$CARGO_TARGET_DIR/package/$c-$version.crate"
    tar -xzf "$file" -C "$fresh"
    for f in LICENSE-MIT LICENSE-APACHE README.md; do
        if [[ ! -f "$fresh/$c-$version/$f" ]]; then
            echo "$c: $f is not in the package" >&2
            exit 1
        fi
    done
    patch+="$c = { path = \"crates/$c-$version\" }"$'\n'
done

cat >"$work/ws/Cargo.toml" <<EOF
[workspace]
resolver = "3"
members = ["crates/*"]

[patch.crates-io]
$patch
# As in the repository's Cargo.toml: bcrypt in tests and doc tests.
[profile.dev.package.bcrypt]
opt-level = 3

[profile.dev.package.blowfish]
opt-level = 3
EOF
# The repository's versions of every dependency.
cp Cargo.lock "$work/ws/Cargo.lock"
(cd "$fresh" && find . -type f) | while IFS= read -r f; do
    if ! cmp -s "$fresh/$f" "$work/ws/crates/$f"; then
        mkdir -p "$(dirname "$work/ws/crates/$f")"
        cp "$fresh/$f" "$work/ws/crates/$f"
    fi
done
(cd "$work/ws/crates" && find . -type f) | while IFS= read -r f; do
    if [[ ! -e "$fresh/$f" ]]; then rm -f "$work/ws/crates/$f"; fi
done
# Nothing beside the workspace: a path that leaves its crate ends here.
if [[ -e "$work/shared" || -e "$work/scripts" ]]; then
    echo "$work must hold only the workspace" >&2
    exit 1
fi

echo "== tests and doc tests of the packaged crates (in $work/ws)"
cd "$work/ws"
env -u GLUE_TEST_DATABASE_URL -u GLUE_TEST_MYSQL_URL -u GLUE_TEST_REDIS_URL \
    -u REDIS_URL -u DATABASE_URL \
    cargo test --workspace --all-features --no-fail-fast
