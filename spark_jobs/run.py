"""The one entry point of every Spark job: ``spark-submit spark_jobs/run.py JOB --ds DS``.

Airflow launches jobs through this file (SparkSubmitOperator), so a job runs the same way on
a laptop (``local[2]``) and on a cluster (a different ``--master``). The job's result is
printed as one JSON line prefixed with ``LAKEHOUSE_RESULT`` for the task log and XCom.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import re
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file by spark-submit: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


def run(job: str, ds: str, params: dict | None = None, spark=None) -> dict:
    from include.settings import load_settings
    from include.spark import build_spark

    module_name = job_module(job)
    validate_ds(ds)
    settings = load_settings()
    started = time.monotonic()
    spark = spark or build_spark(f"{job} ds={ds}", settings)
    module = importlib.import_module(module_name)
    result = module.main(spark, ds, settings, params or {})
    out = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    out["seconds"] = round(time.monotonic() - started, 2)
    return out


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
    spark = None
    for job in args.jobs:
        result = run(job, args.ds, params, spark=spark)
        print("LAKEHOUSE_RESULT " + json.dumps(result, default=str, sort_keys=True), flush=True)
        if spark is None:
            from pyspark.sql import SparkSession

            spark = SparkSession.getActiveSession()
    return 0


if __name__ == "__main__":
    sys.exit(main())
