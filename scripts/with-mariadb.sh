#!/usr/bin/env bash
# Runs a command with a throw-away MariaDB (or MySQL) server:
#
#   scripts/with-mariadb.sh cargo test -p glue-auth-sql
#
# - installs Debian's `mariadb-server` package (apt-get) when no mariadbd or
#   mysqld is found, without starting the distribution's service (a
#   temporary /usr/sbin/policy-rc.d refuses it while apt-get runs, unless
#   one exists already);
# - creates a data directory in a fresh temporary directory with
#   mariadb-install-db (MySQL: `mysqld --initialize-insecure`), owned by an
#   ordinary user (as root: `mysql` if that user exists, else a system user
#   `glueci`, created with useradd);
# - starts the server as that user from a configuration file of its own
#   (`--defaults-file`: no /etc/mysql file is read) on a free port,
#   listening on 127.0.0.1 only, its socket and pid file in the temporary
#   directory, durability off (it is thrown away), and a server time zone
#   that is deliberately not UTC (+05:30: the store must not depend on it);
# - creates the database `glue` and the user `glue` with a random password
#   (all privileges: the tests create a database each);
# - runs the command with these variables exported:
#     GLUE_TEST_MYSQL_URL    mysql://glue:PASSWORD@127.0.0.1:PORT/glue
#     GLUE_MYSQL_BIN         directory of mariadbd (or mysqld)
#     GLUE_MYSQL_SERVER      the server binary (mariadbd or mysqld)
#     GLUE_MYSQL_DEFAULTS    the configuration file (datadir, port, socket,
#                            pid file, log): `SERVER --defaults-file=...`
#                            starts the same server again
#     GLUE_MYSQL_DATADIR     the data directory
#     GLUE_MYSQL_SOCKET      the unix socket
#     GLUE_MYSQL_PID_FILE    the server's pid file
#     GLUE_MYSQL_LOG         the server log
#     GLUE_MYSQL_USER        the user the server runs as (empty: the
#                            current user)
#   (the fault tests stop the server with `kill -TERM $(cat PID_FILE)` and
#   start it again with `[runuser -u $GLUE_MYSQL_USER --] $GLUE_MYSQL_SERVER
#   --defaults-file=$GLUE_MYSQL_DEFAULTS`);
# - runs the command in the background, in its own process group, and waits
#   for it, so that INT and TERM are handled at once: the command's process
#   group gets the same signal (KILL after 10 s), then the cleanup runs and
#   the script exits with 130 (INT) or 143 (TERM). The command must not
#   read the terminal (it is a background job);
# - stops the server (whichever process the pid file names, so also one the
#   command restarted) and deletes the directory on exit, whatever happens,
#   and exits with the command's status.
#
# Not root: installing needs `sudo` without a password prompt (`sudo -n`);
# otherwise it fails at once, naming the command.
#
# With GLUE_TEST_MYSQL_URL already set, it runs the command unchanged (use
# your own server).
set -euo pipefail
# Files written here (the server's configuration) must be readable by the
# server user, whatever the caller's umask; the command gets the caller's.
caller_umask=$(umask)
umask 022

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

if [[ -n "${GLUE_TEST_MYSQL_URL:-}" ]]; then
    echo "with-mariadb: GLUE_TEST_MYSQL_URL is set; using that server" >&2
    exec "$@"
fi

log() { echo "with-mariadb: $*" >&2; }

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

# The server binary: mariadbd, else mysqld (MariaDB before 10.5, or MySQL).
find_server() {
    local name d
    for name in mariadbd mysqld; do
        for d in /usr/sbin /usr/libexec /usr/local/sbin /usr/local/bin; do
            if [[ -x "$d/$name" ]]; then
                echo "$d/$name"
                return 0
            fi
        done
        if command -v "$name" >/dev/null 2>&1; then
            readlink -f "$(command -v "$name")"
            return 0
        fi
    done
    return 1
}

SERVER=$(find_server || true)
if [[ -z "$SERVER" ]]; then
    log "MariaDB not found; installing Debian's mariadb-server package"
    # The package's scripts start the default service through invoke-rc.d;
    # a policy-rc.d that exits 101 refuses that (we start our own server).
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
            --no-install-recommends mariadb-server mariadb-client >/dev/null || installed=""
    if [[ -n "$policy" ]]; then
        as_root rm -f /usr/sbin/policy-rc.d
    fi
    [[ -n "$installed" ]] || exit 1
    SERVER=$(find_server || true)
    if [[ -z "$SERVER" ]]; then
        log "mariadb-server installed, but no mariadbd/mysqld found"
        exit 1
    fi
fi
BIN=$(dirname "$SERVER")

# The command-line client (for the setup only).
CLIENT=""
for c in mariadb mysql; do
    if command -v "$c" >/dev/null 2>&1; then
        CLIENT=$(command -v "$c")
        break
    fi
done
if [[ -z "$CLIENT" ]]; then
    log "no mariadb/mysql client found (Debian: apt-get install mariadb-client)"
    exit 1
fi

MARIADB=""
if "$SERVER" --version 2>/dev/null | grep -qi mariadb; then
    MARIADB=yes
fi

# The user the server runs as.
RUN_AS=""
if [[ $(id -u) -eq 0 ]]; then
    if id mysql >/dev/null 2>&1; then
        RUN_AS=mysql
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

TMP=$(mktemp -d "${TMPDIR:-/tmp}/glue-mariadb.XXXXXX")
chmod 755 "$TMP"
[[ -n "$RUN_AS" ]] && chown "$RUN_AS" "$TMP"
DATA="$TMP/data"
CNF="$TMP/my.cnf"
SOCK="$TMP/mysqld.sock"
PIDFILE="$TMP/mysqld.pid"
SLOG="$TMP/server.log"
# The server's temporary files in a directory of its own: a starting
# mariadbd deletes every `#sql*` file in its tmpdir, so servers sharing
# /tmp (tests start several at once) delete each other's temporary tables,
# and a concurrent mariadb-install-db then fails ("Could not remove
# temporary table", "Unknown table 'mysql.tmp_user_sys'").
SRVTMP="$TMP/tmp"
as_user mkdir -m 700 "$SRVTMP"

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

# Stops the server the pid file names (TERM, KILL after 20 s).
stop_server() {
    local pid i
    [[ -f "$PIDFILE" ]] || return 0
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 200; i++)); do
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

write_config() {
    # Written by the server user: it must be able to read it.
    as_user tee "$CNF" >/dev/null <<EOF
[mysqld]
datadir = $DATA
socket = $SOCK
pid-file = $PIDFILE
log-error = $SLOG
tmpdir = $SRVTMP
port = $1
bind-address = 127.0.0.1
skip-name-resolve
# Deliberately not UTC: the store must be independent of it.
default-time-zone = '+05:30'
character-set-server = utf8mb4
max_connections = 300
# Thrown away: no durability, small buffers.
skip-log-bin
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
innodb_buffer_pool_size = 64M
innodb_log_file_size = 32M
innodb_use_native_aio = 0
performance_schema = OFF
EOF
}

# The data directory (the port is set again before the start).
write_config 3306
if [[ -n "$MARIADB" ]]; then
    INSTALL_DB=""
    for c in "$BIN/mariadb-install-db" /usr/bin/mariadb-install-db /usr/bin/mysql_install_db "$BIN/mysql_install_db"; do
        if [[ -x "$c" ]]; then
            INSTALL_DB=$c
            break
        fi
    done
    if [[ -z "$INSTALL_DB" ]]; then
        log "mariadb-install-db not found"
        exit 1
    fi
    # root@localhost without a password, reachable through the socket in
    # $TMP only (the TCP listener needs the glue user's password).
    as_user "$INSTALL_DB" --defaults-file="$CNF" --auth-root-authentication-method=normal \
        --skip-test-db >"$TMP/install-db.log" 2>&1 || {
        cat "$TMP/install-db.log" >&2
        [[ -f "$SLOG" ]] && tail -n 30 "$SLOG" >&2
        exit 1
    }
else
    as_user "$SERVER" --defaults-file="$CNF" --initialize-insecure >"$TMP/install-db.log" 2>&1 || {
        cat "$TMP/install-db.log" >&2
        exit 1
    }
fi

started=""
for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    port_in_use "$PORT" && continue
    write_config "$PORT"
    rm -f "$PIDFILE"
    # In a process group of its own (set -m), so that a signal to the
    # script's group does not reach it before the cleanup stops it.
    set -m
    as_user "$SERVER" --defaults-file="$CNF" </dev/null >/dev/null 2>&1 &
    set +m
    disown
    for ((i = 0; i < 300; i++)); do
        if [[ -S "$SOCK" ]] && "$CLIENT" --no-defaults -S "$SOCK" -u root -e 'SELECT 1' >/dev/null 2>&1; then
            started=yes
            break
        fi
        # The server gave up (the port was taken after all, ...).
        [[ -f "$PIDFILE" ]] || ((i < 50)) || break
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

PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$CLIENT" --no-defaults -S "$SOCK" -u root <<EOF
-- root only through the socket in \$TMP.
DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', 'root'@'$(hostname)';
CREATE DATABASE glue;
CREATE USER 'glue'@'127.0.0.1' IDENTIFIED BY '$PASSWORD';
CREATE USER 'glue'@'localhost' IDENTIFIED BY '$PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'glue'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'glue'@'localhost';
EOF

export GLUE_TEST_MYSQL_URL="mysql://glue:$PASSWORD@127.0.0.1:$PORT/glue"
export GLUE_MYSQL_BIN="$BIN" GLUE_MYSQL_SERVER="$SERVER" GLUE_MYSQL_DEFAULTS="$CNF"
export GLUE_MYSQL_DATADIR="$DATA" GLUE_MYSQL_SOCKET="$SOCK" GLUE_MYSQL_PID_FILE="$PIDFILE"
export GLUE_MYSQL_LOG="$SLOG" GLUE_MYSQL_USER="$RUN_AS"
log "$("$SERVER" --version | sed 's/^.*Ver //') on 127.0.0.1:$PORT ($DATA)"

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
