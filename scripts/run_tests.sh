#!/usr/bin/env bash
# Run the test suite with the local services up (started by scripts/setup.sh, which `make test`
# runs first). Unit tests use local Delta paths; integration and e2e tests use MinIO, the
# metastore and Airflow's database.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# the tests run on the repository's experiments and generator defaults, whatever world the
# demo's state holds (tests that need other experiments point LAKEHOUSE_EXPERIMENTS_DIR
# at a folder of their own)
export LAKEHOUSE_WORLD=default
unset LAKEHOUSE_EXPERIMENTS_DIR
lakehouse_require_airflow_db || exit 1  # the e2e tests' dag.test() runs use it
scripts/services.sh start-storage >/dev/null
python scripts/spark_conf.py >/dev/null
# Two pytest-xdist workers (LAKEHOUSE_TEST_WORKERS; 0 runs in this process), each with a Spark
# Connect server of its own. --dist loadfile: a module's tests run on one worker, in order (the
# e2e module's tests build on each other's tables); modules go out in collection order, the
# longest first (tests/conftest.py). (Not --dist loadgroup: with pytest 9.2, xdist 3.8.0's
# group suffix on node ids is lost, and a group's tests were spread over both workers.)
exec pytest -p no:cacheprovider -n "${LAKEHOUSE_TEST_WORKERS:-2}" --dist loadfile \
  --no-loadscope-reorder --timeout=1800 --durations=30 "$@" tests
