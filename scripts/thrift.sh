#!/usr/bin/env bash
# The Spark Thrift server on 127.0.0.1:$LAKEHOUSE_THRIFT_PORT over the shared metastore, so
# JDBC clients (beeline, BI tools) can query gold tables:
#   beeline -u jdbc:hive2://127.0.0.1:10000 -e 'SELECT * FROM gold.agg_website_events LIMIT 5'
#   scripts/thrift.sh start|stop
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/lib.sh
SPARK_HOME="$("$LAKEHOUSE_VENV/bin/python" -c 'import pyspark, os; print(os.path.dirname(pyspark.__file__))')"
export SPARK_HOME
thrift_up() { (exec 3<>"/dev/tcp/127.0.0.1/$LAKEHOUSE_THRIFT_PORT") 2>/dev/null; }
case "${1:-start}" in
  start)
    scripts/services.sh start-storage >/dev/null
    "$LAKEHOUSE_VENV/bin/python" scripts/spark_conf.py >/dev/null
    if thrift_up; then step "Thrift server already listening on $LAKEHOUSE_THRIFT_PORT"; exit 0; fi
    # pip's pyspark ships the Thrift server's jars but not sbin/start-thriftserver.sh;
    # this is what that script runs.
    nohup "$SPARK_HOME/bin/spark-submit" --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 \
      --name "lakehouse-thrift" spark-internal \
      --hiveconf hive.server2.thrift.bind.host=127.0.0.1 \
      --hiveconf hive.server2.thrift.port="$LAKEHOUSE_THRIFT_PORT" \
      >>"$LAKEHOUSE_STATE_DIR/logs/thrift.log" 2>&1 &
    echo $! >"$LAKEHOUSE_STATE_DIR/thrift.pid"
    wait_for "Spark Thrift server on 127.0.0.1:$LAKEHOUSE_THRIFT_PORT" 180 thrift_up
    echo "  beeline -u jdbc:hive2://127.0.0.1:$LAKEHOUSE_THRIFT_PORT -e 'SHOW TABLES IN gold'" ;;
  stop)
    [ -f "$LAKEHOUSE_STATE_DIR/thrift.pid" ] && kill "$(cat "$LAKEHOUSE_STATE_DIR/thrift.pid")" 2>/dev/null || true
    rm -f "$LAKEHOUSE_STATE_DIR/thrift.pid" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
