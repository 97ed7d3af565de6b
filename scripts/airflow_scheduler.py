"""``airflow scheduler`` with the tasks' heavy third-party libraries already imported.

On Linux, Airflow 3's LocalExecutor forks its workers from the scheduler when the executor
starts, and each worker forks the task process (``os.fork`` in the task supervisor). So a
module the scheduler imported before that is loaded in every task for free. Great
Expectations takes 3-4 s to import on this machine: it pulls in pandas, scipy, pyspark's
Connect client and grpc. Every gate task paid that, eight times a day, six of them on the
day's critical path. Imported here once, it costs a task nothing.

Only third-party libraries are preloaded. Importing them starts no thread and opens no
connection (checked: one thread after the import), so forking afterwards is safe. The
project's own modules are not preloaded, so the next task sees a change to ``include/`` or
``spark_jobs/`` without a scheduler restart.

    python scripts/airflow_scheduler.py scheduler --skip-serve-logs   (scripts/airflow.sh)
"""

from __future__ import annotations

import importlib
import sys
import time

PRELOAD = (
    "great_expectations",  # every gate task (include.quality)
    "statsmodels.api",  # the readouts' models (include.stats)
    "airflow.providers.apache.spark.hooks.spark_connect",  # every Spark task's connection
)


def preload(modules: tuple[str, ...] = PRELOAD) -> dict[str, float]:
    """Import ``modules``; seconds each took."""
    took = {}
    for name in modules:
        start = time.perf_counter()
        importlib.import_module(name)
        took[name] = round(time.perf_counter() - start, 2)
    return took


def main() -> int:
    took = preload()
    print(f"preloaded for the tasks the scheduler forks: {took}", file=sys.stderr, flush=True)
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", *sys.argv[1:]]
    return airflow_main() or 0


if __name__ == "__main__":
    sys.exit(main())
