"""gold.{experiment}_base: the web-finance join (seed 000 stage 1), one row per exposed id.

As of ``ds``, for one SaaS-funnel experiment (params ``{"experiment": name}``):
- exposures from ``silver.experiment_assignments`` dated within [start, end] and <= ds; an
  id also exposed in the ``PRE_START_EXPOSURE_DAYS`` before the start keeps that first
  exposure (``first_exposure_at`` before the start), which makes it an ineligible visitor
  in ``_outcomes`` (seed 001); an id exposed only before the start has no row;
- identity: a person may carry several anonymous ids and accounts; ``silver.sessions`` and
  the assignments link cookies to accounts (``common.identity_links``); each id keeps its own
  row (``unit_id`` = anonymous id) and ``duplication_rank`` orders a person's rows (1 = the
  earliest exposed); ``contamination_flag`` says whether the person saw several variants;
- attributes: the account as of ds (region, plan, package, list size, fraud, closure), the
  first session's device for anonymous visitors, country and UTM source of the exposure
  event (``silver.fct_website_events``); ``customer_type`` is the state *at exposure*;
- the person's billing and funnel event times within the read window, kept as arrays, so
  that ``{experiment}_outcomes`` applies seed 001's rules without re-reading silver;
- ``pre_exposure_sessions``: sessions of the id before its first exposure (the CUPED
  covariate);
- ``first_paid_at``: the account's first paid start ever landed by ds (the per-person state
  ``silver.person_conversions``): a conversion however long before the window makes the
  person 'existing' at exposure, so not an eligible visitor (seed 001);
- ``user_type``: seed 001 tells web-only users (activation on/after the first exposure date)
  from hybrid / in-app users (activation may precede the exposure by up to the look-back). It
  is decided per id from the data: 'hybrid' when the id's account used the product in-app
  (``silver.product_usage`` rows with logins) on at least one day in the look-back before its
  exposure day (``pre_exposure_app_days``), 'web_only' otherwise (no account, or no in-app
  use before the exposure day, or an experiment without a look-back).

Reads are bounded (see ``spark_jobs.gold.experiments.common``): exposures from
``start - PRE_START_EXPOSURE_DAYS`` to ``min(ds, end + 1)``, everything else from ``start -
activation look-back`` to ds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.experiments import ExperimentSpec
from spark_jobs.common import JobResult
from spark_jobs.gold.experiments.common import (
    Pinned,
    cast_to_contract,
    distinct_count,
    experiment_assignments,
    exposures_in_window,
    first_paid,
    resolved_exposures,
    spec_from_params,
    with_contamination,
    with_duplication_rank,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

FUNNEL_STEPS = ("onboarding_start", "onboarding_complete", "checkout_start", "checkout_complete")


def list_size_group(list_size: Column) -> Column:
    from pyspark.sql import functions as F

    return (
        F.when(list_size.isNull(), F.lit("unknown"))
        .when(list_size < 1_000, F.lit("0-1k"))
        .when(list_size < 5_000, F.lit("1k-5k"))
        .when(list_size < 25_000, F.lit("5k-25k"))
        .otherwise(F.lit("25k+"))
    )


def units_of(exposures: DataFrame, spec: ExperimentSpec) -> DataFrame:
    """One row per exposed id: first exposure, its variant, number of exposures, person."""
    from pyspark.sql import functions as F

    return (
        exposures.groupBy("anonymous_id")
        .agg(
            F.min("assigned_at").alias("first_exposure_at"),
            F.min_by("variant", F.struct("assigned_at", "assignment_id")).alias("variant"),
            F.count(F.lit(1)).cast("int").alias("exposure_count"),
            F.min("resolved_user_id").alias("user_id"),
        )
        .select(
            F.lit(spec.name).alias("experiment"),
            F.col("anonymous_id").alias("unit_id"),
            F.coalesce(F.col("user_id").cast("string"), F.col("anonymous_id")).alias("person_id"),
            "user_id",
            "variant",
            "first_exposure_at",
            "exposure_count",
        )
    )


def latest_accounts(accounts: DataFrame) -> DataFrame:
    """The latest account row per user as of the newest partition read (ds)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.partitionBy("user_id").orderBy(F.col("updated_at").desc(), F.col("ds").desc())
    return accounts.withColumn("_r", F.row_number().over(w)).where("_r = 1").drop("_r")


def snapshot_at_exposure(units: DataFrame, accounts: DataFrame) -> DataFrame:
    """``unit_id -> customer_type_snapshot``: the account as exported on/before the exposure day."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    joined = units.select("unit_id", "user_id", "first_exposure_at").join(
        accounts.select("user_id", "customer_type", "updated_at", F.col("ds").alias("acct_ds")),
        "user_id",
    )
    joined = joined.where(F.col("acct_ds") <= F.date_format("first_exposure_at", "yyyy-MM-dd"))
    w = Window.partitionBy("unit_id").orderBy(F.col("acct_ds").desc(), F.col("updated_at").desc())
    return (
        joined.withColumn("_r", F.row_number().over(w))
        .where("_r = 1")
        .select("unit_id", F.col("customer_type").alias("customer_type_snapshot"))
    )


def app_usage_before_exposure(
    units: DataFrame, usage: DataFrame, spec: ExperimentSpec
) -> DataFrame:
    """``unit_id -> pre_exposure_app_days``: distinct days on which the unit's account used the
    product in-app (a ``silver.product_usage`` row with logins > 0) from the exposure date minus
    the look-back (inclusive) to the day before the exposure date. Units without such a day
    have no row (0 after the join)."""
    from pyspark.sql import functions as F

    exposure_date = F.to_date("first_exposure_at")
    used = units.select("unit_id", "user_id", "first_exposure_at").join(
        usage.where(F.col("logins") > 0).select("user_id", "usage_date"), "user_id"
    )
    used = used.where(
        (F.col("usage_date") < exposure_date)
        & (F.col("usage_date") >= F.date_sub(exposure_date, spec.activation_lookback_days))
    )
    return used.groupBy("unit_id").agg(
        F.count_distinct("usage_date").cast("int").alias("pre_exposure_app_days")
    )


def billing_arrays(billing: DataFrame) -> DataFrame:
    """Per user: sorted activation, paid-start times and (time, MRR) bookings."""
    from pyspark.sql import functions as F

    def times(kind: str) -> Column:
        return F.array_sort(
            F.collect_list(F.when(F.col("event_type") == kind, F.col("event_time")))
        )

    booking = F.when(
        F.col("event_type") == "booking",
        F.struct(F.col("event_time").alias("booked_at"), F.col("mrr").alias("mrr")),
    )
    return billing.groupBy("user_id").agg(
        times("activation").alias("activation_times"),
        times("paid_start").alias("paid_start_times"),
        F.array_sort(F.collect_list(booking)).alias("bookings"),
    )


def funnel_arrays(web: DataFrame) -> DataFrame:
    """Per logged-in user: sorted times of the optional onboarding / checkout steps."""
    from pyspark.sql import functions as F

    steps = web.where(F.col("user_id").isNotNull() & F.col("dim_action_type").isin(*FUNNEL_STEPS))
    return steps.groupBy("user_id").agg(
        *[
            F.array_sort(
                F.collect_list(
                    F.when(F.col("dim_action_type") == s, F.col("event_timestamp"))
                )
            ).alias(f"{s}_times")
            for s in FUNNEL_STEPS
        ]
    )


def ticket_arrays(tickets: DataFrame) -> DataFrame:
    """Per user: the sorted creation times of the account's support tickets."""
    from pyspark.sql import functions as F

    return tickets.groupBy("user_id").agg(
        F.array_sort(F.collect_list("created_at")).alias("support_ticket_times")
    )


def web_rows_used(web: DataFrame, spec: ExperimentSpec) -> DataFrame:
    """The web events base looks at: the experiment's exposure events and logged-in funnel steps.

    ``exposure_context`` and ``funnel_arrays`` filter further; filtering once here lets the job
    persist the small result instead of scanning the window's web events for each of them.
    """
    from pyspark.sql import functions as F

    action = F.col("dim_action_type")
    return web.where(
        ((action == spec.exposure_event) & (F.col("other_properties")["experiment"] == spec.name))
        | (F.col("user_id").isNotNull() & action.isin(*FUNNEL_STEPS))
    ).select(
        "user_id", "logged_out_user_id", "dim_country", "dim_action_type", "event_timestamp",
        "other_properties",
    )


SESSION_COLUMNS = ("anonymous_id", "user_id", "device_type", "started_at")


def exposure_context(
    web: DataFrame, spec: ExperimentSpec, properties: tuple[str, ...] = ()
) -> DataFrame:
    """Per anonymous id: country and UTM source of its first exposure event on the website,
    and each of ``properties`` (keys of its ``other_properties``, e.g. product_id)."""
    from pyspark.sql import functions as F

    props = F.col("other_properties")
    events = web.where(
        (F.col("dim_action_type") == spec.exposure_event)
        & (props["experiment"] == spec.name)
        & props["anonymous_id"].isNotNull()
    )
    order = F.struct("event_timestamp", "logged_out_user_id")
    return events.groupBy(props["anonymous_id"].alias("unit_id")).agg(
        F.min_by("dim_country", order).alias("web_country"),
        F.min_by(props["utm_source"], order).alias("utm_source"),
        *[F.min_by(props[p], order).alias(p) for p in properties],
    )


def session_context(units: DataFrame, sessions: DataFrame) -> DataFrame:
    """Per id: device of its first session and sessions started before its first exposure."""
    from pyspark.sql import functions as F

    joined = units.select("unit_id", "first_exposure_at").join(
        sessions.select(F.col("anonymous_id").alias("unit_id"), "device_type", "started_at"),
        "unit_id",
    )
    return joined.groupBy("unit_id").agg(
        F.min_by("device_type", F.struct("started_at", "device_type")).alias("session_device"),
        F.sum(F.when(F.col("started_at") < F.col("first_exposure_at"), 1).otherwise(0))
        .cast("int")
        .alias("pre_exposure_sessions"),
    )


def with_customer_type(df: DataFrame) -> DataFrame:
    """``customer_type`` at exposure: 'existing' if the person paid before being exposed.

    Evidence: a paid start before the exposure (in the read window, or the account's first
    paid start ever, ``first_paid_at``, from the per-person state), or an account export
    on/before the exposure day saying 'existing' that no paid start on the exposure day
    (after it) explains.
    """
    from pyspark.sql import functions as F

    exposed = F.col("first_exposure_at")
    paid = F.coalesce(F.col("paid_start_times"), F.array().cast("array<timestamp>"))
    paid_before = F.exists(paid, lambda t: t < exposed)
    paid_that_day = F.exists(
        paid, lambda t: (t >= exposed) & (F.to_date(t) == F.to_date(exposed))
    )
    # the first conversion ever (silver.person_conversions), however long before the window
    paid_ever_before = F.coalesce(F.col("first_paid_at") < exposed, F.lit(False))
    existing = (
        paid_before
        | paid_ever_before
        | ((F.col("customer_type_snapshot") == "existing") & ~paid_that_day)
    )
    return df.withColumn(
        "customer_type",
        F.when(F.col("user_id").isNull(), F.lit("prospect"))
        .when(existing, F.lit("existing"))
        .otherwise(F.lit("prospect")),
    )


def transform(
    spec: ExperimentSpec,
    ds: str,
    assignments: DataFrame,
    sessions: DataFrame,
    accounts: DataFrame,
    billing: DataFrame,
    web: DataFrame,
    first_paid: DataFrame | None = None,
    usage: DataFrame | None = None,
    tickets: DataFrame | None = None,
) -> DataFrame:
    """Silver inputs (already bounded to the read window) -> base rows as of ds.

    ``first_paid``: ``user_id -> first_paid_at`` (``common.first_paid``, every landing day up
    to ds); None: no account has converted before (an empty state). ``usage``:
    ``silver.product_usage`` rows of the read window; None: no in-app use (every id is
    web-only). ``tickets``: ``silver.support_tickets`` rows of the read window; None: no
    ticket (every ``support_ticket_times`` is empty)."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import base_contract

    web = web_rows_used(web, spec)
    exposures = resolved_exposures(spec, ds, assignments, sessions, pre_start=True)
    units = units_of(exposures, spec)
    person_of = units.select(F.col("unit_id").alias("anonymous_id"), "person_id")
    units = with_duplication_rank(
        with_contamination(units, exposures.drop("person_id").join(person_of, "anonymous_id"))
    )
    account = latest_accounts(accounts).select(
        "user_id", "region", "country", "plan", "package", "list_size",
        "acquisition_channel", F.col("device_type").alias("account_device"), "signup_at",
        "is_fraud", "is_closed",
    )
    joined = (
        units.join(account, "user_id", "left")
        .join(snapshot_at_exposure(units, accounts), "unit_id", "left")
        .join(session_context(units, sessions), "unit_id", "left")
        .join(exposure_context(web, spec), "unit_id", "left")
        .join(billing_arrays(billing), "user_id", "left")
        .join(funnel_arrays(web), "user_id", "left")
    )
    if first_paid is None:
        joined = joined.withColumn("first_paid_at", F.lit(None).cast("timestamp"))
    else:
        joined = joined.join(first_paid.select("user_id", "first_paid_at"), "user_id", "left")
    if tickets is None:
        joined = joined.withColumn("support_ticket_times", F.lit(None).cast("array<timestamp>"))
    else:
        joined = joined.join(ticket_arrays(tickets), "user_id", "left")
    if usage is None:
        joined = joined.withColumn("pre_exposure_app_days", F.lit(None).cast("int"))
    else:
        joined = joined.join(app_usage_before_exposure(units, usage, spec), "unit_id", "left")
    app_days = F.coalesce("pre_exposure_app_days", F.lit(0))
    empty_ts = F.array().cast("array<timestamp>")
    out = with_customer_type(joined).select(
        "experiment", "unit_id", "person_id", "user_id", "variant", "first_exposure_at",
        "exposure_count", "person_id_count", "variants_seen", "contamination_flag",
        "duplication_rank", "region",
        F.coalesce("country", "web_country").alias("country"),
        F.coalesce("account_device", "session_device").alias("device_type"),
        F.coalesce("utm_source", "acquisition_channel").alias("traffic_source"),
        "customer_type", "plan", "package", "list_size",
        list_size_group(F.col("list_size")).alias("list_size_group"),
        "signup_at",
        F.coalesce("is_fraud", F.lit(False)).alias("is_fraud"),
        F.coalesce("is_closed", F.lit(False)).alias("is_closed"),
        F.coalesce("pre_exposure_sessions", F.lit(0)).alias("pre_exposure_sessions"),
        *[
            F.coalesce(c, empty_ts).alias(c)
            for c in ("activation_times", "paid_start_times")
        ],
        F.coalesce("bookings", F.array()).alias("bookings"),
        *[F.coalesce(f"{s}_times", empty_ts).alias(f"{s}_times") for s in FUNNEL_STEPS],
        F.coalesce("support_ticket_times", empty_ts).alias("support_ticket_times"),
        "first_paid_at",
        app_days.alias("pre_exposure_app_days"),
        F.when(app_days > 0, F.lit("hybrid")).otherwise(F.lit("web_only")).alias("user_type"),
        F.lit(ds).alias("ds"),
    )
    return cast_to_contract(out, base_contract(spec.name))


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_experiments import contract_for
    from include.table_catalog_sources import (
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_PRODUCT_USAGE,
        SILVER_SESSIONS,
        SILVER_SUPPORT_TICKETS,
    )
    from include.tables import write_partition
    from spark_jobs.gold.experiments.common import read_range

    spec = spec_from_params(params, ds)
    contract = contract_for(spec.name, "base")
    lo, hi = spec.read_range(ds)
    window = spec.exposure_range(ds) or (ds, ds)

    def bounded(c, a=lo, b=hi):
        return read_range(spark, c, a, b, settings)

    with Pinned() as pin:
        # from before the start: a unit first exposed then is not a visitor (seed 001)
        assignments = pin(
            experiment_assignments(
                bounded(SILVER_EXPERIMENT_ASSIGNMENTS, spec.pre_start_day.isoformat(), window[1]),
                spec,
            )
        )
        rows = transform(
            spec,
            ds,
            assignments,
            pin(bounded(SILVER_SESSIONS).select(*SESSION_COLUMNS)),
            pin(bounded(SILVER_ACCOUNTS)),
            bounded(SILVER_BILLING_EVENTS),
            pin(web_rows_used(bounded(FCT_WEBSITE_EVENTS), spec)),
            first_paid(spark, ds, settings),
            bounded(SILVER_PRODUCT_USAGE).select("user_id", "usage_date", "logins"),
            bounded(SILVER_SUPPORT_TICKETS).select("user_id", "created_at"),
        )
        if spec.exposure_range(ds) is None:
            rows, exposed_ids = rows.limit(0), 0
        else:  # rows in: the exposed ids, counted on the exposures (one output row each)
            exposed_ids = distinct_count(exposures_in_window(spec, ds, assignments), "anonymous_id")
        out = write_partition(spark, rows, contract, ds, settings)
    result = JobResult(job="gold.experiments.base", ds=ds, rows_in=exposed_ids)
    result.rows_out = out["rows"]
    result.versions = {contract.qualified_name: out["version"]}
    result.extra = {"experiment": spec.name, "read_range": [lo, hi]}
    return result.check_accounting()
