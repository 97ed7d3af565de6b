"""silver.accounts: conformed, deduplicated accounts (see ``spark_jobs.silver._conform``).

Account rows created or changed on ds; the latest updated_at per user_id wins.
Rows breaking a rule below or losing the dedupe go to quarantine with the reason.
"""

from __future__ import annotations

from spark_jobs.common import JobResult
from spark_jobs.silver._conform import SourceRules, conform_and_dedupe, run_silver, to_silver

SOURCE = "accounts"


def rules():
    from pyspark.sql import functions as F

    return (
        ("unknown_customer_type", ~F.col("customer_type").isin("prospect", "existing")),
        ("negative_list_size", F.col("list_size") < 0),
    )


SPEC = SourceRules(SOURCE, order_by="updated_at", rules=rules)


def transform(bronze, ds: str):
    """bronze rows of ds -> (silver rows, quarantine rows)."""
    kept, quarantine = conform_and_dedupe(bronze, SPEC, ds)
    return to_silver(kept, SOURCE, ds), quarantine


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    return run_silver(spark, ds, settings, SPEC, transform)
