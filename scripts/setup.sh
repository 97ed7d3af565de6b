#!/usr/bin/env bash
# One-time (and safe to repeat) set-up of the whole local stack:
#   Python venv from requirements.txt, the pinned JVM jars from Maven Central and the Delta
#   log store built from conf/jvm/logstore, MinIO built from source with Go, PostgreSQL
#   (Airflow metadata DB + Hive metastore), buckets, Spark defaults, Airflow's database
#   migrated. Each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/lib.sh

MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"   # the last upstream source release line
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/lakehouse"
mkdir -p "$LAKEHOUSE_STATE_DIR"/{bin,logs} "$CACHE_DIR"

sha() { sha256sum "$@" | sha256sum | cut -c1-16; }

step "1/8 toolchain"
python3 -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' ||
  die "Python 3.11 is required (python3 is $(python3 --version 2>&1))"
java -version 2>&1 | grep -q '"17' || die "Java 17 is required"
command -v mvn >/dev/null || die "Maven is required (apt-get install maven)"
command -v go >/dev/null || die "Go is required to build MinIO"
if ! [ -x "$(pg_bindir)/initdb" ]; then
  step "   installing PostgreSQL from Debian"
  [ "$(id -u)" = 0 ] || die "PostgreSQL is missing: apt-get install postgresql"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  # Debian's package starts a cluster on 5432; the project runs its own on $LAKEHOUSE_PG_PORT.
fi
if ! command -v chromium >/dev/null; then
  # the browser test of the Airflow UI (Playwright drives it) and scripts/screenshot.py
  step "   installing Chromium from Debian"
  [ "$(id -u)" = 0 ] || die "Chromium is missing: apt-get install chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

step "2/8 credentials (generated once into var/credentials.env, never committed)"
if [ ! -f "$LAKEHOUSE_STATE_DIR/credentials.env" ]; then
  umask 077
  python3 - >"$LAKEHOUSE_STATE_DIR/credentials.env" <<'PY'
import secrets
pg = secrets.token_urlsafe(18)
print(f"LAKEHOUSE_S3_ACCESS_KEY=lakehouse-{secrets.token_hex(4)}")
print(f"LAKEHOUSE_S3_SECRET_KEY={secrets.token_urlsafe(24)}")
print(f"LAKEHOUSE_PG_PASSWORD={pg}")
print(f"LAKEHOUSE_METASTORE_PASSWORD={pg}")
PY
  umask 022
fi
if ! grep -q AIRFLOW__API_AUTH__JWT_SECRET "$LAKEHOUSE_STATE_DIR/credentials.env"; then
  # Airflow 3's API server, scheduler and workers must share one JWT signing secret.
  python3 -c 'import secrets; print("AIRFLOW__API_AUTH__JWT_SECRET=" + secrets.token_urlsafe(32))' \
    >>"$LAKEHOUSE_STATE_DIR/credentials.env"
fi
if ! grep -q '^LAKEHOUSE_PSEUDONYM_KEY=' "$LAKEHOUSE_STATE_DIR/credentials.env"; then
  # Keys the visitor pseudonym silver.fct_website_events.logged_out_user_id (issue 9): without
  # it the raw IP could be recovered from the id. Generated once and then kept: a new key
  # changes every visitor's id, so a lost key splits each visitor's history in two.
  python3 -c 'import secrets; print("LAKEHOUSE_PSEUDONYM_KEY=" + secrets.token_urlsafe(32))' \
    >>"$LAKEHOUSE_STATE_DIR/credentials.env"
fi
if ! grep -q '^LAKEHOUSE_JDBC_ANALYST_PASSWORD=' "$LAKEHOUSE_STATE_DIR/credentials.env"; then
  # The Thrift server's JDBC logins (conf/jvm/thrift-auth): analyst (silver and gold) and
  # lakehouse (every layer).
  python3 -c 'import secrets; print("LAKEHOUSE_JDBC_ANALYST_PASSWORD=" + secrets.token_urlsafe(18))' \
    >>"$LAKEHOUSE_STATE_DIR/credentials.env"
  python3 -c 'import secrets; print("LAKEHOUSE_JDBC_ADMIN_PASSWORD=" + secrets.token_urlsafe(18))' \
    >>"$LAKEHOUSE_STATE_DIR/credentials.env"
fi
if ! grep -q '^LAKEHOUSE_CONNECT_TOKEN=' "$LAKEHOUSE_STATE_DIR/credentials.env"; then
  # The Spark Connect server's token (include/engine_server.py): the server holds every
  # credential of the lakehouse, so only clients with this token may open a session.
  python3 -c 'import secrets; print("LAKEHOUSE_CONNECT_TOKEN=" + secrets.token_urlsafe(32))' \
    >>"$LAKEHOUSE_STATE_DIR/credentials.env"
fi
. scripts/env.sh

step "3/8 Python environment ($LAKEHOUSE_VENV)"
UV_VERSION=0.13.9
[ -x "$LAKEHOUSE_VENV/bin/python" ] || python3 -m venv "$LAKEHOUSE_VENV"
req_sha="$(sha requirements.txt)"
if [ "$(cat "$LAKEHOUSE_VENV/.requirements.sha" 2>/dev/null)" != "$req_sha" ]; then
  # uv installs the pinned set (pip took 56 s from a warm cache, and 5 s more to upgrade
  # itself first); a first install downloads ~700 MB either way. --compile-bytecode, as pip
  # does: without .pyc files every task process compiled Airflow, GX and pyspark from source
  # again wherever PYTHONDONTWRITEBYTECODE is set (days 1-2 of the demo took 298 and 217 s
  # instead of 273 and 182 s).
  "$LAKEHOUSE_VENV/bin/pip" install -q "uv==$UV_VERSION"
  step "   uv pip install -r requirements.txt (first time: a few minutes, pyspark is a 450 MB sdist)"
  "$LAKEHOUSE_VENV/bin/uv" pip install -q --compile-bytecode --python "$LAKEHOUSE_VENV/bin/python" \
    -r requirements.txt
  echo "$req_sha" >"$LAKEHOUSE_VENV/.requirements.sha"
else
  step "   up to date"
fi

step "4/8 JVM jars from Maven Central (Delta, hadoop-aws + AWS SDK, PostgreSQL JDBC) and the Delta log store"
scripts/jvm_classpath.sh

step "5/8 MinIO server ($MINIO_VERSION)"
minio_cached="$CACHE_DIR/minio-$MINIO_VERSION"
if [ ! -x "$minio_cached" ]; then
  step "   building MinIO with Go (first time: ~7 min on 2 cores)"
  tmpbin="$(mktemp -d)"
  GOBIN="$tmpbin" GOFLAGS=-mod=mod go install "$MINIO_MODULE@$MINIO_VERSION"
  mv "$tmpbin/minio" "$minio_cached"; rmdir "$tmpbin"
fi
ln -sf "$minio_cached" "$LAKEHOUSE_STATE_DIR/bin/minio"

step "6/8 Spark defaults for spark-sql / spark-submit / Thrift server"
"$LAKEHOUSE_VENV/bin/python" scripts/spark_conf.py >/dev/null

step "7/8 services: PostgreSQL and MinIO on 127.0.0.1, buckets"
scripts/services.sh start-storage
"$LAKEHOUSE_VENV/bin/python" scripts/init_metastore.py

step "8/8 Airflow metadata database (PostgreSQL) migrated"
mkdir -p "$AIRFLOW_HOME"
lakehouse_require_airflow_db || exit 1
"$LAKEHOUSE_VENV/bin/airflow" db migrate >"$LAKEHOUSE_STATE_DIR/logs/airflow-db-migrate.log" 2>&1 ||
  { tail -30 "$LAKEHOUSE_STATE_DIR/logs/airflow-db-migrate.log"; die "airflow db migrate failed"; }
# Airflow pools the DAGs use (include/airflow_tasks.POOLS); a task in a missing pool never runs.
"$LAKEHOUSE_VENV/bin/python" scripts/airflow_pools.py >/dev/null ||
  die "could not create the Airflow pools (scripts/airflow_pools.py)"
step "set-up complete (state in $LAKEHOUSE_STATE_DIR, $(du -sh "$LAKEHOUSE_STATE_DIR" 2>/dev/null | cut -f1) + venv $(du -sh "$LAKEHOUSE_VENV" | cut -f1))"
