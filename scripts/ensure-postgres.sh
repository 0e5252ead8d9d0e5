#!/usr/bin/env bash
# Makes sure a private, throwaway PostgreSQL cluster for the tests answers on 127.0.0.1, installing Debian's
# postgresql and creating the cluster when needed. Idempotent: does nothing but check when it already answers.
# Never touches the machine's own clusters (pg_lsclusters): this one lives in its own directory, on its own port.
#
#   ./scripts/ensure-postgres.sh         start (or check); prints the path of the file holding the connection string
#   ./scripts/ensure-postgres.sh stop    stops the cluster (its data stays for the next start)
#
#   PYTHON_PG_DIR        the cluster's directory (default /tmp/pyth-on-postgres): data/, socket/, postgres.log, connection
#   PYTHON_PG_PORT       its TCP port on 127.0.0.1 (default 55432)
#   PYTHON_PG_WAIT_SECS  how long to wait for it to accept connections (default 60)
#
# The cluster runs as a non-root user (the `postgres` account of the Debian package when started by root, else the
# caller), listens on 127.0.0.1 and a socket in its directory only, and asks every client for a password (SCRAM).
# The superuser `pythontest` with a random password is the one role; the connection string (an Npgsql one, for the
# tests) is written to $PYTHON_PG_DIR/connection, mode 0600. Durability is off: it is a test cluster.
set -euo pipefail

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

PG_DIR="${PYTHON_PG_DIR:-/tmp/pyth-on-postgres}"
PG_PORT="${PYTHON_PG_PORT:-55432}"
PG_WAIT_SECS="${PYTHON_PG_WAIT_SECS:-60}"
DATA="$PG_DIR/data"
SOCKET="$PG_DIR/socket"
LOG="$PG_DIR/postgres.log"
CONNECTION="$PG_DIR/connection"
ROLE=pythontest

mode="${1:-start}"
case "$mode" in start|stop) ;; *) fail "usage: $0 [start|stop]" ;; esac

# The newest installed server binaries (Debian keeps them out of PATH, under /usr/lib/postgresql/<major>/bin).
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# The cluster's owner: postgres refuses to run as root.
if [ "$(id -u)" -eq 0 ]; then OWNER=postgres; else OWNER="$(id -un)"; fi
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$OWNER" -- "$@"; else "$@"; fi
}

answers() { [ -n "${BIN:-}" ] && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }

if [ "$mode" = stop ]; then
  BIN="$(pg_bin)"
  if [ -n "$BIN" ] && [ -f "$DATA/postmaster.pid" ]; then
    log "stopping the cluster in $DATA"
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w -t "$PG_WAIT_SECS" stop >/dev/null
  else
    log "no cluster running in $DATA"
  fi
  exit 0
fi

if [ -z "$(pg_bin)" ]; then
  [ "$(id -u)" -eq 0 ] || fail "need root to install: postgresql"
  log "installing: postgresql"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
BIN="$(pg_bin)"
[ -n "$BIN" ] || fail "postgresql is installed but no /usr/lib/postgresql/*/bin was found"

if [ ! -f "$DATA/PG_VERSION" ]; then
  log "creating a test cluster in $DATA (port $PG_PORT, $("$BIN/postgres" --version))"
  # Only what this script made goes: never the whole of a directory someone named in PYTHON_PG_DIR.
  rm -rf "$DATA" "$SOCKET" "$CONNECTION"
  mkdir -p "$DATA" "$SOCKET"
  password="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s\n' "$password" >"$PG_DIR/password"
  chown -R "$OWNER" "$PG_DIR"
  chmod 0700 "$PG_DIR" "$DATA"
  as_owner "$BIN/initdb" -D "$DATA" -U "$ROLE" --pwfile="$PG_DIR/password" -E UTF8 --locale=C.UTF-8 \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 \
    || { tail -n 20 "$PG_DIR/initdb.log" >&2; fail "initdb failed; see $PG_DIR/initdb.log"; }
  rm -f "$PG_DIR/password"
  # Loopback and the private socket only; no durability (a throwaway cluster: faster on a shared machine);
  # room for many per-class test databases, each with its own pool.
  cat >>"$DATA/postgresql.conf" <<EOF

# scripts/ensure-postgres.sh
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCKET'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  umask 077
  printf 'Host=127.0.0.1;Port=%s;Username=%s;Password=%s;Database=postgres\n' "$PG_PORT" "$ROLE" "$password" >"$CONNECTION"
fi
[ -f "$CONNECTION" ] || fail "$CONNECTION is missing; remove $PG_DIR to create the cluster again"

if answers; then
  # Something answers on the port: it must be this cluster (its pid file names the port), not another server.
  grep -qx "$PG_PORT" <(sed -n 4p "$DATA/postmaster.pid" 2>/dev/null) \
    || fail "port $PG_PORT on 127.0.0.1 is taken by another server; set PYTHON_PG_PORT"
else
  log "starting the cluster (log: $LOG)"
  # -W: no waiting here; the loop below waits, with a deadline, until it accepts connections.
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -W start >/dev/null \
    || { tail -n 20 "$LOG" >&2 || true; fail "pg_ctl start failed; see $LOG"; }
  deadline=$(( $(date +%s) + PG_WAIT_SECS ))
  until answers; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 20 "$LOG" >&2 || true
      fail "PostgreSQL did not accept connections on 127.0.0.1:$PG_PORT within ${PG_WAIT_SECS}s; see $LOG"
    fi
    sleep 0.2
  done
fi

# Accepting connections is not enough: the role and its password must work.
password="$(sed -n 's/.*;Password=\([^;]*\);.*/\1/p' "$CONNECTION")"
PGPASSWORD="$password" "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$ROLE" -d postgres -qtAc 'select 1' >/dev/null \
  || fail "PostgreSQL on 127.0.0.1:$PG_PORT refused $ROLE; remove $PG_DIR to create the cluster again"
log "PostgreSQL answers on 127.0.0.1:$PG_PORT"
echo "$CONNECTION"
