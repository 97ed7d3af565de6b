#!/usr/bin/env bash
# The main job, as a platform team runs it: Airflow (scheduler + API server + DAG processor,
# PostgreSQL metadata DB) backfills the daily lakehouse DAG over DAYS days from START on
# the local stack (MinIO, Delta, Hive metastore), then prints what it produced.
#   scripts/demo.sh START DAYS SCALE
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/lib.sh
START="${1:-2024-01-01}"; DAYS="${2:-3}"; SCALE="${3:-20000}"
END="$(python3 -c "import datetime as d,sys; print(d.date.fromisoformat('$START') + d.timedelta(days=int('$DAYS') - 1))")"
DAG=lakehouse_daily

step "starting Airflow"
scripts/airflow.sh start
scripts/airflow.sh wait-dag "$DAG"
airflow dags unpause "$DAG" >/dev/null
# The per-experiment readout DAGs run when the daily DAG updates their gold.<name>_aggregated
# Asset (DAGs are created paused).
for exp_dag in $(airflow dags list -o plain 2>/dev/null | awk '$1 ~ /^experiment_/ {print $1}'); do
  airflow dags unpause "$exp_dag" >/dev/null
done

step "backfilling $DAG from $START to $END (scale $SCALE events/day); the UI shows progress"
airflow backfill create --dag-id "$DAG" --from-date "$START" --to-date "$END" \
  --reprocess-behavior completed --max-active-runs 1 \
  --dag-run-conf "{\"generate_raw\": true, \"scale\": $SCALE}" >"$LAKEHOUSE_STATE_DIR/logs/backfill.log" 2>&1 ||
  { tail -20 "$LAKEHOUSE_STATE_DIR/logs/backfill.log"; die "backfill could not be created"; }

python scripts/wait_for_runs.py "$DAG" "$START" "$END"

step "what the pipeline produced"
python scripts/show_results.py "$START" "$END"
