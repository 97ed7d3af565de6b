"""gold.{experiment}_outcomes: seed 001's funnel rules applied to the base join, as of ds.

One row per exposed id (as in ``{experiment}_base``); dates compare at day granularity, as the
seed states its rules on dates ("on or after the first exposure date"):

- **eligible visitor**: first exposure date within [start, end], and no disqualifying prior
  activity: an id that was already a paying customer before the experiment started
  (``customer_type`` 'existing' at exposure with no paid start between the start date and the
  exposure to explain it), or whose account's first paid start ever (``first_paid_at``,
  however long before the read window) lies before the start date, is not eligible;
- **activation**: the earliest activation dated on/after ``exposure date - look-back`` and on/
  before the end date. The look-back is per user (``user_type`` from base): a web-only user
  has none (activation on/after the exposure date, even in an experiment with a look-back);
  a hybrid / in-app user may have activated up to ``activation_lookback_days`` (90 for
  homepage_cta_test) before exposure; exactly 90 days counts, 91 does not. A person who
  converted (paid) before the exposure is *not* an activation, even if eligible;
- **conversion**: an activation whose earliest paid start is on/after the activation date,
  on/after the exposure date and on/before the end date (the last day of the experiment:
  seed 001's "before the experiment end date" is read as before the experiment ends, i.e.
  through 23:59:59 of the end date, since a visitor may be exposed on that day; README);
- **new booking**: a conversion whose earliest booking on/after the conversion date is the
  person's first booking in the window (a booking before it, e.g. the day before the
  conversion, makes it not first-time); ``nb_mrr`` is that booking's MRR; a second booking is
  not counted; ``total_revenue`` sums the MRR of every booking on/after the conversion;
- **onboarding / checkout** (optional steps): need a valid activation, lie within [exposure
  date, end date]; completion = the earliest such complete, start = the earliest such start
  on/before the completion; a completion without a start is valid and leaves the start null;
- **support tickets** (``support_tickets_14d``): an eligible visitor's account's tickets
  created on a date within 14 days from the exposure date (``[exposure date, exposure date +
  14)``; the window of ``WINDOWED_COLUMNS``), 0 for a visitor without an account or an
  ineligible id; the metric waits for the window to close (``metric_library``);
- fraud / closure flags, ``contamination_flag`` and ``duplication_rank`` carried from base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.experiments import ExperimentSpec
from spark_jobs.common import JobResult
from spark_jobs.gold.experiments.common import Pinned, cast_to_contract, spec_from_params

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession


def _earliest(times: Column, keep) -> Column:
    from pyspark.sql import functions as F

    return F.array_min(F.filter(times, keep))


def with_eligibility(df: DataFrame, spec: ExperimentSpec) -> DataFrame:
    from pyspark.sql import functions as F

    exp_date = F.to_date("first_exposure_at")
    start, end = F.lit(spec.start_date), F.lit(spec.end_date)
    paid_in_experiment_before_exposure = F.exists(
        "paid_start_times",
        lambda t: (F.to_date(t) >= start) & (t < F.col("first_exposure_at")),
    )
    # a conversion before the start, however long before (the account's first paid start
    # ever, from the per-person state), disqualifies even if the person paid again later
    converted_before_start = F.coalesce(F.to_date("first_paid_at") < start, F.lit(False))
    paid_before_start = converted_before_start | (
        (F.col("customer_type") == "existing") & ~paid_in_experiment_before_exposure
    )
    return (
        df.withColumn("exposure_date", exp_date)
        .withColumn(
            "converted_before_exposure",
            (F.col("customer_type") == "existing").cast("int"),
        )
        .withColumn(
            "is_eligible_visitor",
            (exp_date.between(start, end) & ~paid_before_start).cast("int"),
        )
    )


def with_activation(df: DataFrame, spec: ExperimentSpec) -> DataFrame:
    from pyspark.sql import functions as F

    # seed 001: web-only users activate on/after the exposure date; hybrid / in-app users
    # (user_type, decided in base from in-app use before the exposure) within the look-back
    lookback = F.when(F.col("user_type") == "hybrid", F.lit(spec.activation_lookback_days))
    earliest_ok = F.date_sub(F.col("exposure_date"), lookback.otherwise(F.lit(0)))
    act = F.to_date(
        _earliest(
            "activation_times",
            lambda t: (F.to_date(t) >= earliest_ok) & (F.to_date(t) <= F.lit(spec.end_date)),
        )
    )
    activated = (
        (F.col("is_eligible_visitor") == 1)
        & act.isNotNull()
        & (F.col("converted_before_exposure") == 0)
    )
    return (
        df.withColumn("is_activated", activated.cast("int"))
        .withColumn("activation_date", F.when(activated, act))
        .withColumn(
            "is_hybrid_activation",
            (activated & (act < F.col("exposure_date"))).cast("int"),
        )
    )


def with_conversion(df: DataFrame, spec: ExperimentSpec) -> DataFrame:
    from pyspark.sql import functions as F

    conv = F.to_date(
        _earliest(
            "paid_start_times",
            lambda t: (F.to_date(t) >= F.col("activation_date"))
            & (F.to_date(t) >= F.col("exposure_date"))
            & (F.to_date(t) <= F.lit(spec.end_date)),
        )
    )
    converted = (F.col("is_activated") == 1) & conv.isNotNull()
    return df.withColumn("is_converted", converted.cast("int")).withColumn(
        "conversion_date", F.when(converted, conv)
    )


def with_booking(df: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    after = F.filter("bookings", lambda b: F.to_date(b["booked_at"]) >= F.col("conversion_date"))
    first_after = F.array_min(after)
    earlier = F.exists("bookings", lambda b: b["booked_at"] < first_after["booked_at"])
    new = (F.col("is_converted") == 1) & first_after.isNotNull() & ~earlier
    zero = F.lit(0).cast("decimal(12,2)")
    revenue = F.aggregate(after, zero, lambda acc, b: (acc + b["mrr"]).cast("decimal(12,2)"))
    return (
        df.withColumn("new_booking_flag", new.cast("int"))
        .withColumn("booking_date", F.when(new, F.to_date(first_after["booked_at"])))
        .withColumn("nb_mrr", F.when(new, first_after["mrr"]).otherwise(zero))
        .withColumn(
            "total_revenue",
            F.when(F.col("is_converted") == 1, F.coalesce(revenue, zero)).otherwise(zero),
        )
    )


def with_support_tickets(df: DataFrame) -> DataFrame:
    """``support_tickets_14d``: tickets dated within the window from the exposure date."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import WINDOWED_COLUMNS

    days = WINDOWED_COLUMNS["support_tickets_14d"]
    exposed = F.col("exposure_date")
    inside = F.filter(
        "support_ticket_times",
        lambda t: (F.to_date(t) >= exposed) & (F.to_date(t) < F.date_add(exposed, days)),
    )
    eligible = F.col("is_eligible_visitor") == 1
    return df.withColumn(
        "support_tickets_14d", F.when(eligible, F.size(inside)).otherwise(F.lit(0))
    )


def with_optional_step(df: DataFrame, spec: ExperimentSpec, step: str) -> DataFrame:
    """``{step}_start_date`` / ``{step}_complete_date`` under seed 001's optional-step rules."""
    from pyspark.sql import functions as F

    def in_window(t: Column) -> Column:
        return (F.to_date(t) >= F.col("exposure_date")) & (F.to_date(t) <= F.lit(spec.end_date))

    valid = F.col("is_activated") == 1
    complete_at = _earliest(f"{step}_complete_times", in_window)
    start_at = _earliest(
        f"{step}_start_times",
        lambda t: in_window(t) & (complete_at.isNull() | (t <= complete_at)),
    )
    return df.withColumn(f"{step}_complete_date", F.when(valid, F.to_date(complete_at))).withColumn(
        f"{step}_start_date", F.when(valid, F.to_date(start_at))
    )


def transform(spec: ExperimentSpec, base: DataFrame, ds: str) -> DataFrame:
    """Base rows of ds -> outcome rows of ds (pure: no reads, writes or clocks)."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import outcomes_contract

    out = (
        base.transform(lambda d: with_eligibility(d, spec))
        .transform(lambda d: with_activation(d, spec))
        .transform(lambda d: with_conversion(d, spec))
        .transform(with_booking)
        .transform(lambda d: with_optional_step(d, spec, "onboarding"))
        .transform(lambda d: with_optional_step(d, spec, "checkout"))
        .transform(with_support_tickets)
        .withColumn("is_fraud", F.col("is_fraud").cast("int"))
        .withColumn("is_closed", F.col("is_closed").cast("int"))
        .withColumn("ds", F.lit(ds))
    )
    return cast_to_contract(out, outcomes_contract(spec.name))


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.table_catalog_experiments import contract_for
    from include.tables import read_partition, write_partition

    spec = spec_from_params(params, ds)
    base_c, contract = contract_for(spec.name, "base"), contract_for(spec.name, "outcomes")
    with Pinned() as pin:
        base = pin(read_partition(spark, base_c, ds, settings))
        result = JobResult(job="gold.experiments.outcomes", ds=ds, rows_in=base.count())
        out = write_partition(spark, transform(spec, base, ds), contract, ds, settings)
    result.rows_out = out["rows"]
    result.versions = {contract.qualified_name: out["version"]}
    result.extra = {"experiment": spec.name}
    return result.check_accounting()
