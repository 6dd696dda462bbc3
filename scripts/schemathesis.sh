#!/usr/bin/env bash
# Checks the live gateway against its OpenAPI document with schemathesis
# (PyPI): the debug binary in demo mode on a free loopback port, fresh data
# directory, the document it serves at GET /openapi.json
# (crates/glue-gateway/openapi.json). Three passes over every documented
# operation, each with a bounded number of examples:
#
#   user       a Back Office user token (the demo user's login), plus
#              schemathesis's ignored_auth probes (no token, a made-up token)
#              on every operation that answered 2xx;
#   warehouse  a warehouse token (the user's token exchanged);
#   anonymous  no token at all.
#
# Every answer must: not be a 5xx; have a documented status, content type and
# headers; match the documented schema. Also checked: unsupported methods get
# 405 with Allow, negative data is refused, documented auth is enforced.
#
# schemathesis is installed (pinned) into a venv under target/ when missing:
# python3 -m venv, pip install. Reports (JUnit) go to target/schemathesis/.
#
# Settings (environment):
#   SCHEMATHESIS_MAX_EXAMPLES  examples per operation and pass (default 25)
#   SCHEMATHESIS_SEED          fixed seed (default: a fresh one, printed)
#   GLUE_GATEWAY_BIN           the binary to test (default: the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/gateway-ready.sh
root=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
venv=$root/target/schemathesis-venv
st=$venv/bin/st
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-25}
seed=${SCHEMATHESIS_SEED:-$((RANDOM * 32768 + RANDOM))}
reports=$root/target/schemathesis
started=$(date +%s)

if ! "$st" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
    echo "== installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

bin=${GLUE_GATEWAY_BIN:-}
if [ -z "$bin" ]; then
    # scripts/test.sh's build (the binary its end-to-end tests run): after
    # the tests, as in .ci/run, nothing is compiled again.
    echo "== cargo test --workspace --all-features --no-run"
    cargo test --workspace --all-features --no-run --quiet
    bin=$root/target/debug/glue-gateway
fi

work=$(mktemp -d)
gw_pid=
cleanup() {
    if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
        kill -TERM "$gw_pid" 2>/dev/null || true
        wait "$gw_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Demo mode, SQLite in a fresh data directory, every other source of
# settings cleared (as the tests do).
env -u DATABASE_URL -u GLUE_GATEWAY_CONFIG -u PRIVATE_KEY_PATH -u PUBLIC_KEY_PATH \
    -u SPRYKER_OAUTH_KEY_PRIVATE -u SPRYKER_OAUTH_KEY_PUBLIC -u GLUE_BACKEND_CORS_ALLOW_ORIGIN \
    -u RUST_LOG GLUE_GATEWAY_LOG=info \
    "$bin" --listen 127.0.0.1:0 --data-dir "$work/data" \
    --redirect-uris http://localhost/callback \
    >"$work/stdout" 2>"$work/stderr" </dev/null &
gw_pid=$!
gateway_wait_ready "$gw_pid" "$work/stdout" "$work/stderr"
base=$GATEWAY_BASE
echo "== gateway $base (pid $gw_pid)"

# The document the gateway serves is the one in the crate.
curl -sSf "$base/openapi.json" -o "$work/openapi.json"
cmp -s "$work/openapi.json" crates/glue-gateway/openapi.json || {
    echo "GET /openapi.json differs from crates/glue-gateway/openapi.json" >&2
    exit 1
}

login() {
    curl -sSf -X POST "$base/token" \
        --data 'grant_type=password&username=sonia@spryker.com&password=change123' |
        "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
user_token=$(login)
warehouse_token=$(curl -sSf -X POST "$base/warehouse-tokens" -H "Authorization: Bearer $user_token" |
    "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)[0]["accessToken"])')

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,unsupported_method,allow_header_conformance,ignored_auth

# One pass: $1 the name, $2 the token (empty: none).
pass() {
    local name=$1 token=$2 config=$work/$1.toml
    if [ -n "$token" ]; then
        printf '[auth.openapi.bearerAuth]\nbearer = "%s"\n' "$token" >"$config"
    else
        : >"$config"
    fi
    echo "== schemathesis, $name: at most $max_examples examples per operation, seed $seed"
    mkdir -p "$reports"
    # From the temporary directory: schemathesis keeps a .hypothesis/
    # example database in its working directory.
    (cd "$work" && "$st" --config-file "$config" run "$work/openapi.json" \
        --url "$base" \
        --checks "$checks" \
        --max-examples "$max_examples" \
        --seed "$seed" \
        --workers 1 \
        --request-timeout 10 \
        --phases examples,coverage,fuzzing \
        --suppress-health-check all \
        --report junit --report-junit-path "$reports/$name.xml" \
        --no-color)
}

status=0
pass user "$user_token" || status=1
pass warehouse "$warehouse_token" || status=1
pass anonymous "" || status=1

if ! kill -0 "$gw_pid" 2>/dev/null; then
    echo "the gateway died during the run" >&2
    cat "$work/stderr" >&2
    status=1
elif grep -q 'panicked' "$work/stderr"; then
    echo "the gateway panicked:" >&2
    grep -A5 'panicked' "$work/stderr" >&2
    status=1
fi
echo "== schemathesis: $(($(date +%s) - started)) s, $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
