#!/usr/bin/env bash
# Benchmark harness: seven servers measured side by side in one run, in
# interleaved rounds, with one repeated token and with many distinct tokens.
#
#   bash scripts/bench.sh            # full run: 3 rounds x 10 s per server and token mode
#   bash scripts/bench.sh smoke      # about a second per server, correctness checks (CI)
#   bash scripts/bench.sh million    # 1 000 000 distinct tokens through the gateway, RSS sampled
#   ROUNDS=5 DURATION=15 CONNS=64 bash scripts/bench.sh
#
# Servers (all on 127.0.0.1, every request `GET /picking-lists` with
# `Accept: application/vnd.api+json` and a valid bearer token):
#   bare            glue-auth-load-target bare: hyper answering one constant document
#   layers          the same behind BearerAuthLayer -> ScopeLayer::spryker() -> TokenEndpointLayer
#   gateway-demo    glue-gateway, built-in demo picking lists (--database-url memory:)
#   gateway-proxy   glue-gateway --upstream to its own `load-target bare` upstream
#   hyper-proxy     glue-auth-load-target proxy: hyper's server and client with
#                   nothing between them (no auth, no log, headers unchanged),
#                   one upstream connection per client connection, to its own
#                   `load-target bare` upstream: the floor of a hyper proxy
#   nginx-proxy     nginx proxy_pass to its own `load-target bare` upstream
#                   (2 workers, keepalive 64 upstream connections, HTTP/1.1)
#   jwt-authorizer  jwt-authorizer 0.15 on axum 0.7 (benches/jwt-authorizer),
#                   answering the same document as bare
# Token modes: `1 token` (one token repeated: cache hits where there is a
# cache) and `N tokens` (TOKENS distinct tokens, a different one per request
# from a wrk Lua script; the layers and the gateway then run with a
# validated-token cache of MISS_CACHE_CAPACITY entries, smaller than N, so
# that nearly every request is a cache miss; the measured hit rate is shown).
#
# Per server and round: WARMUP s of unmeasured load, then wrk -t1
# -c$CONNS -d$DURATION --latency. CPU = utime + stime of the server's
# processes (the whole process tree; proxy rows add their upstream; nginx:
# master + workers + upstream) from /proc/PID/stat over the run, divided by
# the requests served. Peak RSS = sum of VmHWM (/proc/PID/status) over the
# same processes at the end of the run (peak since start). Rounds rotate the
# order of the servers. Any non-2xx/3xx answer or socket error reported by
# wrk fails the run; before loading, every server must answer exactly 200
# with its expected body, and every validating server must refuse a forged
# token with 401.
#
# Settings (environment):
#   ROUNDS=3 DURATION=10 CONNS=32 WARMUP=1  wrk settings (smoke: 1 round, 1 s, no warm-up)
#   TOKENS=10000                  distinct tokens of the `N tokens` mode (smoke: 200)
#   MISS_CACHE_CAPACITY=100       token cache of layers/gateway in the `N tokens` mode
#   ACCESS_LOG=on                 gateway at its default log level (access log on, to a
#                                 file) and nginx's access_log on; `off`: gateway
#                                 --log info,glue_gateway::access=off, nginx access_log off
#   KEY=PATH                      RSA private key (PEM) tokens are signed with and
#                                 every server validates against (default: the test
#                                 key ../shared/fixtures/foreign-signer/test-private.pem)
#   PROFILE=release               cargo profile of the binaries (smoke: dev, built with
#                                 the feature set of `cargo test --workspace --all-features`,
#                                 so that after CI's test step it costs one link)
#   NO_BUILD=1                    use the binaries already built
#   JWT_AUTHORIZER=1              smoke only: also build and check jwt-authorizer
#                                 (always on in the full mode; its build is the
#                                 most expensive one, so smoke leaves it out by default)
#   SERVERS="gateway-proxy nginx-proxy"
#                                 measure only these rows (names as above, space
#                                 separated; default: all); the upstreams they need
#                                 are started with them; ratios whose two rows are
#                                 not both measured are left out
#   TOKEN_MODES=one               token modes to run: `one`, `many` or "one many"
#                                 (the default)
#   GATEWAY_BASELINE=PATH         another glue-gateway binary (e.g. one built from an
#                                 earlier commit) measured beside the others as row
#                                 `gateway-proxy-baseline`: proxy mode, its own
#                                 `load-target bare` upstream, the same flags; its CPU
#                                 and requests/s ratios to nginx-proxy and to
#                                 gateway-proxy are printed too. A before/after
#                                 comparison in one run.
#   LAYERS_BASELINE=PATH          another glue-auth-load-target binary (e.g. one built
#                                 from an earlier commit) measured beside the others as
#                                 row `layers-baseline` (its `layers` mode, the same
#                                 flags); with `layers` and `bare` its difference to
#                                 both is printed too
#   MILLION=1000000 FLOOD_CONCURRENCY=32 TOKEN_CACHE_CAPACITY=
#                                 million mode: tokens, client connections, and the
#                                 gateway's --token-cache-capacity (unset: its default);
#                                 smoke runs the same path with MILLION=300
#
# Installs wrk and nginx (Debian packages) when missing, as root or with
# `sudo -n`, without starting Debian's nginx service (policy-rc.d). nginx runs
# from a config written into a temporary directory (pid file, logs and temp
# paths there too), listening on loopback only. Every process started here is
# stopped and the temporary directory removed on exit, Ctrl-C included.
#
# The report (markdown) goes to stdout, progress to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

MODE=${1:-full}
case "$MODE" in
full | smoke | million) ;;
-h | --help | help)
    usage
    exit 0
    ;;
*)
    usage >&2
    exit 2
    ;;
esac

if [[ $MODE == smoke ]]; then
    ROUNDS=${ROUNDS:-1} DURATION=${DURATION:-1} WARMUP=${WARMUP:-0} TOKENS=${TOKENS:-200} MILLION=${MILLION:-300}
    PROFILE=${PROFILE:-dev} JWT_AUTHORIZER=${JWT_AUTHORIZER:-0}
fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
WARMUP=${WARMUP:-1}
TOKENS=${TOKENS:-10000}
MISS_CACHE_CAPACITY=${MISS_CACHE_CAPACITY:-100}
ACCESS_LOG=${ACCESS_LOG:-on}
KEY=${KEY:-$ROOT/../shared/fixtures/foreign-signer/test-private.pem}
PROFILE=${PROFILE:-release}
NO_BUILD=${NO_BUILD:-0}
JWT_AUTHORIZER=${JWT_AUTHORIZER:-1}
MILLION=${MILLION:-1000000}
FLOOD_CONCURRENCY=${FLOOD_CONCURRENCY:-32}
TOKEN_CACHE_CAPACITY=${TOKEN_CACHE_CAPACITY:-}
SERVERS_FILTER=${SERVERS:-}
TOKEN_MODES=${TOKEN_MODES:-one many}
GATEWAY_BASELINE=${GATEWAY_BASELINE:-}
LAYERS_BASELINE=${LAYERS_BASELINE:-}

log() { echo "bench: $*" >&2; }
die() {
    echo "bench: FAILED: $*" >&2
    exit 1
}

for v in ROUNDS DURATION CONNS WARMUP TOKENS MISS_CACHE_CAPACITY MILLION FLOOD_CONCURRENCY; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v=${!v} is not a number"
done
((ROUNDS >= 1 && DURATION >= 1 && CONNS >= 1 && TOKENS >= 1)) || die "ROUNDS, DURATION, CONNS and TOKENS must be at least 1"
[[ $ACCESS_LOG == on || $ACCESS_LOG == off ]] || die "ACCESS_LOG=$ACCESS_LOG: on or off"
for m in $TOKEN_MODES; do
    [[ $m == one || $m == many ]] || die "TOKEN_MODES=$TOKEN_MODES: one, many or \"one many\""
done
[[ -n ${TOKEN_MODES// /} ]] || die "TOKEN_MODES is empty"
for v in GATEWAY_BASELINE LAYERS_BASELINE; do
    if [[ -n ${!v} ]]; then
        [[ -x ${!v} ]] || die "$v=${!v} is not an executable"
        printf -v "$v" '%s' "$(cd "$(dirname "${!v}")" && pwd)/$(basename "${!v}")"
    fi
done
[[ -r $KEY ]] || die "KEY=$KEY is not readable"
KEY=$(cd "$(dirname "$KEY")" && pwd)/$(basename "$KEY")

# The exact command, with the settings that differ from the mode's defaults.
COMMAND="bash scripts/bench.sh${1:+ $1}"
for v in ROUNDS DURATION CONNS WARMUP TOKENS MISS_CACHE_CAPACITY ACCESS_LOG KEY PROFILE JWT_AUTHORIZER MILLION FLOOD_CONCURRENCY TOKEN_CACHE_CAPACITY SERVERS TOKEN_MODES GATEWAY_BASELINE LAYERS_BASELINE NO_BUILD; do
    if printenv "$v" >/dev/null; then
        val=$(printenv "$v")
        [[ $val == *" "* ]] && val="\"$val\""
        COMMAND="$v=$val $COMMAND"
    fi
done

# ---- tools ----------------------------------------------------------------

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        # -n: never wait for a password nobody types.
        sudo -n "$@"
    else
        log "need root or sudo without a password (sudo -n) to run: $*"
        return 1
    fi
}

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [[ $MODE != million ]] && ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
    missing+=(nginx)
fi
if ((${#missing[@]})); then
    log "installing ${missing[*]} (Debian packages)"
    # The nginx package starts its service after installing: a policy-rc.d
    # that refuses (101) keeps it stopped (invoke-rc.d and
    # deb-systemd-invoke both honour it). An existing one is left alone.
    policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
    fi
    apt_opts=(-o DPkg::Lock::Timeout=300)
    install_ok=1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        install_ok=0
    [[ -n $policy ]] && as_root rm -f "$policy"
    ((install_ok)) || die "could not install ${missing[*]}"
fi
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)

# ---- build ----------------------------------------------------------------

TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
case "$PROFILE" in
dev | test) BIN_DIR=$TARGET_DIR/debug ;;
release | bench) BIN_DIR=$TARGET_DIR/release ;;
*) BIN_DIR=$TARGET_DIR/$PROFILE ;;
esac
LT=$BIN_DIR/glue-auth-load-target
GW=$BIN_DIR/glue-gateway
JA=$BIN_DIR/glue-auth-bench-jwt-authorizer
use_jwt_authorizer=0
[[ $MODE == full || ($MODE == smoke && $JWT_AUTHORIZER == 1) ]] && use_jwt_authorizer=1
# The rows measured: all of them, or those SERVERS names.
ALL_SERVERS=(bare layers gateway-demo gateway-proxy hyper-proxy nginx-proxy jwt-authorizer)
declare -A SELECTED=()
if [[ -n ${SERVERS_FILTER// /} ]]; then
    for name in $SERVERS_FILTER; do
        [[ " ${ALL_SERVERS[*]} " == *" $name "* ]] || die "SERVERS: unknown server $name (known: ${ALL_SERVERS[*]})"
        SELECTED[$name]=1
    done
    if [[ -n ${SELECTED[jwt-authorizer]:-} ]]; then
        ((use_jwt_authorizer)) || die "SERVERS names jwt-authorizer: it runs in the full mode, or in smoke with JWT_AUTHORIZER=1"
    else
        use_jwt_authorizer=0
    fi
else
    for name in "${ALL_SERVERS[@]}"; do SELECTED[$name]=1; done
fi
selected() { [[ -n ${SELECTED[$1]:-} ]]; }

if [[ $NO_BUILD != 1 ]]; then
    t0=$SECONDS
    if [[ $PROFILE == dev ]]; then
        # The dev profile with the feature set of the test step
        # (`cargo test --workspace --all-features`, scripts/test.sh): after
        # it, only the load target's binary is left to link. Built alone, the
        # two packages would unify features differently and recompile ~80
        # crates.
        cargo build -q --workspace --all-features --bins --tests
    else
        # One invocation for both packages: features unify the same way each
        # time, so a second run rebuilds nothing.
        cargo build --profile "$PROFILE" -q -p glue-gateway -p glue-auth-load-target
    fi
    if [[ $PROFILE == dev ]]; then
        log "built the workspace's binaries and tests (dev, all features) in $((SECONDS - t0)) s"
    else
        log "built glue-gateway and glue-auth-load-target ($PROFILE) in $((SECONDS - t0)) s"
    fi
    if ((use_jwt_authorizer)); then
        t0=$SECONDS
        cargo build --profile "$PROFILE" -q --locked \
            --manifest-path benches/jwt-authorizer/Cargo.toml --target-dir "$TARGET_DIR"
        log "built benches/jwt-authorizer ($PROFILE) in $((SECONDS - t0)) s"
    fi
fi
for b in "$LT" "$GW"; do [[ -x $b ]] || die "$b is missing (build it, or unset NO_BUILD)"; done
if ((use_jwt_authorizer)); then [[ -x $JA ]] || die "$JA is missing"; fi

# ---- processes and clean-up -----------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/glue-bench.XXXXXX")
chmod 755 "$TMP" # nginx workers (nobody when started as root) read below it
declare -a STARTED=()
declare -A ADDR=() ROOTS=() LOGS=()
FLOOD_PID=""
WRK_PID=""

# Every process of the trees rooted at the given pids.
tree_pids() {
    local roots=" $* "
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$roots" '
        { s = $0; sub(/^.*\) /, "", s); split(s, f, " "); parent[$1] = f[2]; pids[++n] = $1 }
        END {
            split(roots, r, " "); for (i in r) keep[r[i]] = 1
            changed = 1
            while (changed) {
                changed = 0
                for (i = 1; i <= n; i++) { p = pids[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 } }
            }
            for (i = 1; i <= n; i++) if (pids[i] in keep) print pids[i]
        }' || true
}

stop_pids() { # pids...: TERM, up to 5 s, then KILL
    local p i alive
    (($#)) || return 0
    kill -TERM "$@" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    kill -KILL "$@" 2>/dev/null || true
    for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

stop_all() {
    local all=() p
    for p in $WRK_PID $FLOOD_PID "${STARTED[@]}"; do
        kill -0 "$p" 2>/dev/null || continue
        # shellcheck disable=SC2207 # pids are words
        all+=($(tree_pids "$p"))
    done
    FLOOD_PID="" WRK_PID=""
    STARTED=()
    stop_pids "${all[@]}"
}

cleanup() {
    local status=$?
    trap '' INT TERM
    stop_all
    rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

show_log() { # file: its last lines, on stderr
    [[ -s $1 ]] || return 0
    echo "---- $(basename "$1") (last 20 lines)" >&2
    tail -n 20 "$1" >&2
}

# start NAME READY_REGEX COMMAND...: runs COMMAND in the background, waits
# (30 s at most) for a line `... listening on http://ADDR` and one matching
# READY_REGEX on its stdout; sets ADDR[NAME] and ROOTS[NAME].
start() {
    local name=$1 ready=$2 i pid addr
    shift 2
    : >"$TMP/$name.out"
    "$@" >>"$TMP/$name.out" 2>>"$TMP/$name.log" &
    pid=$!
    STARTED+=("$pid")
    LOGS[$name]=$TMP/$name.log
    for ((i = 0; i < 300; i++)); do
        if grep -q 'listening on http://' "$TMP/$name.out" && grep -Eq "$ready" "$TMP/$name.out"; then
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    addr=$(sed -n 's|^.*listening on http://||p' "$TMP/$name.out" | head -n 1)
    if [[ -z $addr ]] || ! grep -Eq "$ready" "$TMP/$name.out" || ! kill -0 "$pid" 2>/dev/null; then
        show_log "$TMP/$name.out"
        show_log "$TMP/$name.log"
        die "$name did not start: $*"
    fi
    ADDR[$name]=$addr
    ROOTS[$name]=$pid
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_nginx NAME UPSTREAM_ADDR: nginx with its own config in $TMP/NAME.
start_nginx() {
    local name=$1 upstream=$2 dir=$TMP/$1 port pid i try access
    mkdir -p "$dir"
    access="access_log $dir/access.log;"
    [[ $ACCESS_LOG == on ]] || access="access_log off;"
    for try in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    $access
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    upstream backend {
        server $upstream;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
        # -e: the error log before the config is read (not /var/log/nginx).
        "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
        pid=$!
        STARTED+=("$pid")
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            if port_in_use "$port"; then
                ADDR[$name]=127.0.0.1:$port
                ROOTS[$name]=$pid
                LOGS[$name]=$dir/access.log
                return 0
            fi
            sleep 0.1
        done
        stop_pids "$pid"
        log "nginx did not start on port $port (try $try)"
        show_log "$dir/error.log"
    done
    die "nginx did not start"
}

# ---- measurements -----------------------------------------------------------

HZ=$(getconf CLK_TCK)

ticks() { # pids... -> utime + stime, summed
    local p
    for p; do cat "/proc/$p/stat" 2>/dev/null || true; done |
        awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); t += f[12] + f[13] } END { print t + 0 }'
}

hwm_kb() { # pids... -> VmHWM, summed (kB)
    local p
    for p; do cat "/proc/$p/status" 2>/dev/null || true; done |
        awk '/^VmHWM:/ { s += $2 } END { print s + 0 }'
}

rss_kb() { # pids... -> VmRSS, summed (kB)
    local p
    for p; do cat "/proc/$p/status" 2>/dev/null || true; done |
        awk '/^VmRSS:/ { s += $2 } END { print s + 0 }'
}

server_pids() { # NAME -> every pid of its trees
    local r all=()
    for r in ${ROOTS[$1]}; do
        kill -0 "$r" 2>/dev/null || die "$1: process $r is gone"
        # shellcheck disable=SC2207
        all+=($(tree_pids "$r"))
    done
    echo "${all[@]}"
}

# Counters "hits misses [dropped]" of servers that have a token cache (the
# gateway adds the log lines its lossy log writer dropped).
cache_counts() {
    local name=$1 lines i
    case "$name" in
    layers*)
        lines=$(wc -l <"$TMP/$name.out")
        kill -USR1 "${ROOTS[$name]}"
        for ((i = 0; i < 50; i++)); do
            (($(wc -l <"$TMP/$name.out") > lines)) && break
            sleep 0.02
        done
        tail -n 1 "$TMP/$name.out" | sed -n 's/^cache hits=\([0-9]*\) misses=\([0-9]*\).*/\1 \2/p'
        ;;
    gateway-*)
        curl -sf "http://${ADDR[$name]}/metrics" | awk '
            /^glue_gateway_token_cache_hits_total / { h = $2 }
            /^glue_gateway_token_cache_misses_total / { m = $2 }
            /^glue_gateway_log_lines_dropped_total / { d = $2 }
            END { printf "%d %d %d\n", h, m, d }'
        ;;
    esac
}

WRK_LUA=$TMP/tokens.lua
cat >"$WRK_LUA" <<'EOF'
-- A different token per request, in turn, from the file named after `--`.
local tokens, n, i = {}, 0, 0
function init(args)
    for line in io.lines(args[1]) do
        n = n + 1
        tokens[n] = "Bearer " .. line
    end
    if n == 0 then error("no tokens in " .. args[1]) end
end
function request()
    i = i % n + 1
    wrk.headers["Authorization"] = tokens[i]
    return wrk.format()
end
EOF

# wrk_run SECONDS NAME TOKENMODE OUT
wrk_run() {
    local secs=$1 name=$2 tmode=$3 out=$4 url
    url="http://${ADDR[$name]}/picking-lists"
    # In the background and waited for: a signal to this script is handled
    # at once (bash runs traps only between commands), and kills wrk too.
    if [[ $tmode == one ]]; then
        wrk -t1 -c"$CONNS" -d"${secs}s" --latency -H "Accept: application/vnd.api+json" \
            -H "Authorization: Bearer $TOKEN" "$url" >"$out" 2>&1 &
    else
        wrk -t1 -c"$CONNS" -d"${secs}s" --latency -H "Accept: application/vnd.api+json" \
            -s "$WRK_LUA" "$url" -- "$TMP/tokens.txt" >"$out" 2>&1 &
    fi
    WRK_PID=$!
    wait "$WRK_PID" || true
    WRK_PID=""
    if ! grep -q 'requests in' "$out" || grep -Eq 'Non-2xx|Socket errors' "$out"; then
        cat "$out" >&2
        show_log "${LOGS[$name]}"
        die "$name ($tmode token mode): wrk reported errors or answers other than 2xx/3xx"
    fi
}

to_us() { # wrk duration (127.00us, 1.92ms, 1.01s, 2.00m) -> microseconds
    awk -v d="$1" 'BEGIN {
        v = d + 0; u = d; sub(/^[0-9.]+/, "", u)
        if (u == "us") m = 1; else if (u == "ms") m = 1e3; else if (u == "s") m = 1e6; else if (u == "m") m = 6e7; else m = -1
        if (m < 0) print "nan"; else printf "%.1f", v * m }'
}

fmt_us() { # microseconds -> "127 µs" / "1.92 ms"
    awk -v u="$1" 'BEGIN { if (u == "nan") print "?"; else if (u < 1000) printf "%.0f µs", u; else printf "%.2f ms", u / 1000 }'
}

# Results: R[mode|server|round|field]; fields rps p50 p99 cpu rss hit.
declare -A R=()

# measure MODE SERVER ROUND
measure() {
    local tmode=$1 name=$2 round=$3 pids t0 t1 out=$TMP/wrk.txt c0 c1 hit="—"
    pids=$(server_pids "$name")
    if ((WARMUP > 0)); then wrk_run "$WARMUP" "$name" "$tmode" "$out"; fi
    c0=$(cache_counts "$name")
    # shellcheck disable=SC2086
    t0=$(ticks $pids)
    wrk_run "$DURATION" "$name" "$tmode" "$out"
    # shellcheck disable=SC2086
    t1=$(ticks $pids)
    c1=$(cache_counts "$name")
    # shellcheck disable=SC2086
    R[$tmode|$name|$round|rss]=$(hwm_kb $pids)
    local requests rps p50 p99
    requests=$(awk '/requests in/ { print $1 }' "$out")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    ((requests > 0)) || die "$name: no requests"
    R[$tmode|$name|$round|rps]=$rps
    R[$tmode|$name|$round|p50]=$(to_us "$p50")
    R[$tmode|$name|$round|p99]=$(to_us "$p99")
    R[$tmode|$name|$round|cpu]=$(awk -v d="$((t1 - t0))" -v hz="$HZ" -v n="$requests" 'BEGIN { printf "%.3f", d * 1e6 / hz / n }')
    if [[ -n $c0 && -n $c1 ]]; then
        hit=$(awk -v a="$c0" -v b="$c1" 'BEGIN {
            split(a, x, " "); split(b, y, " "); h = y[1] - x[1]; m = y[2] - x[2]
            if (h + m > 0) printf "%.1f %%", 100 * h / (h + m); else print "—" }')
        R[$tmode|$name|$round|dropped]=$(awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " "); print y[3] - x[3] }')
    fi
    R[$tmode|$name|$round|hit]=$hit
    # Keep the access logs from filling the disk: the measured run is over.
    [[ -n ${LOGS[$name]:-} && -f ${LOGS[$name]} ]] && : >"${LOGS[$name]}"
    log "$tmode token(s), round $round, $name: ${rps} req/s, ${R[$tmode|$name|$round|cpu]} µs CPU/request, hits $hit"
}

# ---- correctness checks -----------------------------------------------------

BARE_BODY='{"data":[{"type":"picking-lists","id":"a3c1e5b0-3f4d-5e6a-9b7c-000000000001","attributes":{"status":"ready-for-picking"}}]}'

# check NAME TOKEN EXPECTED_STATUS [BODY_PATTERN]
check() {
    local name=$1 token=$2 want=$3 pattern=${4:-} status
    status=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 10 \
        -H "Accept: application/vnd.api+json" -H "Authorization: Bearer $token" \
        "http://${ADDR[$name]}/picking-lists" || true)
    if [[ $status != "$want" ]]; then
        head -c 600 "$TMP/body" >&2 || true
        echo >&2
        show_log "${LOGS[$name]:-/dev/null}"
        die "$name answered $status instead of $want"
    fi
    if [[ -n $pattern ]] && ! grep -Fq -- "$pattern" "$TMP/body"; then
        head -c 600 "$TMP/body" >&2
        echo >&2
        die "$name: the $status answer lacks $pattern"
    fi
}

check_servers() {
    local name at=$((${#TOKEN} - 20)) c forged
    # One character of the signature changed (not the last: its low bits are
    # padding): a well-formed token with a wrong signature.
    c=${TOKEN:at:1}
    [[ $c == A ]] && c=B || c=A
    forged=${TOKEN:0:at}$c${TOKEN:at+1}
    for name in "${SERVERS[@]}"; do
        case "$name" in
        gateway-demo) check "$name" "$TOKEN" 200 '"type":"picking-lists"' ;;
        *) check "$name" "$TOKEN" 200 "$BARE_BODY" ;;
        esac
        case "$name" in
        layers* | gateway-* | jwt-authorizer) check "$name" "$forged" 401 ;;
        esac
    done
    for name in upstream-g upstream-b upstream-h upstream-n; do
        if [[ -n ${ADDR[$name]:-} ]]; then check "$name" "$TOKEN" 200 "$BARE_BODY"; fi
    done
    if [[ -n ${ADDR[jwt-authorizer-registered]:-} ]]; then
        local s
        s=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
            "http://${ADDR[jwt-authorizer-registered]}/picking-lists" || true)
        JA_REGISTERED_STATUS=$s
        log "jwt-authorizer with its own RegisteredClaims (i64 dates) answers a Spryker token (float dates) with $s"
    fi
    log "checks passed: every server answers 200 to a valid token, the validating ones 401 to a forged one"
}

# ---- servers ----------------------------------------------------------------

gateway() { # gateway NAME [extra flags...]: the gateway with a clean environment
    local name=$1 log_flags=()
    shift
    mkdir -p "$TMP/$name-data"
    # The access log is the info events of target glue_gateway::access.
    [[ $ACCESS_LOG == on ]] || log_flags=(--log 'info,glue_gateway::access=off')
    # env -i: no RUST_LOG, DATABASE_URL, PRIVATE_KEY_PATH, GLUE_GATEWAY_* from
    # the caller; the settings are the flags below and the defaults.
    start "$name" '^glue-gateway ready$' env -i PATH="$PATH" "$GW" \
        --listen 127.0.0.1:0 --private-key-path "$KEY" --database-url memory: \
        --data-dir "$TMP/$name-data" "${log_flags[@]}" "$@"
}

start_servers() { # TOKENMODE
    local tmode=$1 cache=() gw_cache=()
    if [[ $tmode == many ]]; then
        cache=(--cache-capacity "$MISS_CACHE_CAPACITY")
        gw_cache=(--token-cache-capacity "$MISS_CACHE_CAPACITY")
    fi
    if selected bare; then start bare 'listening' "$LT" bare 0; fi
    if selected layers; then start layers 'listening' "$LT" layers 0 --key "$KEY" "${cache[@]}"; fi
    if [[ -n $LAYERS_BASELINE ]]; then
        start layers-baseline 'listening' "$LAYERS_BASELINE" layers 0 --key "$KEY" "${cache[@]}"
    fi
    if selected gateway-demo; then gateway gateway-demo "${gw_cache[@]}"; fi
    if selected gateway-proxy; then
        start upstream-g 'listening' "$LT" bare 0
        gateway gateway-proxy --upstream "http://${ADDR[upstream-g]}" "${gw_cache[@]}"
        ROOTS[gateway-proxy]+=" ${ROOTS[upstream-g]}"
    fi
    if [[ -n $GATEWAY_BASELINE ]]; then
        start upstream-b 'listening' "$LT" bare 0
        GW=$GATEWAY_BASELINE gateway gateway-proxy-baseline --upstream "http://${ADDR[upstream-b]}" "${gw_cache[@]}"
        ROOTS[gateway-proxy-baseline]+=" ${ROOTS[upstream-b]}"
    fi
    if selected hyper-proxy; then
        start upstream-h 'listening' "$LT" bare 0
        start hyper-proxy 'listening' "$LT" proxy "http://${ADDR[upstream-h]}"
        ROOTS[hyper-proxy]+=" ${ROOTS[upstream-h]}"
    fi
    if selected nginx-proxy; then
        start upstream-n 'listening' "$LT" bare 0
        start_nginx nginx-proxy "${ADDR[upstream-n]}"
        ROOTS[nginx-proxy]+=" ${ROOTS[upstream-n]}"
    fi
    if ((use_jwt_authorizer)); then
        start jwt-authorizer 'listening' "$JA" --public-key "$TMP/public.pem"
        if [[ $tmode == one ]]; then
            start jwt-authorizer-registered 'listening' "$JA" --public-key "$TMP/public.pem" --claims registered
        fi
    fi
}

SERVERS=()
for name in bare layers gateway-demo gateway-proxy; do
    if selected $name; then SERVERS+=("$name"); fi
done
[[ -n $LAYERS_BASELINE ]] && SERVERS+=(layers-baseline)
[[ -n $GATEWAY_BASELINE ]] && SERVERS+=(gateway-proxy-baseline)
if selected hyper-proxy; then SERVERS+=(hyper-proxy); fi
if selected nginx-proxy; then SERVERS+=(nginx-proxy); fi
((use_jwt_authorizer)) && SERVERS+=(jwt-authorizer)
((${#SERVERS[@]})) || die "no server to measure"

# ---- report -----------------------------------------------------------------

median() { # numbers... -> median
    printf '%s\n' "$@" | grep -v '^nan$' | sort -g | awk '{ v[++n] = $1 } END {
        if (n == 0) print "nan"; else if (n % 2) print v[(n + 1) / 2]; else print (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

fmt_rss() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

values() { # TOKENMODE SERVER FIELD -> the per-round values
    local r
    for ((r = 1; r <= ROUNDS; r++)); do echo "${R[$1|$2|$r|$3]}"; done
}

report_tables() { # TOKENMODE TITLE
    local tmode=$1 title=$2 r name
    echo
    echo "### $title"
    echo
    echo "| round | server | requests/s | p50 | p99 | CPU µs/request | peak RSS | cache hits |"
    echo "|---|---|---|---|---|---|---|---|"
    for ((r = 1; r <= ROUNDS; r++)); do
        for name in "${SERVERS[@]}"; do
            printf '| %s | %s | %s | %s | %s | %.2f | %s | %s |\n' "$r" "$name" \
                "${R[$tmode|$name|$r|rps]}" "$(fmt_us "${R[$tmode|$name|$r|p50]}")" \
                "$(fmt_us "${R[$tmode|$name|$r|p99]}")" "${R[$tmode|$name|$r|cpu]}" \
                "$(fmt_rss "${R[$tmode|$name|$r|rss]}")" "${R[$tmode|$name|$r|hit]}"
        done
    done
    local dropped=""
    for ((r = 1; r <= ROUNDS; r++)); do
        for name in "${SERVERS[@]}"; do
            [[ $name == gateway-* ]] && dropped+=" ${R[$tmode|$name|$r|dropped]:-0}"
        done
    done
    if [[ $ACCESS_LOG == on ]]; then
        echo
        echo "Access log lines the gateways dropped (lossy log writer, \`glue_gateway_log_lines_dropped_total\`) per measured run, gateway rows ($(printf '%s\n' "${SERVERS[@]}" | grep '^gateway-' | paste -sd/)) by round:$dropped."
    fi
    echo
    echo "Median over $ROUNDS round(s):"
    echo
    echo "| server | requests/s | p50 | p99 | CPU µs/request | peak RSS |"
    echo "|---|---|---|---|---|---|"
    for name in "${SERVERS[@]}"; do
        # shellcheck disable=SC2046
        printf '| %s | %.0f | %s | %s | %.2f | %s |\n' "$name" \
            "$(median $(values "$tmode" "$name" rps))" \
            "$(fmt_us "$(median $(values "$tmode" "$name" p50))")" \
            "$(fmt_us "$(median $(values "$tmode" "$name" p99))")" \
            "$(median $(values "$tmode" "$name" cpu))" \
            "$(fmt_rss "$(median $(values "$tmode" "$name" rss))")"
    done
}

# ratio TOKENMODE LABEL OP A B FIELD [TARGET_OP TARGET]: the median over
# rounds of the per-round value (A/B or A-B: the servers of one round ran
# next to each other), with every round's value.
ratio() {
    local tmode=$1 label=$2 op=$3 a=$4 b=$5 field=$6 top=${7:-} target=${8:-} r vals=() v med verdict="" unit=""
    for ((r = 1; r <= ROUNDS; r++)); do
        v=$(awk -v x="${R[$tmode|$a|$r|$field]}" -v y="${R[$tmode|$b|$r|$field]}" -v op="$op" 'BEGIN {
            if (op == "/") { if (y + 0 == 0) print "nan"; else printf "%.3f", x / y } else printf "%.3f", x - y }')
        vals+=("$v")
    done
    med=$(median "${vals[@]}")
    [[ $med == nan ]] || med=$(printf '%.3f' "$med")
    [[ $op == - ]] && unit=" µs"
    if [[ -n $top ]]; then
        verdict=$(awk -v m="$med" -v t="$target" -v op="$top" 'BEGIN {
            if (m == "nan") print "?"; else if ((op == "<=" && m <= t) || (op == ">=" && m >= t)) print "meets"; else print "misses" }')
        verdict="target $top $target$unit: $verdict; "
    fi
    printf -- '- %s: **%s%s** (%srounds: %s)\n' "$label" "$med" "$unit" "$verdict" "${vals[*]}"
}

# The targets: proxy, demo and layers-vs-bare with one token (cache hits),
# layers vs jwt-authorizer with distinct tokens (cache misses); the other
# ratios are shown without a target.
report_ratios() { # TOKENMODE
    local tmode=$1 t1=() t2=() t3=() t4=() t5=()
    if [[ $tmode == one ]]; then
        t1=('<=' 1) t2=('>=' 1) t3=('<=' 2) t4=('<=' 0.5)
    else
        t5=('<=' 1)
    fi
    if measured gateway-proxy nginx-proxy; then
        ratio "$tmode" "gateway-proxy CPU / nginx-proxy CPU (each with its upstream)" / gateway-proxy nginx-proxy cpu "${t1[@]}"
        ratio "$tmode" "gateway-proxy requests/s / nginx-proxy requests/s" / gateway-proxy nginx-proxy rps "${t2[@]}"
    fi
    if measured gateway-proxy-baseline nginx-proxy; then
        ratio "$tmode" "gateway-proxy-baseline CPU / nginx-proxy CPU" / gateway-proxy-baseline nginx-proxy cpu "${t1[@]}"
        ratio "$tmode" "gateway-proxy-baseline requests/s / nginx-proxy requests/s" / gateway-proxy-baseline nginx-proxy rps "${t2[@]}"
    fi
    if measured gateway-proxy gateway-proxy-baseline; then
        ratio "$tmode" "gateway-proxy CPU / gateway-proxy-baseline CPU" / gateway-proxy gateway-proxy-baseline cpu
        ratio "$tmode" "gateway-proxy requests/s / gateway-proxy-baseline requests/s" / gateway-proxy gateway-proxy-baseline rps
    fi
    if measured hyper-proxy nginx-proxy; then
        ratio "$tmode" "hyper-proxy CPU / nginx-proxy CPU" / hyper-proxy nginx-proxy cpu
        ratio "$tmode" "hyper-proxy requests/s / nginx-proxy requests/s" / hyper-proxy nginx-proxy rps
    fi
    if measured gateway-proxy hyper-proxy; then
        ratio "$tmode" "gateway-proxy CPU − hyper-proxy CPU" - gateway-proxy hyper-proxy cpu
    fi
    if measured gateway-demo bare; then
        ratio "$tmode" "gateway-demo CPU / bare CPU" / gateway-demo bare cpu "${t3[@]}"
    fi
    if measured layers bare; then
        ratio "$tmode" "layers CPU − bare CPU" - layers bare cpu "${t4[@]}"
    fi
    if measured layers-baseline bare; then
        ratio "$tmode" "layers-baseline CPU − bare CPU" - layers-baseline bare cpu "${t4[@]}"
    fi
    if measured layers layers-baseline; then
        ratio "$tmode" "layers CPU − layers-baseline CPU" - layers layers-baseline cpu
    fi
    if measured layers jwt-authorizer; then
        ratio "$tmode" "layers CPU / jwt-authorizer CPU" / layers jwt-authorizer cpu "${t5[@]}"
    fi
}

measured() { # NAMES...: true when every one is a measured row
    local name
    for name; do [[ " ${SERVERS[*]} " == *" $name "* ]] || return 1; done
}

machine_facts() {
    local cpu
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    echo "Machine: $(nproc) CPUs ($cpu), Linux $(uname -r), $(awk '/^MemTotal:/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo), load average at start ${LOAD_AT_START}."
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)'); profile $PROFILE."
    local tools
    tools="$(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }' || true)"
    [[ -x $NGINX ]] && tools+=", $("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
    echo "Tools: $tools."
}
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- modes ------------------------------------------------------------------

"$LT" public-key --key "$KEY" >"$TMP/public.pem"

million() {
    local capacity="$TOKEN_CACHE_CAPACITY" flags=() start_rss peak=0 rss end_rss hwm flood_status
    if [[ -n $capacity ]]; then
        flags=(--token-cache-capacity "$capacity")
    else
        # The gateway's own default, as its --help states it.
        capacity=$("$GW" --help | awk '/--token-cache-capacity/ { f = 1 } f && /Default/ { match($0, /Default [0-9]+/); print substr($0, RSTART + 8, RLENGTH - 8); exit }')
        capacity="${capacity:-?} (the gateway's default)"
    fi
    gateway gateway-demo "${flags[@]}"
    TOKEN=$("$LT" mint 1 --key "$KEY")
    check gateway-demo "$TOKEN" 200 '"type":"picking-lists"'
    local gpid=${ROOTS[gateway-demo]}
    start_rss=$(rss_kb "$gpid")
    log "flood: $MILLION distinct tokens through gateway-demo (pid $gpid), RSS sampled every second"
    "$LT" flood "http://${ADDR[gateway-demo]}/picking-lists" "$MILLION" --key "$KEY" \
        --concurrency "$FLOOD_CONCURRENCY" >"$TMP/flood.out" 2>"$TMP/flood.err" &
    FLOOD_PID=$!
    echo
    echo "### $MILLION distinct tokens through gateway-demo"
    echo
    echo "| s | gateway RSS | flood |"
    echo "|---|---|---|"
    local t0=$SECONDS next=0
    while kill -0 "$FLOOD_PID" 2>/dev/null; do
        kill -0 "$gpid" 2>/dev/null || die "the gateway exited during the flood"
        rss=$(rss_kb "$gpid")
        ((rss > peak)) && peak=$rss
        if ((SECONDS - t0 >= next)); then
            echo "| $((SECONDS - t0)) | $(fmt_rss "$rss") | $(tail -n 1 "$TMP/flood.err" 2>/dev/null | sed 's/^flood: //') |"
            next=$((next + 10))
        fi
        # Keep the access log from filling the disk (1M lines).
        : >"${LOGS[gateway-demo]}"
        sleep 1
    done
    flood_status=0
    wait "$FLOOD_PID" || flood_status=$?
    FLOOD_PID=""
    if ((flood_status != 0)); then
        cat "$TMP/flood.err" >&2
        die "flood failed (exit $flood_status)"
    fi
    kill -0 "$gpid" 2>/dev/null || die "the gateway exited"
    end_rss=$(rss_kb "$gpid")
    hwm=$(hwm_kb "$gpid")
    ((hwm > peak)) && peak=$hwm
    local stats
    stats=$(curl -sf "http://${ADDR[gateway-demo]}/metrics" | awk '
        /^glue_gateway_token_cache_hits_total / { h = $2 }
        /^glue_gateway_token_cache_misses_total / { m = $2 }
        /^glue_gateway_token_cache_entries / { e = $2 }
        /^glue_gateway_log_lines_dropped_total / { d = $2 }
        END { printf "hits %d, misses %d, entries %d; access log lines dropped %d", h, m, e, d }')
    echo
    cat "$TMP/flood.out"
    echo
    echo "| configured cache capacity | start RSS | peak RSS (VmHWM) | end RSS | cache counters at the end |"
    echo "|---|---|---|---|---|"
    echo "| $capacity | $(fmt_rss "$start_rss") | $(fmt_rss "$peak") | $(fmt_rss "$end_rss") | $stats |"
    echo
    echo "Peak − start: $(fmt_rss $((peak - start_rss))); the gateway answered every request 2xx and is still running."
}

echo "## glue-auth benchmark ($MODE)"
echo
echo "Command: \`$COMMAND\`"
echo
machine_facts
if [[ $ACCESS_LOG == on ]]; then
    echo "Logging: gateway at its default level (\`info\`: access log on, one line per request, stderr to a file); nginx \`access_log\` on (combined format, to a file)."
else
    echo "Logging: gateway \`--log info,glue_gateway::access=off\` (access log off); nginx \`access_log off\`."
fi

if [[ $MODE == million ]]; then
    million
    exit 0
fi

echo "Load: wrk -t1 -c$CONNS, $ROUNDS round(s) × ${DURATION} s per server and token mode after ${WARMUP} s of warm-up; servers in rotating order per round."
[[ $MODE == smoke ]] && echo "Smoke run: correctness checks; the numbers below mean nothing."

"$LT" mint "$TOKENS" --key "$KEY" >"$TMP/tokens.txt"
[[ $(sort -u "$TMP/tokens.txt" | wc -l) -eq $TOKENS ]] || die "mint did not print $TOKENS distinct tokens"
TOKEN=$(head -n 1 "$TMP/tokens.txt")
JA_REGISTERED_STATUS=""

for tmode in $TOKEN_MODES; do
    log "starting the servers (${tmode} token mode)"
    start_servers "$tmode"
    check_servers
    if [[ $tmode == many ]]; then
        # Every token of the file must be accepted (sampled: first, middle, last).
        for line in 1 $(((TOKENS + 1) / 2)) "$TOKENS"; do
            t=$(sed -n "${line}p" "$TMP/tokens.txt")
            for name in "${SERVERS[@]}"; do
                [[ $name == gateway-demo ]] && pattern='"type":"picking-lists"' || pattern=$BARE_BODY
                check "$name" "$t" 200 "$pattern"
            done
        done
    fi
    n=${#SERVERS[@]}
    for ((round = 1; round <= ROUNDS; round++)); do
        for ((k = 0; k < n; k++)); do
            measure "$tmode" "${SERVERS[$(((k + round - 1) % n))]}" "$round"
        done
    done
    stop_all
    ADDR=() ROOTS=() LOGS=()
done

if [[ " $TOKEN_MODES " == *" one "* ]]; then
    report_tables one "One token, repeated"
    echo
    report_ratios one
fi
if [[ " $TOKEN_MODES " == *" many "* ]]; then
    report_tables many "$TOKENS distinct tokens, one per request in turn (token cache of layers and gateway: $MISS_CACHE_CAPACITY entries)"
    echo
    report_ratios many
fi
if [[ $MODE == smoke ]]; then
    # The million mode's path, small: distinct tokens signed and sent by the
    # load target's flood client, the gateway's RSS sampled.
    million
fi
if [[ -n $JA_REGISTERED_STATUS ]]; then
    echo
    echo "jwt-authorizer with its default claims type (\`RegisteredClaims\`, i64 dates) answers a Spryker token (float dates) with **$JA_REGISTERED_STATUS**; the row above uses a claims struct with f64 dates."
fi
