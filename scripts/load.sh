#!/usr/bin/env bash
# Loopback load test: the same hyper server with one constant picking-list
# answer, bare and behind BearerAuthLayer + ScopeLayer::spryker() +
# TokenEndpointLayer, measured side by side in one run, alternating.
#
#   bash scripts/load.sh            # 2 rounds x 10 s per server, 32 connections
#   ROUNDS=3 DURATION=15 CONNS=64 bash scripts/load.sh
#
# Installs wrk (Debian package) when missing. Reports requests/s, latency
# percentiles and the server's CPU time per request (utime + stime from
# /proc/PID/stat over the run, divided by the requests served). Every request
# carries a valid bearer token; a run with any non-2xx answer fails.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-2}

if ! command -v wrk >/dev/null 2>&1; then
    echo "load: installing wrk" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

cargo build --release -q -p glue-auth-load-target
BIN=target/release/glue-auth-load-target
TOKEN=$("$BIN" mint)
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

start() { # mode -> sets ADDR_<mode>, PID_<mode>
    "$BIN" "$1" 0 >"$TMP/$1.out" 2>"$TMP/$1.err" &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 100); do
        if grep -q '^listening on http://' "$TMP/$1.out" 2>/dev/null; then break; fi
        sleep 0.05
    done
    local addr
    addr=$(sed -n 's|^listening on http://||p' "$TMP/$1.out" | head -1)
    [[ -n "$addr" ]] || { echo "load: $1 did not start" >&2; cat "$TMP/$1.err" >&2; exit 1; }
    printf -v "ADDR_$1" '%s' "$addr"
    printf -v "PID_$1" '%s' "$pid"
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

start bare
start layers

echo "| round | server | requests/s | p50 | p99 | CPU µs/request |"
echo "|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
    for mode in bare layers; do
        addr_var="ADDR_$mode"; pid_var="PID_$mode"
        pid=${!pid_var}
        # Warm-up (connections, caches), not measured.
        wrk -t1 -c"$CONNS" -d1s -H "Authorization: Bearer $TOKEN" "http://${!addr_var}/picking-lists" >/dev/null
        t0=$(ticks "$pid")
        wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" \
            "http://${!addr_var}/picking-lists" >"$TMP/wrk.txt"
        t1=$(ticks "$pid")
        if grep -q 'Non-2xx' "$TMP/wrk.txt"; then
            echo "load: $mode answered non-2xx:" >&2
            cat "$TMP/wrk.txt" >&2
            exit 1
        fi
        requests=$(awk '/requests in/ {print $1}' "$TMP/wrk.txt")
        rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.txt")
        p50=$(awk '$1 == "50%" {print $2}' "$TMP/wrk.txt")
        p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.txt")
        cpu=$(awk -v d="$((t1 - t0))" -v hz="$HZ" -v n="$requests" 'BEGIN {printf "%.1f", d * 1e6 / hz / n}')
        echo "| $round | $mode | $rps | $p50 | $p99 | $cpu |"
    done
done
