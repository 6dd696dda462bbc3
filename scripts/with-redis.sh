#!/usr/bin/env bash
# Runs a command with a throw-away Redis server:
#
#   scripts/with-redis.sh cargo test -p glue-auth-redis
#
# - installs Debian's `redis-server` package (apt-get) when no redis-server
#   is found, without starting the distribution's service (a temporary
#   /usr/sbin/policy-rc.d refuses it while apt-get runs, unless one exists
#   already);
# - starts a server from a configuration file of its own in a fresh
#   temporary directory: a free port, listening on 127.0.0.1 only, no unix
#   socket, no persistence (no RDB snapshots, no AOF: it is thrown away),
#   a random password (`requirepass`), daemonized with its pid file and log
#   in the directory; as root it runs as `redis` if that user exists, else as
#   a system user `glueci` (created with useradd);
# - runs the command with these variables exported:
#     GLUE_TEST_REDIS_URL   redis://:PASSWORD@127.0.0.1:PORT/0
#     GLUE_REDIS_SERVER     the redis-server binary
#     GLUE_REDIS_CONF       the configuration file: `SERVER CONF` starts the
#                           same server again (it daemonizes)
#     GLUE_REDIS_PID_FILE   the server's pid file
#     GLUE_REDIS_LOG        the server log
#     GLUE_REDIS_USER       the user the server runs as (empty: the current
#                           user)
#   (the fault tests stop the server with `kill -TERM $(cat PID_FILE)`,
#   pause it with `kill -STOP`, and start it again with
#   `[runuser -u $GLUE_REDIS_USER --] $GLUE_REDIS_SERVER $GLUE_REDIS_CONF`);
# - runs the command in the background, in its own process group, and waits
#   for it, so that INT and TERM are handled at once: the command's process
#   group gets the same signal (KILL after 10 s), then the cleanup runs and
#   the script exits with 130 (INT) or 143 (TERM). The command must not
#   read the terminal (it is a background job);
# - stops the server (whichever process the pid file names, so also one the
#   command restarted; a paused one is resumed first) and deletes the
#   directory on exit, whatever happens, and exits with the command's
#   status.
#
# Not root: installing needs `sudo` without a password prompt (`sudo -n`);
# otherwise it fails at once, naming the command.
#
# With GLUE_TEST_REDIS_URL already set, it runs the command unchanged (use
# your own server).
set -euo pipefail
# Files written here (the configuration) must be readable by the server
# user, whatever the caller's umask; the command gets the caller's.
caller_umask=$(umask)
umask 022

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

if [[ -n "${GLUE_TEST_REDIS_URL:-}" ]]; then
    echo "with-redis: GLUE_TEST_REDIS_URL is set; using that server" >&2
    exec "$@"
fi

log() { echo "with-redis: $*" >&2; }

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

find_server() {
    local d
    for d in /usr/bin /usr/sbin /usr/local/bin; do
        if [[ -x "$d/redis-server" ]]; then
            echo "$d/redis-server"
            return 0
        fi
    done
    if command -v redis-server >/dev/null 2>&1; then
        readlink -f "$(command -v redis-server)"
        return 0
    fi
    return 1
}

SERVER=$(find_server || true)
if [[ -z "$SERVER" ]]; then
    log "Redis not found; installing Debian's redis-server package"
    # The package's scripts start the default service through invoke-rc.d
    # (or systemd, which is not running here); a policy-rc.d that exits 101
    # refuses that (we start our own server).
    policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod 755 /usr/sbin/policy-rc.d
        policy=yes
    fi
    # Wait (up to 5 min) for another apt/dpkg run to release its lock.
    apt_opts=(-o DPkg::Lock::Timeout=300)
    installed=yes
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq \
            --no-install-recommends redis-server >/dev/null || installed=""
    if [[ -n "$policy" ]]; then
        as_root rm -f /usr/sbin/policy-rc.d
    fi
    [[ -n "$installed" ]] || exit 1
    SERVER=$(find_server || true)
    if [[ -z "$SERVER" ]]; then
        log "redis-server installed, but not found"
        exit 1
    fi
fi

# The user the server runs as.
RUN_AS=""
if [[ $(id -u) -eq 0 ]]; then
    if id redis >/dev/null 2>&1; then
        RUN_AS=redis
    else
        id glueci >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin glueci
        RUN_AS=glueci
    fi
fi
as_user() {
    if [[ -n "$RUN_AS" ]]; then
        runuser -u "$RUN_AS" -- "$@"
    else
        "$@"
    fi
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/glue-redis.XXXXXX")
chmod 755 "$TMP"
[[ -n "$RUN_AS" ]] && chown "$RUN_AS" "$TMP"
CONF="$TMP/redis.conf"
PIDFILE="$TMP/redis.pid"
SLOG="$TMP/server.log"
PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')

# The command, once started: its pid, which is also its process group.
child=""

# Sends signal $1 to the command's process group and waits for the command
# to end (KILL after 10 s).
stop_child() {
    [[ -n "$child" ]] || return 0
    local pid=$child i
    child=""
    kill -"$1" -- -"$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # Whatever is left of the group (children that ignored the signal).
    kill -KILL -- -"$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Stops the server the pid file names (CONT in case a test paused it, TERM,
# KILL after 10 s).
stop_server() {
    local pid i
    [[ -f "$PIDFILE" ]] || return 0
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap '' INT TERM
    stop_child TERM
    stop_server
    rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'stop_child INT; exit 130' INT
trap 'stop_child TERM; exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Answers PING with the password (no redis-cli needed: RESP over bash's
# /dev/tcp).
pings() {
    local reply
    reply=$(
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'AUTH %s\r\nPING\r\n' "$PASSWORD" >&3
        timeout 2 head -c 12 <&3
    ) 2>/dev/null || return 1
    [[ "$reply" == *PONG* ]]
}

started=""
for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    port_in_use "$PORT" && continue
    # Written by the server user: it must be able to read it.
    as_user tee "$CONF" >/dev/null <<EOF
bind 127.0.0.1
port $PORT
protected-mode yes
requirepass $PASSWORD
daemonize yes
pidfile $PIDFILE
logfile $SLOG
dir $TMP
# Thrown away: no snapshots, no append-only file.
save ""
appendonly no
databases 4
maxmemory 64mb
maxmemory-policy volatile-ttl
EOF
    rm -f "$PIDFILE"
    as_user "$SERVER" "$CONF" </dev/null >/dev/null 2>&1 || true
    for ((i = 0; i < 100; i++)); do
        if pings "$PORT"; then
            started=yes
            break
        fi
        sleep 0.1
    done
    [[ -n "$started" ]] && break
    stop_server
done
if [[ -z "$started" ]]; then
    log "could not start the server; its log:"
    cat "$SLOG" >&2 || true
    exit 1
fi

export GLUE_TEST_REDIS_URL="redis://:$PASSWORD@127.0.0.1:$PORT/0"
export GLUE_REDIS_SERVER="$SERVER" GLUE_REDIS_CONF="$CONF" GLUE_REDIS_PID_FILE="$PIDFILE"
export GLUE_REDIS_LOG="$SLOG" GLUE_REDIS_USER="$RUN_AS"
log "$("$SERVER" --version | awk '{print $1, $2, $3}') on 127.0.0.1:$PORT ($TMP)"

# In the background, in a process group of its own (set -m), so that a trap
# runs as soon as a signal arrives (bash runs traps only between commands,
# and `wait` is interrupted by a signal, a foreground command is not) and can
# signal the whole command, its children included.
umask "$caller_umask"
set -m
"$@" &
child=$!
set +m
set +e
wait "$child"
status=$?
set -e
child=""
exit "$status"
