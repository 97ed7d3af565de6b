"""bronze.products: raw products files -> typed Delta rows.

Bad rows go to bronze.quarantine with the reason.

All the work is the generic raw-file ingestion in ``spark_jobs.bronze.raw_files``; this module
names the source so the runner finds the job:
``spark_jobs/run.py bronze.products --ds DS``.
"""

from __future__ import annotations

from spark_jobs.bronze import raw_files
from spark_jobs.common import JobResult

SOURCE = "products"


def transform(lines, ds: str):
    """Raw lines (header removed) -> (bronze rows, quarantine rows)."""
    return raw_files.transform(lines, SOURCE, ds)


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    return raw_files.run_source(spark, SOURCE, ds, settings)
