#!/usr/bin/env bash
# The Spark Thrift server on 127.0.0.1:$LAKEHOUSE_THRIFT_PORT over the shared metastore, so
# JDBC clients (beeline, BI tools) can query gold tables:
#   beeline -u jdbc:hive2://127.0.0.1:10000 -n analyst -w PASSWORD_FILE \
#     -e 'SELECT * FROM gold.agg_website_events LIMIT 5'
#   scripts/thrift.sh start|stop
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/lib.sh
SPARK_HOME="$("$LAKEHOUSE_VENV/bin/python" -c 'import pyspark, os; print(os.path.dirname(pyspark.__file__))')"
export SPARK_HOME
thrift_up() { (exec 3<>"/dev/tcp/127.0.0.1/$LAKEHOUSE_THRIFT_PORT") 2>/dev/null; }
# What sbin/start-thriftserver.sh (not in pip's pyspark) runs, into THRIFT_COMMAND; $1: the
# address to listen on. JDBC needs a login (conf/jvm/thrift-auth: users analyst and lakehouse,
# passwords from var/credentials.env through the environment); the analyst reads silver and
# gold only (a check rule installed after Delta's extension); no login reads a table by its
# path (delta.`s3a://...`: runSQLOnFiles off), only by its name.
thrift_command() {
  [ -n "${LAKEHOUSE_JDBC_ANALYST_PASSWORD:-}" ] && [ -n "${LAKEHOUSE_JDBC_ADMIN_PASSWORD:-}" ] ||
    die "the JDBC logins' passwords are not set (LAKEHOUSE_JDBC_*_PASSWORD): run make setup"
  THRIFT_COMMAND=("$SPARK_HOME/bin/spark-submit"
    --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
    --name lakehouse-thrift
    --conf "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension,io.lakehouse.thrift.AnalystAccessExtension"
    --conf spark.sql.runSQLOnFiles=false
    spark-internal
    --hiveconf "hive.server2.thrift.bind.host=$1"
    --hiveconf "hive.server2.thrift.port=$LAKEHOUSE_THRIFT_PORT"
    --hiveconf hive.server2.authentication=CUSTOM
    --hiveconf hive.server2.custom.authentication.class=io.lakehouse.thrift.LakehouseAuthenticator)
}
case "${1:-start}" in
  run)  # in the foreground, as this process (a container's command: docker-compose.yml)
    bind="${2:-127.0.0.1}"
    [[ "$bind" =~ ^[0-9.]+$ ]] || die "run: the bind address must be an IPv4 address, got '$bind'"
    "$LAKEHOUSE_VENV/bin/python" scripts/spark_conf.py >/dev/null
    thrift_command "$bind"
    exec "${THRIFT_COMMAND[@]}" ;;
  start)
    scripts/services.sh start-storage >/dev/null
    "$LAKEHOUSE_VENV/bin/python" scripts/spark_conf.py >/dev/null
    if thrift_up; then step "Thrift server already listening on $LAKEHOUSE_THRIFT_PORT"; exit 0; fi
    thrift_command 127.0.0.1
    nohup "${THRIFT_COMMAND[@]}" >>"$LAKEHOUSE_STATE_DIR/logs/thrift.log" 2>&1 &
    echo $! >"$LAKEHOUSE_STATE_DIR/thrift.pid"
    wait_for "Spark Thrift server on 127.0.0.1:$LAKEHOUSE_THRIFT_PORT" 180 thrift_up
    echo "  analysts (silver and gold):  beeline -u jdbc:hive2://127.0.0.1:$LAKEHOUSE_THRIFT_PORT -n analyst -w <file holding LAKEHOUSE_JDBC_ANALYST_PASSWORD> -e 'SHOW TABLES IN gold'"
    echo "  the platform team: user lakehouse, LAKEHOUSE_JDBC_ADMIN_PASSWORD (both in $LAKEHOUSE_STATE_DIR/credentials.env)" ;;
  stop)
    [ -f "$LAKEHOUSE_STATE_DIR/thrift.pid" ] && kill "$(cat "$LAKEHOUSE_STATE_DIR/thrift.pid")" 2>/dev/null || true
    rm -f "$LAKEHOUSE_STATE_DIR/thrift.pid" ;;
  *) echo "usage: $0 start|stop|run [BIND_ADDRESS]" >&2; exit 2 ;;
esac
