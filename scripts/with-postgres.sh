#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server:
#
#   scripts/with-postgres.sh cargo test -p glue-auth-sql
#
# - installs Debian's `postgresql` package (apt-get) when no initdb/pg_ctl is
#   found, without creating or starting the distribution's default cluster;
# - creates a cluster in a fresh temporary directory, owned by an ordinary
#   user (initdb refuses root: as root it runs as `postgres` if that user
#   exists, else as a system user `glueci`, created with useradd);
# - starts it on a free port, listening on 127.0.0.1 only, with its unix
#   socket in the temporary directory, trust authentication, durability off
#   (fsync=off: it is thrown away);
# - runs the command with these variables exported:
#     DATABASE_URL, GLUE_TEST_DATABASE_URL  postgres://postgres@127.0.0.1:PORT/postgres
#     PGHOST, PGPORT, PGUSER                 for psql
#     PGDATA                                 the cluster directory
#     GLUE_PG_BIN                            directory of pg_ctl/initdb/postgres
#     GLUE_PG_USER                           the user the server runs as
#                                            (empty: the current user)
#     GLUE_PG_LOG                            the server log
#   (the fault tests stop and restart the server with
#   `[runuser -u $GLUE_PG_USER --] $GLUE_PG_BIN/pg_ctl -D $PGDATA ...`);
# - runs the command in the background, in its own process group, and waits
#   for it, so that INT and TERM are handled at once: the command's process
#   group gets the same signal (KILL after 10 s), then the cleanup runs and
#   the script exits with 130 (INT) or 143 (TERM). The command must not
#   read the terminal (it is a background job);
# - stops the server and deletes the directory on exit, whatever happens,
#   and exits with the command's status.
#
# Not root: installing needs `sudo` without a password prompt (`sudo -n`);
# otherwise it fails at once, naming the command.
#
# With GLUE_TEST_DATABASE_URL already set, it runs the command unchanged
# (use your own server).
set -euo pipefail
# Files written here (the server's configuration, logs) must be readable by
# the server user, whatever the caller's umask; the command gets the
# caller's.
caller_umask=$(umask)
umask 022

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

if [[ -n "${GLUE_TEST_DATABASE_URL:-}" ]]; then
    echo "with-postgres: GLUE_TEST_DATABASE_URL is set; using that server" >&2
    exec "$@"
fi

log() { echo "with-postgres: $*" >&2; }

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

find_bindir() {
    local d
    # Debian/Ubuntu: newest major version first.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            echo "$d"
            return 0
        fi
    done
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    return 1
}

BIN=$(find_bindir || true)
if [[ -z "$BIN" ]]; then
    log "PostgreSQL not found; installing Debian's postgresql package"
    # No default cluster: we make our own, and nothing should listen on 5432.
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        as_root mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    # Wait (up to 5 min) for another apt/dpkg run to release its lock.
    apt_opts=(-o DPkg::Lock::Timeout=300)
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends postgresql >/dev/null
    BIN=$(find_bindir || true)
    if [[ -z "$BIN" ]]; then
        log "postgresql installed, but no initdb/pg_ctl found"
        exit 1
    fi
fi

# The user the server runs as.
RUN_AS=""
if [[ $(id -u) -eq 0 ]]; then
    if id postgres >/dev/null 2>&1; then
        RUN_AS=postgres
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

TMP=$(mktemp -d "${TMPDIR:-/tmp}/glue-pg.XXXXXX")
chmod 755 "$TMP"
[[ -n "$RUN_AS" ]] && chown "$RUN_AS" "$TMP"
DATA="$TMP/data"
PGLOG="$TMP/server.log"

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

cleanup() {
    local status=$?
    trap '' INT TERM
    stop_child TERM
    if [[ -f "$DATA/postmaster.pid" ]]; then
        as_user "$BIN/pg_ctl" -D "$DATA" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'stop_child INT; exit 130' INT
trap 'stop_child TERM; exit 143' TERM

as_user "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$TMP/initdb.log" 2>&1 || {
    cat "$TMP/initdb.log" >&2
    exit 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

started=""
for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    port_in_use "$PORT" && continue
    # Written by the server user: it must be able to read it.
    as_user tee "$DATA/postgresql.auto.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$TMP'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
log_min_messages = warning
EOF
    if as_user "$BIN/pg_ctl" -D "$DATA" -l "$PGLOG" -w -t 30 start >/dev/null 2>&1; then
        started=yes
        break
    fi
done
if [[ -z "$started" ]]; then
    log "could not start PostgreSQL; server log:"
    cat "$PGLOG" >&2 || true
    exit 1
fi

export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
export GLUE_TEST_DATABASE_URL="$DATABASE_URL"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres
export PGDATA="$DATA" GLUE_PG_BIN="$BIN" GLUE_PG_USER="$RUN_AS" GLUE_PG_LOG="$PGLOG"
log "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($DATA)"

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
