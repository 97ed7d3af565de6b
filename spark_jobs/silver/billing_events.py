"""silver.billing_events: conformed, deduplicated billing events (``silver._conform``).

The subscription lifecycle (trial, activation, paid start, booking, plan change,
cancellation) with MRR; one row per billing_event_id.
Rows breaking a rule below or losing the dedupe go to quarantine with the reason.
"""

from __future__ import annotations

from spark_jobs.common import JobResult
from spark_jobs.silver._conform import SourceRules, conform_and_dedupe, run_silver, to_silver

SOURCE = "billing_events"

EVENT_TYPES = (
    "trial_start",
    "activation",
    "paid_start",
    "booking",
    "plan_change",
    "cancellation",
)


def rules():
    from pyspark.sql import functions as F

    return (
        ("unknown_event_type", ~F.col("event_type").isin(*EVENT_TYPES)),
        ("negative_mrr", (F.col("mrr") < 0) | (F.col("previous_mrr") < 0)),
    )


SPEC = SourceRules(SOURCE, order_by="event_time", rules=rules)


def transform(bronze, ds: str):
    """bronze rows of ds -> (silver rows, quarantine rows)."""
    kept, quarantine = conform_and_dedupe(bronze, SPEC, ds)
    return to_silver(kept, SOURCE, ds), quarantine


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    return run_silver(spark, ds, settings, SPEC, transform)
