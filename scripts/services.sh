#!/usr/bin/env bash
# Start, stop or check the local services: MinIO (S3), PostgreSQL (Airflow's metadata
# database and the Hive metastore) and the Spark engine (the Spark Connect server every task
# runs on, include/engine_server.py). Safe to run twice: a running service is left alone.
#   scripts/services.sh start|stop|status      everything
#   scripts/services.sh start-storage          PostgreSQL and MinIO only (set-up, tests)
#   scripts/services.sh start-engine|stop-engine
set -euo pipefail
. "$(dirname "$0")/env.sh"
. "$(dirname "$0")/lib.sh"

PG_DATA="$LAKEHOUSE_STATE_DIR/pg/data"
PG_LOG="$LAKEHOUSE_STATE_DIR/logs/postgres.log"
MINIO_DATA="$LAKEHOUSE_STATE_DIR/minio/data"
MINIO_LOG="$LAKEHOUSE_STATE_DIR/logs/minio.log"
MINIO_PORT="${LAKEHOUSE_S3_ENDPOINT##*:}"
PG_BIN="$(pg_bindir)"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

minio_up() { curl -fsS -m 2 "$LAKEHOUSE_S3_ENDPOINT/minio/health/live" >/dev/null 2>&1; }
pg_up() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$LAKEHOUSE_PG_PORT" >/dev/null 2>&1; }

# A server on our port that this checkout did not start (another clone's, or one left over
# from a deleted checkout) would be used with the wrong keys or data: refuse, and say so.
ours() { [ -f "$1" ] && kill -0 "$(head -1 "$1")" 2>/dev/null; }
foreign() {
  echo "$1 answers on port $2 but was not started by this checkout ($LAKEHOUSE_STATE_DIR):" \
    "stop it (another clone: its 'scripts/services.sh stop'), or choose another port." >&2
  exit 1
}

start_minio() {
  if minio_up; then
    ours "$LAKEHOUSE_STATE_DIR/minio.pid" || foreign MinIO "$MINIO_PORT"
    step "MinIO already running on $LAKEHOUSE_S3_ENDPOINT"; return
  fi
  mkdir -p "$MINIO_DATA" "$(dirname "$MINIO_LOG")"
  MINIO_ROOT_USER="$LAKEHOUSE_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$LAKEHOUSE_S3_SECRET_KEY" \
    MINIO_BROWSER=on nohup "$LAKEHOUSE_STATE_DIR/bin/minio" server "$MINIO_DATA" \
    --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$LAKEHOUSE_MINIO_CONSOLE_PORT" \
    >>"$MINIO_LOG" 2>&1 &
  echo $! >"$LAKEHOUSE_STATE_DIR/minio.pid"
  wait_for "MinIO on $LAKEHOUSE_S3_ENDPOINT" 60 minio_up || { tail -20 "$MINIO_LOG"; exit 1; }
}

# airflow: Airflow's metadata DB; metastore: the Hive metastore's; airflow_tests: the tests'
# own Airflow (tests/conftest.py), never the demo's
ensure_databases() {
  for db in airflow metastore airflow_tests; do
    PGPASSWORD="$LAKEHOUSE_PG_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$LAKEHOUSE_PG_PORT" -U lakehouse -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 ||
      PGPASSWORD="$LAKEHOUSE_PG_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$LAKEHOUSE_PG_PORT" -U lakehouse -d postgres -qc "CREATE DATABASE $db"
  done
}

start_pg() {
  if pg_up; then
    ours "$PG_DATA/postmaster.pid" || foreign PostgreSQL "$LAKEHOUSE_PG_PORT"
    step "PostgreSQL already running on 127.0.0.1:$LAKEHOUSE_PG_PORT"; ensure_databases; return
  fi
  mkdir -p "$(dirname "$PG_DATA")" "$(dirname "$PG_LOG")"
  if [ "$(id -u)" = 0 ]; then chown postgres "$(dirname "$PG_DATA")"; touch "$PG_LOG"; chown postgres "$PG_LOG"; fi
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    step "initialising a PostgreSQL cluster in $PG_DATA"
    # mktemp creates the file with mode 600; as root, initdb runs as postgres (as_pg), so hand
    # the file to postgres instead of opening it to every user.
    local pwfile; pwfile="$(mktemp)"; printf '%s\n' "$LAKEHOUSE_PG_PASSWORD" >"$pwfile"
    chmod 600 "$pwfile"
    if [ "$(id -u)" = 0 ]; then chown postgres "$pwfile"; fi
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U lakehouse --pwfile="$pwfile" -A scram-sha-256 -E UTF8 >/dev/null ||
      { rm -f "$pwfile"; exit 1; }
    rm -f "$pwfile"
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
    -o "-p $LAKEHOUSE_PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  wait_for "PostgreSQL on 127.0.0.1:$LAKEHOUSE_PG_PORT" 60 pg_up || { tail -20 "$PG_LOG"; exit 1; }
  ensure_databases
}

start_engine() {
  # the server reads the rendered spark-defaults.conf (credentials: mode 600)
  "$LAKEHOUSE_VENV/bin/python" "$LAKEHOUSE_ROOT/scripts/spark_conf.py" >/dev/null
  step "starting the Spark engine (Spark Connect server on 127.0.0.1:$LAKEHOUSE_CONNECT_PORT)"
  "$LAKEHOUSE_VENV/bin/python" -m include.engine_server start ||
    { tail -30 "$LAKEHOUSE_STATE_DIR/logs/spark-connect.log" 2>/dev/null; exit 1; }
  # the metastore client and generated code, warmed while the caller goes on (Airflow starts)
  nohup "$LAKEHOUSE_VENV/bin/python" -m include.engine_server warm \
    >>"$LAKEHOUSE_STATE_DIR/logs/spark-connect-warm.log" 2>&1 </dev/null &
}

stop_engine() {
  "$LAKEHOUSE_VENV/bin/python" -m include.engine_server stop >/dev/null || true
}

stop_all() {
  stop_engine
  if [ -f "$LAKEHOUSE_STATE_DIR/minio.pid" ]; then
    kill "$(cat "$LAKEHOUSE_STATE_DIR/minio.pid")" 2>/dev/null || true
    rm -f "$LAKEHOUSE_STATE_DIR/minio.pid"
  fi
  if [ -f "$PG_DATA/postmaster.pid" ]; then as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null || true; fi
  step "services stopped"
}

case "${1:-status}" in
  start) start_pg; start_minio; "$LAKEHOUSE_VENV/bin/python" -m include.storage ensure-buckets
         start_engine ;;
  start-storage) start_pg; start_minio; "$LAKEHOUSE_VENV/bin/python" -m include.storage ensure-buckets ;;
  start-engine) start_engine ;;
  stop-engine) stop_engine ;;
  start-minio) start_minio ;;
  stop-minio)
    [ -f "$LAKEHOUSE_STATE_DIR/minio.pid" ] && kill "$(cat "$LAKEHOUSE_STATE_DIR/minio.pid")" 2>/dev/null || true
    rm -f "$LAKEHOUSE_STATE_DIR/minio.pid" ;;
  stop) stop_all ;;
  status)
    minio_up && echo "minio: up ($LAKEHOUSE_S3_ENDPOINT)" || echo "minio: down"
    pg_up && echo "postgres: up (127.0.0.1:$LAKEHOUSE_PG_PORT)" || echo "postgres: down"
    "$LAKEHOUSE_VENV/bin/python" -m include.engine_server health 2>/dev/null || true ;;
  *) echo "usage: $0 start|start-storage|start-engine|stop|stop-engine|status" >&2; exit 2 ;;
esac
