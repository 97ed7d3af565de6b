"""What the growth marts share: which events are website hits (seed 003)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# A website hit is a page load: a page_view or a landing_page event of silver.fct_website_events
# (deduplicated and conformed there). Logins, funnel steps, exposures and video plays are
# actions on a page already counted, so counting them would inflate traffic.
HIT_ACTIONS: tuple[str, ...] = ("page_view", "landing_page")
ALL_HOSTS = "all"


def with_is_hit(events: DataFrame) -> DataFrame:
    """Add ``is_hit``: the event is a website hit (see ``HIT_ACTIONS``)."""
    from pyspark.sql import functions as F

    return events.withColumn("is_hit", F.col("dim_action_type").isin(*HIT_ACTIONS))


def filter_hits(events: DataFrame) -> DataFrame:
    """Keep website hits only."""
    from pyspark.sql import functions as F

    return events.where(F.col("dim_action_type").isin(*HIT_ACTIONS))
