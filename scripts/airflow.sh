#!/usr/bin/env bash
# Run Airflow 3 locally against the real metadata database (PostgreSQL):
# API server (UI + REST + execution API), scheduler (LocalExecutor) and DAG processor.
#   scripts/airflow.sh start|stop|status|wait-dag DAG_ID
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/lib.sh
LOGS="$LAKEHOUSE_STATE_DIR/logs"; mkdir -p "$LOGS" "$AIRFLOW_HOME"
COMPONENTS=(api-server scheduler dag-processor)

api_up() { curl -fsS -m 3 "http://127.0.0.1:$LAKEHOUSE_AIRFLOW_PORT/api/v2/monitor/health" >/dev/null 2>&1; }

start() {
  scripts/services.sh start >/dev/null
  "$LAKEHOUSE_VENV/bin/python" scripts/spark_conf.py >/dev/null
  # The passwords file and the components' logs are created owner-only before Airflow opens
  # them (umask 077), and the ones an earlier run left world-readable are narrowed.
  local private=("$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
  for c in "${COMPONENTS[@]}"; do private+=("$LOGS/airflow-$c.log"); done
  (umask 077 && touch "${private[@]}")
  chmod 600 "${private[@]}"
  # Airflow prints every password it generates to the API server's log: generate them here
  # instead (one per user of SIMPLE_AUTH_MANAGER_USERS missing from the file), so no log
  # ever holds one (issue 31: secrets never printed).
  "$LAKEHOUSE_VENV/bin/python" - "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" \
    "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS" <<'PY'
import json, secrets, sys
path, users = sys.argv[1], [u.split(":")[0].strip() for u in sys.argv[2].split(",") if u.strip()]
text = open(path).read().strip()
passwords = json.loads(text) if text else {}
missing = [u for u in users if u not in passwords]
if missing:
    passwords.update({u: secrets.token_urlsafe(16) for u in missing})
    with open(path, "w") as f:
        f.write(json.dumps(passwords) + "\n")
PY
  for c in "${COMPONENTS[@]}"; do
    pidf="$LAKEHOUSE_STATE_DIR/airflow-$c.pid"
    if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then step "airflow $c already running"; continue; fi
    args=()
    [ "$c" = api-server ] && args=(--host 127.0.0.1 --port "$LAKEHOUSE_AIRFLOW_PORT")
    # No log server: it binds every interface (0.0.0.0 and [::], port 8793, not configurable)
    # to serve task logs to an API server on another host; here the API server reads the
    # LocalExecutor's log files from this disk.
    [ "$c" = scheduler ] && args=(--skip-serve-logs)
    # own session (process group), so stop can end the component and every worker it forked
    cmd=("$LAKEHOUSE_VENV/bin/airflow")
    # the scheduler forks every task: it preloads the tasks' heavy libraries (GX: 3-4 s each)
    [ "$c" = scheduler ] && cmd=("$LAKEHOUSE_VENV/bin/python" scripts/airflow_scheduler.py)
    setsid nohup "${cmd[@]}" "$c" "${args[@]}" >>"$LOGS/airflow-$c.log" 2>&1 &
    echo $! >"$pidf"
    step "started airflow $c (log: $LOGS/airflow-$c.log)"
  done
  wait_for "Airflow API server on http://127.0.0.1:$LAKEHOUSE_AIRFLOW_PORT" 180 api_up ||
    { tail -30 "$LOGS/airflow-api-server.log"; exit 1; }
  echo
  echo "  Airflow UI:  http://127.0.0.1:$LAKEHOUSE_AIRFLOW_PORT"
  # the path only: the password itself would end up in terminal scrollback and captured output
  echo "  log in as:   admin / password in $AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
}

stop() {
  for c in "${COMPONENTS[@]}"; do
    pidf="$LAKEHOUSE_STATE_DIR/airflow-$c.pid"
    if [ -f "$pidf" ]; then
      pid="$(cat "$pidf")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      rm -f "$pidf"
    fi
  done
  step "airflow stopped"
}

wait_dag() {  # wait until the DAG processor has serialised the DAG
  local dag="$1"
  wait_for "DAG $dag registered" 180 bash -c \
    "'$LAKEHOUSE_VENV/bin/airflow' dags list -o plain 2>/dev/null | grep -q '^$dag '"
}

case "${1:-status}" in
  start|wait-dag) lakehouse_require_airflow_db || exit 1 ;;
esac
case "${1:-status}" in
  start) start ;;
  stop) stop ;;
  wait-dag) wait_dag "$2" ;;
  status)
    for c in "${COMPONENTS[@]}"; do
      pidf="$LAKEHOUSE_STATE_DIR/airflow-$c.pid"
      if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then echo "$c: up"; else echo "$c: down"; fi
    done ;;
  *) echo "usage: $0 start|stop|status|wait-dag DAG" >&2; exit 2 ;;
esac
