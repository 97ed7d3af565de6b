#!/usr/bin/env bash
# The main job, as a platform team runs it: Airflow (scheduler + API server + DAG processor,
# PostgreSQL metadata DB) runs the daily lakehouse DAG (catchup) over DAYS days from START on
# the local stack (MinIO, Delta, Hive metastore), then prints what it produced.
#   scripts/demo.sh START DAYS SCALE [WORLD]
# WORLD (include/generator/worlds.py): "default", the repository's experiments as configured;
# "compact" (make demo's default), both experiments decided in 5 days; "truth", decided in 12
# days (a world's own days and scale replace START, DAYS and SCALE), the readouts then printed
# beside the planted truth.
set -euo pipefail
cd "$(dirname "$0")/.."
WORLD="${4:-default}"
[[ "$WORLD" =~ ^[a-z_]+$ ]] || { echo "WORLD must be a world's name, got '$WORLD'" >&2; exit 1; }
# the world this state holds: env.sh reads it (the DAGs' experiment files, land_raw's world)
PREVIOUS_WORLD="$(cat "${LAKEHOUSE_STATE_DIR:-var}/world" 2>/dev/null || echo default)"
export LAKEHOUSE_WORLD="$WORLD"
unset LAKEHOUSE_EXPERIMENTS_DIR
. scripts/env.sh
lakehouse_require_airflow_db || exit 1
. scripts/lib.sh
# phase times, printed at the end: set-up (make's setup, when LAKEHOUSE_T0 came from make),
# Airflow's start, the days through the scheduler, the readout DAGs, the results
T_SETUP_END="$(date +%s)"
if [ "$WORLD" != default ]; then
  SPEC="$(python -m include.generator.worlds "$WORLD" "$LAKEHOUSE_EXPERIMENTS_DIR")" ||
    die "unknown WORLD '$WORLD'"
  read -r W_START W_DAYS W_SCALE <<<"$SPEC"
  set -- "$W_START" "$W_DAYS" "$W_SCALE"
  step "world '$WORLD': $W_DAYS days from $W_START at $W_SCALE events a day; experiments in $LAKEHOUSE_EXPERIMENTS_DIR"
fi
START="${1:-2024-01-01}"; DAYS="${2:-3}"; SCALE="${3:-20000}"
# START and DAYS reach Python as arguments, never as source text; both are checked there.
END="$(python3 - "$START" "$DAYS" <<'PY'
import datetime as d
import re
import sys

start, days = sys.argv[1:3]
if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", start):
    sys.exit(f"demo.sh: START must be a date YYYY-MM-DD, got {start!r}")
if not re.fullmatch(r"[1-9][0-9]{0,4}", days):
    sys.exit(f"demo.sh: DAYS must be a positive integer (at most 99999), got {days!r}")
try:
    print(d.date.fromisoformat(start) + d.timedelta(days=int(days) - 1))
except (ValueError, OverflowError) as e:
    sys.exit(f"demo.sh: START {start!r} and DAYS {days!r} are no valid date range: {e}")
PY
)"
# SCALE goes into the backfill's --dag-run-conf JSON below
[[ "$SCALE" =~ ^[1-9][0-9]*$ ]] || die "SCALE must be a positive integer, got '$SCALE'"
echo "$WORLD" > "$LAKEHOUSE_STATE_DIR/world"
DAG=lakehouse_daily
# The DAG catches up over its schedule window: narrow it to the demo's days (and its scale),
# and restart Airflow so the scheduler and DAG processor parse the DAG with this window.
export LAKEHOUSE_SCHEDULE_START="$START" LAKEHOUSE_SCHEDULE_END="$END" LAKEHOUSE_SCALE="$SCALE"

step "starting Airflow (schedule window $START .. $END, $SCALE events/day)"
scripts/airflow.sh stop >/dev/null
AIRFLOW_T0="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
scripts/airflow.sh start
# The per-experiment readout DAGs run when the daily DAG updates their gold.<name>_aggregated
# Asset (DAGs are created paused): unpause them first, once the DAG processor started above
# has parsed them (REST API: each `airflow dags ...` CLI call imports all of Airflow).
EXP_DAGS="$(python scripts/wait_for_runs.py --experiment-dags)"
python scripts/wait_for_runs.py --unpause "$AIRFLOW_T0" $EXP_DAGS ||
  die "the DAG processor did not parse the readout DAGs; see $LAKEHOUSE_STATE_DIR/logs/airflow-dag-processor.log"
if [ "$PREVIOUS_WORLD" != "$WORLD" ]; then
  # the days' runs made the other world's data: forget them, so the scheduler runs them again
  step "this state held world '$PREVIOUS_WORLD': forgetting $DAG's runs of $START .. $END"
  python scripts/wait_for_runs.py --forget "$DAG" "$START" "$END"
fi
DEMO_T0="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
T_AIRFLOW_END="$(date +%s)"
step "unpausing $DAG: the scheduler catches up $START .. $END, one day at a time; the UI shows progress"
# Paused again when the demo ends (or is interrupted): a later Airflow start with the default
# window (all of 2024) must not catch up a whole year by surprise.
trap 'python scripts/wait_for_runs.py --pause "$DAG" >/dev/null 2>&1 || true' EXIT
python scripts/wait_for_runs.py --unpause "$AIRFLOW_T0" "$DAG" ||
  die "the DAG processor did not parse $DAG; see $LAKEHOUSE_STATE_DIR/logs/airflow-dag-processor.log"

# Catchup only schedules days after the DAG's latest scheduled run: days before it (an older
# START than a previous demo's) and days a previous demo left failed need a backfill.
python scripts/wait_for_runs.py --first-run "$DAG" "$START" "$END"
SPAN="$(python scripts/wait_for_runs.py "$DAG" "$START" "$END" --backfill-range)"
if [ -n "$SPAN" ]; then
  set -- $SPAN
  step "days $1 .. $2 have no run the scheduler will make, or a failed one: backfilling them"
  airflow backfill create --dag-id "$DAG" --from-date "$1" --to-date "$2" \
    --reprocess-behavior failed --max-active-runs 1 \
    --dag-run-conf "{\"generate_raw\": true, \"scale\": $SCALE}" >"$LAKEHOUSE_STATE_DIR/logs/backfill.log" 2>&1 ||
    { tail -20 "$LAKEHOUSE_STATE_DIR/logs/backfill.log"; die "backfill could not be created"; }
fi

python scripts/wait_for_runs.py "$DAG" "$START" "$END"
T_DAYS_END="$(date +%s)"
if [ -n "$EXP_DAGS" ]; then
  step "waiting for the experiment readout DAGs the last day's Assets started"
  python scripts/wait_for_runs.py --settle "$DEMO_T0" $EXP_DAGS
fi
T_READOUTS_END="$(date +%s)"

step "what the pipeline produced"
python scripts/show_results.py "$START" "$END"
T_END="$(date +%s)"
secs() { printf '%d s' "$(( $2 - $1 ))"; }
step "phases: set-up $(secs "$LAKEHOUSE_T0" "$T_SETUP_END"), Airflow start $(secs "$T_SETUP_END" "$T_AIRFLOW_END"), $DAYS days through the scheduler $(secs "$T_AIRFLOW_END" "$T_DAYS_END"), readout DAGs $(secs "$T_DAYS_END" "$T_READOUTS_END"), results $(secs "$T_READOUTS_END" "$T_END"); in all $(( (T_END - LAKEHOUSE_T0) / 60 )) min $(( (T_END - LAKEHOUSE_T0) % 60 )) s"
