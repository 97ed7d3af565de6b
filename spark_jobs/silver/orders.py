"""silver.orders: conformed, deduplicated orders (see ``spark_jobs.silver._conform``).

Shop orders; one row per order_id.
Rows breaking a rule below or losing the dedupe go to quarantine with the reason.
"""

from __future__ import annotations

from spark_jobs.common import JobResult
from spark_jobs.silver._conform import SourceRules, conform_and_dedupe, run_silver, to_silver

SOURCE = "orders"


def rules():
    from pyspark.sql import functions as F

    return (
        ("unknown_status", ~F.col("status").isin("completed", "refunded", "failed")),
        ("bad_quantity", F.col("quantity") <= 0),
        ("negative_amount", F.col("amount") < 0),
    )


SPEC = SourceRules(SOURCE, order_by="ordered_at", rules=rules)


def transform(bronze, ds: str):
    """bronze rows of ds -> (silver rows, quarantine rows)."""
    kept, quarantine = conform_and_dedupe(bronze, SPEC, ds)
    return to_silver(kept, SOURCE, ds), quarantine


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    return run_silver(spark, ds, settings, SPEC, transform)
