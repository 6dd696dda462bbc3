#!/usr/bin/env bash
# The browser tests (tests/browser/): the fulfillment demo page in headless
# Chromium against the glue-gateway binary, driven by playwright-core from
# npm (tests/browser/package-lock.json) pointed at Debian's `chromium`.
#
# - installs Debian's `chromium` package (apt-get, as root or through sudo)
#   when no chromium is found (CHROMIUM_PATH overrides the path);
# - installs the npm packages (npm ci) when tests/browser/node_modules is
#   missing or older than the lockfile;
# - builds the gateway binary and runs the tests; screenshots go to
#   target/browser-screenshots/.
#
# When chromium (or node/npm) cannot be installed, the tests are SKIPPED with
# a loud notice and the script exits 0; a failing test exits non-zero.
# GLUE_NO_BROWSER=1 skips them on purpose (also loudly).
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
    echo "======================================================================" >&2
    echo "SKIPPED browser tests: $*" >&2
    echo "======================================================================" >&2
    exit 0
}

[[ "${GLUE_NO_BROWSER:-}" == 1 ]] && skip "GLUE_NO_BROWSER=1"

as_root() {
    if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

chromium_path="${CHROMIUM_PATH:-$(command -v chromium || true)}"
if [[ -z "$chromium_path" ]]; then
    echo "browser tests: installing Debian's chromium (apt-get)" >&2
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2 \
        || { as_root apt-get update >&2 && as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends chromium >&2; }; then
        chromium_path="$(command -v chromium || true)"
    fi
    [[ -n "$chromium_path" ]] || skip "chromium is not installed and could not be installed with apt-get"
fi
command -v node >/dev/null && command -v npm >/dev/null || skip "node/npm are missing"

if [[ ! -d tests/browser/node_modules/playwright-core \
    || tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]]; then
    (cd tests/browser && npm ci --no-audit --no-fund >&2)
fi

cargo build -p glue-gateway --bin glue-gateway
target_dir="$(cargo metadata --format-version 1 --no-deps | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
export GLUE_GATEWAY_BIN="$target_dir/debug/glue-gateway"
export CHROMIUM_PATH="$chromium_path"
echo "== browser tests ($("$chromium_path" --version 2>/dev/null || echo chromium), playwright-core)"
cd tests/browser && npm test
