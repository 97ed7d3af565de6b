"""silver.products: conformed, deduplicated products (see ``spark_jobs.silver._conform``).

The course catalog; one row per product_id (latest updated_at).
Rows breaking a rule below or losing the dedupe go to quarantine with the reason.
"""

from __future__ import annotations

from spark_jobs.common import JobResult
from spark_jobs.silver._conform import SourceRules, conform_and_dedupe, run_silver, to_silver

SOURCE = "products"


def rules():
    from pyspark.sql import functions as F

    return (("negative_price", F.col("base_price") < 0),)


SPEC = SourceRules(SOURCE, order_by="updated_at", rules=rules)


def transform(bronze, ds: str):
    """bronze rows of ds -> (silver rows, quarantine rows)."""
    kept, quarantine = conform_and_dedupe(bronze, SPEC, ds)
    return to_silver(kept, SOURCE, ds), quarantine


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    return run_silver(spark, ds, settings, SPEC, transform)
