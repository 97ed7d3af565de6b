"""silver.support_tickets: conformed, deduplicated tickets (``silver._conform``).

Helpdesk tickets; one row per ticket_id.
Rows breaking a rule below or losing the dedupe go to quarantine with the reason.
"""

from __future__ import annotations

from spark_jobs.common import JobResult
from spark_jobs.silver._conform import SourceRules, conform_and_dedupe, run_silver, to_silver

SOURCE = "support_tickets"


def rules():
    from pyspark.sql import functions as F

    return (
        ("satisfaction_out_of_range", ~F.col("satisfaction").between(1, 5)),
        ("resolved_before_created", F.col("resolved_at") < F.col("created_at")),
    )


SPEC = SourceRules(SOURCE, order_by="created_at", rules=rules)


def transform(bronze, ds: str):
    """bronze rows of ds -> (silver rows, quarantine rows)."""
    kept, quarantine = conform_and_dedupe(bronze, SPEC, ds)
    return to_silver(kept, SOURCE, ds), quarantine


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    return run_silver(spark, ds, settings, SPEC, transform)
