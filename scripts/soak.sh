#!/usr/bin/env bash
# Soak with faults (issue 16, item 8), loopback only, bounded:
#
#   nice bash scripts/soak.sh            # 10 minutes
#   SOAK_SECONDS=20 bash scripts/soak.sh # a short check of the script itself
#
# - a throw-away PostgreSQL server (scripts/with-postgres.sh) and a database
#   of its own for the run;
# - the release gateway on it (cargo build --release unless GLUE_GATEWAY_BIN
#   is given): demo seed, refresh grant on, a key pair in a temporary
#   directory with a rotation slot (extra_public_key_paths = previous.pem);
# - scripts/soak_driver.py sends mixed traffic for SOAK_SECONDS (default
#   600): logins, wrong-password logins, warehouse exchanges, picking-list
#   reads with user, warehouse and start-of-run tokens, refreshes, tampered,
#   expired and garbage tokens; every answer counted by kind and status;
# - faults during the run: PostgreSQL stopped at 25 % of the run for
#   SOAK_OUTAGE seconds (default 5 % of the run, at least 3) and started
#   again (same data directory and port); the signing key rotated at 60 %
#   (docs/operations.md "Rotating": the current public key copied to
#   previous.pem, a new pair moved in, SIGHUP);
# - the gateway's resident memory sampled from /proc every SOAK_RSS_EVERY
#   seconds (default 5): start, peak, end, for VmRSS and for RssAnon (heap
#   and stacks: what can leak; the rest of VmRSS is mostly the executable's
#   own pages, faulted in as code paths run, bounded by the binary's size).
#
# Expected answers per kind: see soak_driver.py; while the database is down
# (and SOAK_GRACE s after, default 15) 503 with Retry-After is expected too
# for the kinds that need the database. Anything else (a 500, a valid token
# refused, a 503 without Retry-After, a time-out) is unexpected: the script
# exits 1. So does a gateway that dies, panics or logs a 500.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/gateway-ready.sh
root=$(pwd)

if [[ -z "${SOAK_INNER:-}" ]]; then
    bin=${GLUE_GATEWAY_BIN:-}
    if [[ -z "$bin" ]]; then
        echo "== cargo build --release -p glue-gateway" >&2
        cargo build --release -p glue-gateway
        bin=$root/target/release/glue-gateway
    fi
    # A server of our own even if one is configured: the run stops it.
    exec env -u GLUE_TEST_DATABASE_URL SOAK_INNER=1 GLUE_GATEWAY_BIN="$bin" \
        bash scripts/with-postgres.sh bash "$0" "$@"
fi

seconds=${SOAK_SECONDS:-600}
outage=${SOAK_OUTAGE:-$(((seconds / 20) > 3 ? seconds / 20 : 3))}
rss_every=${SOAK_RSS_EVERY:-5}
bin=$GLUE_GATEWAY_BIN
: "${PGDATA:?with-postgres.sh exports PGDATA}" "${GLUE_PG_BIN:?}" "${PGPORT:?}"

pg_ctl() {
    if [[ -n "${GLUE_PG_USER:-}" ]]; then
        runuser -u "$GLUE_PG_USER" -- "$GLUE_PG_BIN/pg_ctl" -D "$PGDATA" "$@"
    else
        "$GLUE_PG_BIN/pg_ctl" -D "$PGDATA" "$@"
    fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/glue-soak.XXXXXX")
gw_pid=
driver_pid=
cleanup() {
    local status=$?
    [[ -n "$driver_pid" ]] && kill "$driver_pid" 2>/dev/null || true
    if [[ -n "$gw_pid" ]] && kill -0 "$gw_pid" 2>/dev/null; then
        kill -TERM "$gw_pid" 2>/dev/null || true
        wait "$gw_pid" 2>/dev/null || true
    fi
    if [[ -n "${SOAK_KEEP:-}" ]]; then
        echo "soak: kept $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT

now() { date +%s.%N; }
stamp() { date -u +%H:%M:%S; }

db=soak_$$
"$GLUE_PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres "$db"
url="postgres://postgres@127.0.0.1:$PGPORT/$db"

keys=$work/keys
mkdir -m 700 "$keys"
new_pair() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1/private.pem.new" 2>/dev/null
    openssl pkey -in "$1/private.pem.new" -pubout -out "$1/public.pem.new"
    chmod 600 "$1/private.pem.new"
}
new_pair "$keys"
mv "$keys/private.pem.new" "$keys/private.pem"
mv "$keys/public.pem.new" "$keys/public.pem"
cp "$keys/public.pem" "$keys/previous.pem"
cp "$keys/private.pem" "$work/first-private.pem"

env -u DATABASE_URL -u GLUE_GATEWAY_CONFIG -u PRIVATE_KEY_PATH -u PUBLIC_KEY_PATH \
    -u SPRYKER_OAUTH_KEY_PRIVATE -u SPRYKER_OAUTH_KEY_PUBLIC -u RUST_LOG \
    GLUE_GATEWAY_LOG=info \
    "$bin" --listen 127.0.0.1:0 --data-dir "$work/data" \
    --database-url "$url" --database-seed-demo \
    --database-acquire-timeout 1 --database-operation-timeout 2 \
    --refresh-grant \
    --private-key-path "$keys/private.pem" --public-key-path "$keys/public.pem" \
    --extra-public-key-paths "$keys/previous.pem" \
    --throttle-per-address 1000000 \
    >"$work/stdout" 2>"$work/gateway.log" </dev/null &
gw_pid=$!
gateway_wait_ready "$gw_pid" "$work/stdout" "$work/gateway.log"
addr=${GATEWAY_BASE#http://}
host=${addr%:*}
port=${addr##*:}
echo "soak: gateway $addr (pid $gw_pid) on PostgreSQL 127.0.0.1:$PGPORT/$db, $seconds s"

rss() {
    awk '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} END {print (r ? r : 0), (a ? a : 0)}' \
        "/proc/$gw_pid/status" 2>/dev/null || echo 0 0
}

faults=$work/faults
: >"$faults"
start=$(date +%s)
python3 scripts/soak_driver.py "$host" "$port" "$seconds" "$faults" "$work/first-private.pem" \
    >"$work/result.json" 2>"$work/driver.log" &
driver_pid=$!

down_at=$((seconds / 4))
up_at=$((down_at + outage))
rotate_at=$((seconds * 6 / 10))
((rotate_at > up_at)) || rotate_at=$((up_at + 1))
events=()
rss_samples=()
down_done= up_done= rotate_done=
next_rss=0
while kill -0 "$driver_pid" 2>/dev/null; do
    t=$(($(date +%s) - start))
    if ((t >= next_rss)); then
        rss_samples+=("$t $(rss)")
        next_rss=$((t + rss_every))
    fi
    if [[ -z "$down_done" ]] && ((t >= down_at)); then
        echo "db_down $(now)" >>"$faults"
        events+=("$(stamp) (+${t} s) PostgreSQL stopped (pg_ctl stop -m fast)")
        pg_ctl -m fast -w -t 30 stop >/dev/null
        down_done=1
    fi
    if [[ -n "$down_done" && -z "$up_done" ]] && ((t >= up_at)); then
        pg_ctl -l "${GLUE_PG_LOG:-$work/pg.log}" -w -t 30 start >/dev/null
        echo "db_up $(now)" >>"$faults"
        events+=("$(stamp) (+$(($(date +%s) - start)) s) PostgreSQL started again (same data directory and port)")
        up_done=1
    fi
    if [[ -z "$rotate_done" ]] && ((t >= rotate_at)); then
        new_pair "$keys"
        cp "$keys/public.pem" "$keys/previous.pem.new"
        mv "$keys/previous.pem.new" "$keys/previous.pem"
        mv "$keys/private.pem.new" "$keys/private.pem"
        mv "$keys/public.pem.new" "$keys/public.pem"
        kill -HUP "$gw_pid"
        echo "key_rotated $(now)" >>"$faults"
        events+=("$(stamp) (+${t} s) signing key rotated (new pair moved in, old public key in previous.pem, SIGHUP)")
        rotate_done=1
    fi
    sleep 1
done
driver_status=0
wait "$driver_pid" || driver_status=$?
driver_pid=
rss_samples+=("$(($(date +%s) - start)) $(rss)")

status=0
((driver_status == 0)) || status=1
alive=yes
kill -0 "$gw_pid" 2>/dev/null || { alive=no; status=1; }
jwks_keys=$(curl -s "http://$addr/.well-known/jwks.json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["keys"]))' 2>/dev/null || echo "?")
health=$(curl -s "http://$addr/healthz" || echo "?")
panics=$(grep -c 'panicked' "$work/gateway.log" || true)
fives=$(grep -c 'status=5[0-9][0-9]' "$work/gateway.log" | head -n 1 || true)
five_hundreds=$(grep -Ec 'status=50[0-2]([^0-9]|$)' "$work/gateway.log" || true)
((panics == 0)) || status=1
((five_hundreds == 0)) || status=1

echo
echo "## soak result ($(date -u +%Y-%m-%dT%H:%MZ), $seconds s, exit $status)"
echo
echo "faults:"
for e in "${events[@]}"; do echo "- $e"; done
echo
printf '%s\n' "${rss_samples[@]}" | python3 -c '
import sys
rows = [tuple(map(int, l.split())) for l in sys.stdin if l.strip()]
# The curve: about ten points across the run.
step = max(1, len(rows) // 10)
curve = rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else [])
for i, name in [(1, "VmRSS"), (2, "RssAnon")]:
    kib = [r[i] for r in rows]
    print(f"{name} (KiB, {len(rows)} samples): start {kib[0]}, peak {max(kib)}, end {kib[-1]}")
    print(f"{name} curve (s: KiB): " + ", ".join(f"{r[0]}: {r[i]}" for r in curve))
'
echo "gateway alive at the end: $alive; /healthz: $health; JWKS keys: $jwks_keys"
echo "gateway log: $panics panics, $five_hundreds answers 500-502, $fives 5xx answers in all (503s of the outage)"
echo
python3 - "$work/result.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
if "counts" not in r:
    print(r)
    sys.exit()
print(f"requests: {r['requests']} in {r['seconds']} s ({r['requests'] / r['seconds']:.0f}/s)")
print()
kinds = {}
for key, n in r["counts"].items():
    kind, status = key.split(" ", 1)
    kinds.setdefault(kind, {})[status] = n
print("| kind | answers by status | max latency (s) |")
print("|---|---|---|")
for kind, by in kinds.items():
    s = ", ".join(f"{st}: {n}" for st, n in sorted(by.items()))
    print(f"| {kind} | {s} | {r['max_latency_s'].get(kind, '')} |")
print()
print(f"unexpected: {r['unexpected'] or 'none'}")
for s in r["unexpected_samples"]:
    print("  ", s)
EOF
if ((driver_status != 0)); then
    echo "soak: driver exit $driver_status" >&2
    tail -n 20 "$work/driver.log" >&2 || true
fi
exit "$status"
