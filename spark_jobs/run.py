"""The one entry point of every Spark job: :func:`run` (a job on a session) and its CLI.

Airflow runs jobs through :func:`run`: in the Spark Connect mode a task opens a session on
the warm server and calls it (``include/airflow_tasks.py``); in the ``spark-submit`` mode
the task submits this file (``spark-submit spark_jobs/run.py JOB --ds DS``), which builds a
session in its own JVM. By hand, ``python spark_jobs/run.py JOB --ds DS`` uses the engine
``LAKEHOUSE_ENGINE`` names (default: the Connect server). The job's result is printed as
one JSON line prefixed with ``LAKEHOUSE_RESULT`` for the task log (and returned to XCom).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import re
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file by spark-submit: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if os.environ.get("PYSPARK_GATEWAY_PORT"):
    # spark-submit'ed: this driver has its JVM. A parent that had a Spark Connect session
    # (pyspark marks the process environment) must not turn this one into a Connect client.
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)

from include.tables import validate_ds  # noqa: E402

JOB_PACKAGES = ("bronze", "silver", "gold", "readouts", "quality", "maintenance")
_JOB_NAME = re.compile(rf"^({'|'.join(JOB_PACKAGES)})(\.[a-z][a-z0-9_]*)+$")


def job_module(job: str) -> str:
    """``silver.fct_website_events`` -> ``spark_jobs.silver.fct_website_events``.

    A job is any module under ``spark_jobs/<package>/`` with a ``main(spark, ds, settings,
    params)``; the name is validated before it reaches importlib.
    """
    if not _JOB_NAME.fullmatch(job):
        raise SystemExit(f"invalid job name {job!r}: expected <{'|'.join(JOB_PACKAGES)}>.<module>")
    module = f"spark_jobs.{job}"
    if importlib.util.find_spec(module) is None:
        raise SystemExit(f"unknown job {job!r}: no module {module}")
    return module


RESULT_PREFIX = "LAKEHOUSE_RESULT "


def run(job: str, ds: str, params: dict | None = None, spark=None) -> dict:
    """Run one job for ``ds`` on ``spark`` (default: a session of ``LAKEHOUSE_ENGINE``).

    Whatever the job persisted is unpersisted when it ends, failed or not
    (:func:`include.engine.release`): on the shared Connect server a cached frame would
    otherwise outlive the task.
    """
    from include.engine import release
    from include.settings import load_settings

    module_name = job_module(job)
    validate_ds(ds)
    settings = load_settings()
    started = time.monotonic()
    module = importlib.import_module(module_name)
    if spark is None:
        with job_session(f"{job} ds={ds}", settings) as session:
            return run(job, ds, params, spark=session)
    try:
        result = module.main(spark, ds, settings, params or {})
    finally:
        release()
    out = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    out["seconds"] = round(time.monotonic() - started, 2)
    return out


@contextlib.contextmanager
def job_session(app_name: str, settings=None):
    """The session jobs run on when the caller has none, for the length of the block.

    Under ``spark-submit`` (``PYSPARK_GATEWAY_PORT`` set) the JVM spark-submit started;
    otherwise ``LAKEHOUSE_ENGINE``: ``connect``, a guarded session on the Connect server of
    the settings, released at the end; ``submit``, a JVM of this process's own
    (``include/spark.py``), which ends with the process.
    """
    from include.engine import ConnectTarget, engine_mode, guarded_session
    from include.settings import load_settings
    from include.spark import build_spark

    settings = settings or load_settings()
    if os.environ.get("PYSPARK_GATEWAY_PORT") or engine_mode() == "submit":
        yield build_spark(app_name, settings)
        return
    with guarded_session(ConnectTarget.from_settings(settings), tags=(app_name,)) as spark:
        yield spark


def print_result(result: dict) -> None:
    print(RESULT_PREFIX + json.dumps(result, default=str, sort_keys=True), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "jobs", nargs="+", metavar="job",
        help="<layer>.<module>, e.g. silver.fct_website_events; several run in order in one "
        "Spark session (one JVM start for a group of small jobs)",
    )
    parser.add_argument("--ds", required=True, help="partition date YYYY-MM-DD")
    parser.add_argument("--params", default="{}", help="JSON object of job parameters")
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    if not isinstance(params, dict):
        raise SystemExit("--params must be a JSON object")
    for job in args.jobs:  # validate every name before any work starts
        job_module(job)
    with job_session(f"{' '.join(args.jobs)} ds={args.ds}") as spark:
        for job in args.jobs:
            print_result(run(job, args.ds, params, spark=spark))
    return 0


if __name__ == "__main__":
    sys.exit(main())
