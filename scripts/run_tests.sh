#!/usr/bin/env bash
# Run the test suite with the local services up (started by scripts/setup.sh, which `make test`
# runs first). Unit tests use local Delta paths; integration and e2e tests use MinIO, the
# metastore and Airflow's database.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/services.sh start-storage >/dev/null
python scripts/spark_conf.py >/dev/null
exec pytest -p no:cacheprovider --timeout=1800 --durations=30 "$@" tests
