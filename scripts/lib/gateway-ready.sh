# Sourced by scripts that start the release gateway in the background
# (soak.sh, schemathesis.sh).
#
# gateway_wait_ready PID STDOUT STDERR: waits (60 s at most) for the
# gateway's `glue-gateway ready` line on STDOUT; on success sets
# GATEWAY_BASE to the `http://ADDR` it printed, otherwise prints both logs
# and exits 1 (also when the process ended before it was ready).
gateway_wait_ready() {
    local pid=$1 out=$2 err=$3 _
    for _ in $(seq 1 600); do
        grep -qx 'glue-gateway ready' "$out" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -qx 'glue-gateway ready' "$out" 2>/dev/null; then
        echo "the gateway (pid $pid) did not start" >&2
        cat "$out" "$err" >&2
        exit 1
    fi
    GATEWAY_BASE=$(sed -n 's|^glue-gateway listening on \(http://.*\)$|\1|p' "$out" | head -n 1)
}
