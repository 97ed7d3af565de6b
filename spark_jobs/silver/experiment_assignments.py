"""silver.experiment_assignments: deduplicated assignment decisions with a resolved person_id.

From ``bronze.experiment_assignments`` for ``ds``: rows with an experiment name that is not a
plain identifier are quarantined (``bad_experiment``), duplicates of an ``assignment_id``
lose (``duplicate_key``, see ``spark_jobs.silver._conform``).

Identity: ``person_id`` is the logged-in user id when the assignment carries one, else the
user id that ``silver.sessions`` of the same ds links to the anonymous id (a session that
logs in ties the cookie to the account; the smallest user id wins if a cookie saw several),
else the anonymous id itself. Links seen on other days are resolved again by the gold jobs,
which read the whole experiment window of sessions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spark_jobs.common import JobResult
from spark_jobs.silver._conform import SourceRules, conform_and_dedupe, run_silver, to_silver

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SOURCE = "experiment_assignments"


def rules():
    from pyspark.sql import functions as F

    return (("bad_experiment", ~F.col("experiment").rlike(r"^[a-z][a-z0-9_]{0,62}\z")),)


SPEC = SourceRules(SOURCE, order_by="assigned_at", rules=rules)


def anonymous_links(sessions: DataFrame) -> DataFrame:
    """``anonymous_id -> linked_user_id`` from sessions that logged in (smallest id wins)."""
    from pyspark.sql import functions as F

    return (
        sessions.where(F.col("user_id").isNotNull() & F.col("anonymous_id").isNotNull())
        .groupBy("anonymous_id")
        .agg(F.min("user_id").alias("linked_user_id"))
    )


def with_person_id(assignments: DataFrame, links: DataFrame) -> DataFrame:
    """``person_id`` = user id, else the session-linked user id, else the anonymous id."""
    from pyspark.sql import functions as F

    return (
        assignments.join(links, "anonymous_id", "left")
        .withColumn(
            "person_id",
            F.coalesce(
                F.col("user_id").cast("string"),
                F.col("linked_user_id").cast("string"),
                F.col("anonymous_id"),
            ),
        )
        .drop("linked_user_id")
    )


def transform(bronze: DataFrame, ds: str, sessions: DataFrame) -> tuple[DataFrame, DataFrame]:
    """bronze rows + silver sessions of ds -> (silver rows, quarantine rows)."""
    kept, quarantine = conform_and_dedupe(bronze, SPEC, ds)
    return to_silver(with_person_id(kept, anonymous_links(sessions)), SOURCE, ds), quarantine


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    """Needs ``silver.sessions`` for ds (run it first)."""
    from include.table_catalog_sources import SILVER_SESSIONS
    from include.tables import read_partition

    sessions = read_partition(spark, SILVER_SESSIONS, ds, settings)
    return run_silver(spark, ds, settings, SPEC, transform, {"sessions": sessions})
