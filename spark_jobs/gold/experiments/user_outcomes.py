"""gold.user_outcomes (seed 002): purchase, revenue and engagement in the outcome window.

One row per ``gold.user_exposure`` row of (ds, experiment). The window of a user is the
half-open interval ``[first_exposure_at, first_exposure_at + outcome_window_days)`` (7 days
for pdp_redesign): an order 7 days minus a microsecond after the first product view counts,
one at exactly 7 days does not, so consecutive windows tile and nothing is counted twice.

- attribution: an event or order belongs to the user when its session's cookie
  (``silver.sessions.anonymous_id``, through ``other_properties['session_id']`` for web
  events and ``session_id`` for orders) is one of the user's exposed ids (``unit_ids``), or
  when it carries the user's account id;
- ``purchased`` = at least one order in the window whose status is not 'failed' (a refunded
  order was still a purchase decision); ``orders`` counts them; ``revenue`` = the amount of
  the window's 'completed' orders (refunded money is not revenue), from ``silver.orders``,
  the system of record for money (web events only echo it);
- the funnel (seed 002: product view -> add to cart -> checkout -> purchase):
  ``added_to_cart`` / ``reached_checkout`` = at least one add_to_cart / checkout_start event
  of the user in the window (user-level flags, so a session that logged checkout_start
  before add_to_cart still counts both);
- ``engagement_intensity`` = every website event of the user in the window (seed 002: "event
  count within outcome window"), the exposure view included; ``browsing_events`` = those
  other than the checkout funnel steps (add_to_cart, checkout_start, checkout_complete,
  purchase). The readout's logistic model uses ``browsing_events``: the steps *are* the
  outcome, and a predictor that counts them makes every purchase look "engaged" (it matches
  the generator's planted intensity, 1 + engagement events);
- ``window_complete``: the window has closed by the end of ds (``window_end_at <= ds + 1
  day``). Open windows are kept (their counts so far) and left out of the statistics.

Read bound: web events, sessions and orders from the start date to
``min(ds, end + outcome_window_days + 2 days)``: the last exposure can land on end + 1
(late), its window closes 7 days later, and late-arriving events land one day after their
time. Events outside a user's window are then dropped by time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.experiments import ExperimentSpec
from spark_jobs.common import JobResult
from spark_jobs.gold.experiments.common import (
    Pinned,
    capped,
    cast_to_contract,
    day_after,
    spec_from_params,
)
from spark_jobs.gold.experiments.user_exposure import require_shop

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

CHECKOUT_STEPS = ("add_to_cart", "checkout_start", "checkout_complete", "purchase")


def read_bound(spec: ExperimentSpec, ds: str) -> tuple[str, str]:
    """Partitions of web events / sessions / orders that can hold a window's activity."""
    return spec.start_date.isoformat(), capped(ds, spec.outcomes_last_day)


def with_window(exposure: DataFrame, spec: ExperimentSpec, ds: str) -> DataFrame:
    """``window_end_at`` and ``window_complete`` (closed by the end of ds)."""
    from pyspark.sql import functions as F

    end = F.col("first_exposure_at") + F.expr(f"INTERVAL {spec.outcome_window_days} DAYS")
    known_until = F.to_timestamp(F.lit(day_after(ds)))
    return exposure.withColumn("window_end_at", end).withColumn(
        "window_complete", end <= known_until
    )


def attributed(
    facts: DataFrame, session_col: Column, exposure: DataFrame, sessions: DataFrame
) -> DataFrame:
    """``facts`` + ``person_id``: by the session's cookie, else by the account id."""
    from pyspark.sql import functions as F

    cookie_of = sessions.groupBy("session_id").agg(F.min("anonymous_id").alias("_anon"))
    by_cookie = exposure.select(
        F.explode("unit_ids").alias("_anon"), F.col("person_id").alias("_p_cookie")
    )
    by_user = exposure.where(F.col("user_id").isNotNull()).select(
        F.col("user_id").alias("_uid"), F.col("person_id").alias("_p_user")
    )
    return (
        facts.withColumn("session_id", session_col)
        .join(cookie_of, "session_id", "left")
        .join(F.broadcast(by_cookie), "_anon", "left")
        .join(F.broadcast(by_user), F.col("user_id") == F.col("_uid"), "left")
        .withColumn("person_id", F.coalesce("_p_cookie", "_p_user"))
        .where(F.col("person_id").isNotNull())
        .drop("_anon", "_p_cookie", "_uid", "_p_user")
    )


def in_window(facts: DataFrame, windows: DataFrame, time_col: str) -> DataFrame:
    """Facts of a person whose time lies in [first_exposure_at, window_end_at)."""
    from pyspark.sql import functions as F

    w = windows.select("person_id", "first_exposure_at", "window_end_at")
    t = F.col(time_col)
    return facts.join(w, "person_id").where(
        (t >= F.col("first_exposure_at")) & (t < F.col("window_end_at"))
    )


def event_counts(windowed_events: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    action = F.col("dim_action_type")
    browsing = ~action.isin(*CHECKOUT_STEPS)
    return windowed_events.groupBy("person_id").agg(
        F.count(F.lit(1)).alias("engagement_intensity"),
        F.count(F.when(browsing, 1)).alias("browsing_events"),
        F.max((action == "add_to_cart").cast("int")).alias("added_to_cart"),
        F.max((action == "checkout_start").cast("int")).alias("reached_checkout"),
    )


def order_totals(windowed_orders: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    status = F.col("status")
    return windowed_orders.groupBy("person_id").agg(
        F.count(F.when(status != "failed", 1)).alias("orders"),
        F.sum(F.when(status == "completed", F.col("amount"))).alias("revenue"),
    )


def transform(
    spec: ExperimentSpec,
    ds: str,
    exposure: DataFrame,
    web: DataFrame,
    sessions: DataFrame,
    orders: DataFrame,
) -> DataFrame:
    """user_exposure rows of (ds, experiment) + bounded silver -> user_outcomes rows."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_OUTCOMES

    windows = with_window(exposure.where(F.col("experiment") == spec.name), spec, ds)
    events = attributed(
        web.select("user_id", "dim_action_type", "event_timestamp", "other_properties"),
        F.col("other_properties")["session_id"],
        windows,
        sessions,
    )
    bought = attributed(
        orders.select("user_id", "session_id", "amount", "status", "ordered_at"),
        F.col("session_id"),
        windows,
        sessions,
    )
    zero = F.lit(0).cast("decimal(12,2)")
    counts = event_counts(in_window(events, windows, "event_timestamp"))
    totals = order_totals(in_window(bought, windows, "ordered_at"))
    out = (
        windows.join(counts, "person_id", "left")
        .join(totals, "person_id", "left")
        .select(
            "experiment",
            "person_id",
            "variant",
            "first_exposure_at",
            "window_end_at",
            "window_complete",
            F.coalesce("added_to_cart", F.lit(0)).alias("added_to_cart"),
            F.coalesce("reached_checkout", F.lit(0)).alias("reached_checkout"),
            (F.coalesce("orders", F.lit(0)) > 0).cast("int").alias("purchased"),
            F.coalesce("orders", F.lit(0)).alias("orders"),
            F.coalesce(F.col("revenue").cast("decimal(12,2)"), zero).alias("revenue"),
            F.coalesce("engagement_intensity", F.lit(0)).alias("engagement_intensity"),
            F.coalesce("browsing_events", F.lit(0)).alias("browsing_events"),
            "contamination_flag",
            "device_type",
            "country",
            "utm_source",
            "product_id",
            "product_category",
            F.lit(ds).alias("ds"),
        )
    )
    return cast_to_contract(out, USER_OUTCOMES)


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from pyspark.sql import functions as F

    from include.catalog import create_experiment_views
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_experiments import USER_EXPOSURE, USER_OUTCOMES
    from include.table_catalog_sources import SILVER_ORDERS, SILVER_SESSIONS
    from include.tables import read_partition, write_partition
    from spark_jobs.gold.experiments.common import read_range

    spec = require_shop(spec_from_params(params, ds))
    lo, hi = read_bound(spec, ds)

    def bounded(contract):
        return read_range(spark, contract, lo, hi, settings)

    with Pinned() as pin:
        exposure = pin(
            read_partition(spark, USER_EXPOSURE, ds, settings).where(
                F.col("experiment") == spec.name
            )
        )
        result = JobResult(
            job="gold.experiments.user_outcomes", ds=ds, rows_in=exposure.count()
        )
        # the sessions map both web events and orders to cookies: scan the window once
        sessions = pin(bounded(SILVER_SESSIONS).select("session_id", "anonymous_id"))
        rows = transform(
            spec, ds, exposure, bounded(FCT_WEBSITE_EVENTS), sessions, bounded(SILVER_ORDERS)
        )
        out = write_partition(
            spark, rows, USER_OUTCOMES, ds, settings, slice_={"experiment": spec.name}
        )
    # gold.<name>_outcomes(_current): the experiment's users under the SaaS naming
    views = create_experiment_views(spark, spec)
    result.rows_out = out["rows"]
    result.versions = {USER_OUTCOMES.qualified_name: out["version"]}
    result.extra = {"experiment": spec.name, "read_range": [lo, hi], "views": views}
    return result.check_accounting()
