# Sourced by every script and Makefile target: the local stack's environment, in one place.
# Values already set in the caller's environment win, so a cluster is a change of variables.
# Credentials are not here: scripts/setup.sh generates them once into var/credentials.env.

LAKEHOUSE_ROOT="${LAKEHOUSE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export LAKEHOUSE_ROOT
export LAKEHOUSE_STATE_DIR="${LAKEHOUSE_STATE_DIR:-$LAKEHOUSE_ROOT/var}"
if [ -f "$LAKEHOUSE_STATE_DIR/credentials.env" ]; then
  set -a; . "$LAKEHOUSE_STATE_DIR/credentials.env"; set +a
fi

export LAKEHOUSE_VENV="${LAKEHOUSE_VENV:-$LAKEHOUSE_ROOT/.venv}"
export LAKEHOUSE_S3_ENDPOINT="${LAKEHOUSE_S3_ENDPOINT:-http://127.0.0.1:9000}"
export LAKEHOUSE_MINIO_CONSOLE_PORT="${LAKEHOUSE_MINIO_CONSOLE_PORT:-9001}"
export LAKEHOUSE_PG_PORT="${LAKEHOUSE_PG_PORT:-5433}"
export LAKEHOUSE_METASTORE_URL="${LAKEHOUSE_METASTORE_URL:-jdbc:postgresql://127.0.0.1:$LAKEHOUSE_PG_PORT/metastore}"
export LAKEHOUSE_AIRFLOW_PORT="${LAKEHOUSE_AIRFLOW_PORT:-8080}"
export LAKEHOUSE_THRIFT_PORT="${LAKEHOUSE_THRIFT_PORT:-10000}"
# The Spark engine (include/engine.py): "connect" (default), every task a session on the one
# warm Spark Connect server on 127.0.0.1:$LAKEHOUSE_CONNECT_PORT; "submit", a spark-submit
# (a JVM of its own) per task.
export LAKEHOUSE_ENGINE="${LAKEHOUSE_ENGINE:-connect}"
export LAKEHOUSE_CONNECT_PORT="${LAKEHOUSE_CONNECT_PORT:-15002}"
export LAKEHOUSE_CONNECT_UI_PORT="${LAKEHOUSE_CONNECT_UI_PORT:-4040}"
# The server's heap: the one driver every task shares (see README, "Sizing").
export LAKEHOUSE_CONNECT_MEMORY="${LAKEHOUSE_CONNECT_MEMORY:-6g}"

# The synthetic world the demo's state holds (include/generator/worlds.py): scripts/demo.sh
# records it in $LAKEHOUSE_STATE_DIR/world; a world other than the default brings its own
# experiment files (the repository's with the world's dates), so that every command on this
# state (the DAGs, land_raw, Spark SQL) agrees with the data.
if [ -z "${LAKEHOUSE_WORLD:-}" ] && [ -f "$LAKEHOUSE_STATE_DIR/world" ]; then
  LAKEHOUSE_WORLD="$(tr -cd 'a-z_' < "$LAKEHOUSE_STATE_DIR/world")"
fi
export LAKEHOUSE_WORLD="${LAKEHOUSE_WORLD:-default}"
if [ "$LAKEHOUSE_WORLD" != default ] && [ -z "${LAKEHOUSE_EXPERIMENTS_DIR:-}" ]; then
  export LAKEHOUSE_EXPERIMENTS_DIR="$LAKEHOUSE_STATE_DIR/worlds/$LAKEHOUSE_WORLD/experiments"
fi

export PYTHONPATH="$LAKEHOUSE_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$LAKEHOUSE_VENV/bin:$LAKEHOUSE_STATE_DIR/bin:$PATH"
export PYSPARK_PYTHON="$LAKEHOUSE_VENV/bin/python"
export PYSPARK_DRIVER_PYTHON="$LAKEHOUSE_VENV/bin/python"
export SPARK_CONF_DIR="$LAKEHOUSE_STATE_DIR/spark-conf"
export JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"

# Airflow 3: metadata database in the local PostgreSQL, LocalExecutor, this repo's DAGs.
export AIRFLOW_HOME="${AIRFLOW_HOME:-$LAKEHOUSE_STATE_DIR/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$LAKEHOUSE_ROOT/dags}"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
# the readouts and Data Docs inside the UI (include/report_links.py)
export AIRFLOW__CORE__PLUGINS_FOLDER="${AIRFLOW__CORE__PLUGINS_FOLDER:-$LAKEHOUSE_ROOT/include/airflow_plugins}"
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=True
# on the loopback interface only (Airflow's default host is 0.0.0.0)
export AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST=127.0.0.1
export AIRFLOW__API__PORT="$LAKEHOUSE_AIRFLOW_PORT"
export AIRFLOW__API__BASE_URL="${AIRFLOW__API__BASE_URL:-http://127.0.0.1:$LAKEHOUSE_AIRFLOW_PORT}"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-http://127.0.0.1:$LAKEHOUSE_AIRFLOW_PORT/execution/}"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$AIRFLOW_HOME/passwords.json"
if [ -n "${LAKEHOUSE_PG_PASSWORD:-}" ] && [ -z "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" ]; then
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://lakehouse:${LAKEHOUSE_PG_PASSWORD}@127.0.0.1:$LAKEHOUSE_PG_PORT/airflow"
fi
# Airflow's metadata DB is PostgreSQL or nothing: without a connection Airflow would fall back
# to a SQLite file of its own, silently. Every script that starts or calls Airflow runs this
# first (env.sh itself is sourced before set-up too, so it only defines the check).
lakehouse_require_airflow_db() {
  local conn="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}"
  if [ -z "$conn" ]; then
    echo "error: Airflow's metadata database (PostgreSQL) is not configured:" \
      "LAKEHOUSE_PG_PASSWORD is not set ($LAKEHOUSE_STATE_DIR/credentials.env missing?)." \
      "Run 'make setup', or set AIRFLOW__DATABASE__SQL_ALCHEMY_CONN to a PostgreSQL URL." >&2
    return 1
  fi
  case "$conn" in
    postgresql:*|postgresql+*) return 0 ;;
  esac
  echo "error: Airflow's metadata database must be PostgreSQL;" \
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is a '${conn%%:*}' URL" >&2
  return 1
}
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
# The Spark master the pipeline submits to: an Airflow connection, from the environment.
# A cluster is a different host here (spark://host:7077, yarn, k8s://...), not a code change.
if [ -z "${AIRFLOW_CONN_SPARK_LAKEHOUSE:-}" ]; then
  # (not ${VAR:-default}: the JSON's braces would end that expansion early)
  AIRFLOW_CONN_SPARK_LAKEHOUSE='{"conn_type": "spark", "host": "'"${LAKEHOUSE_SPARK_MASTER:-local[2]}"'", "extra": {"deploy-mode": "client", "spark-binary": "spark-submit"}}'
fi
export AIRFLOW_CONN_SPARK_LAKEHOUSE
# The Spark Connect server as an Airflow connection (the apache-spark provider's spark_connect
# type; its password is the server's token). On a cluster, point it at that server instead.
if [ -z "${AIRFLOW_CONN_SPARK_CONNECT_LAKEHOUSE:-}" ] && [ -n "${LAKEHOUSE_CONNECT_TOKEN:-}" ]; then
  AIRFLOW_CONN_SPARK_CONNECT_LAKEHOUSE="$(python3 -c 'import json, os; print(json.dumps({
    "conn_type": "spark_connect", "host": "localhost",
    "port": int(os.environ["LAKEHOUSE_CONNECT_PORT"]),
    "password": os.environ["LAKEHOUSE_CONNECT_TOKEN"]}))')"
  export AIRFLOW_CONN_SPARK_CONNECT_LAKEHOUSE
fi
# The synthetic data's calendar is 2024 (seed 004): the daily DAG (catchup) schedules the days
# of this window when unpaused, and none outside it. The demo narrows it to its own days.
export LAKEHOUSE_SCHEDULE_START="${LAKEHOUSE_SCHEDULE_START:-2024-01-01}"
export LAKEHOUSE_SCHEDULE_END="${LAKEHOUSE_SCHEDULE_END:-2024-12-31}"
