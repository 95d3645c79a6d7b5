# Start a throw-away PostgreSQL server on 127.0.0.1 (sourced by .ci/run and bench scripts).
# Sets DATABASE_URL. Usage: PGPORT=55432 . .ci/pg.sh
set -e
PGPORT="${PGPORT:-55432}"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$PGBIN" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
PGDATA="${PGDATA:-$(mktemp -d)}"
chown postgres "$PGDATA" 2>/dev/null || true
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
if [ ! -f "$PGDATA/PG_VERSION" ]; then
    run_pg "$PGBIN/initdb -D $PGDATA -U postgres -A trust --no-sync >/dev/null"
fi
run_pg "$PGBIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -w -o \"-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=$PGDATA -c fsync=off -c max_connections=200 -c shared_buffers=${PGSHAREDBUFFERS:-1GB}\" start >/dev/null"
run_pg "$PGBIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -qtc \"SELECT 1 FROM pg_database WHERE datname='mdm'\" | grep -q 1 || $PGBIN/createdb -h 127.0.0.1 -p $PGPORT -U postgres mdm"
export PGBIN PGDATA PGPORT
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/mdm"
echo "PostgreSQL on 127.0.0.1:$PGPORT (data in $PGDATA)"
