"""silver.sessions: conformed, deduplicated sessions (see ``spark_jobs.silver._conform``).

Sessions (a session links anonymous_id and user_id); one row per session_id.
Rows breaking a rule below or losing the dedupe go to quarantine with the reason.
"""

from __future__ import annotations

from spark_jobs.common import JobResult
from spark_jobs.silver._conform import SourceRules, conform_and_dedupe, run_silver, to_silver

SOURCE = "sessions"


def rules():
    from pyspark.sql import functions as F

    return (("ended_before_start", F.col("ended_at") < F.col("started_at")),)


SPEC = SourceRules(SOURCE, order_by="ended_at", rules=rules)


def transform(bronze, ds: str):
    """bronze rows of ds -> (silver rows, quarantine rows)."""
    kept, quarantine = conform_and_dedupe(bronze, SPEC, ds)
    return to_silver(kept, SOURCE, ds), quarantine


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    return run_silver(spark, ds, settings, SPEC, transform)
