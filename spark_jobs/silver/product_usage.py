"""silver.product_usage: conformed, deduplicated product_usage (see ``spark_jobs.silver._conform``).

Daily product usage per account; one row per (user_id, usage_date).
Rows breaking a rule below or losing the dedupe go to quarantine with the reason.
"""

from __future__ import annotations

from spark_jobs.common import JobResult
from spark_jobs.silver._conform import SourceRules, conform_and_dedupe, run_silver, to_silver

SOURCE = "product_usage"


def rules():
    from pyspark.sql import functions as F

    return (
        (
            "negative_usage",
            (F.col("logins") < 0) | (F.col("emails_sent") < 0) | (F.col("features_adopted") < 0),
        ),
    )


SPEC = SourceRules(SOURCE, order_by="logins", rules=rules)


def transform(bronze, ds: str):
    """bronze rows of ds -> (silver rows, quarantine rows)."""
    kept, quarantine = conform_and_dedupe(bronze, SPEC, ds)
    return to_silver(kept, SOURCE, ds), quarantine


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    return run_silver(spark, ds, settings, SPEC, transform)
