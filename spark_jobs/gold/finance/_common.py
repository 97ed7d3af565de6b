"""What the finance marts share: month bounds of a run, history reads, MRR snapshots.

The snapshot rule (seed 004's "strict snapshot approach"): an account's MRR at an instant is
the ``mrr`` of its latest billing event strictly before that instant (``mrr`` is the MRR
after the event), 0 when it has none. A month's start snapshot is taken at its first instant
(``YYYY-MM-01T00:00:00Z``), its end snapshot at the first instant of the next month or, while
the month is still open, at the end of ``ds`` (month-to-date). These are the same instants as
the generator's planted bridge (``include.generator.truth.mrr_by_month``).

How reads are bounded: silver tables are partitioned by landing day, so a run for ``ds``
reads partitions ``ds <= run ds`` (nothing that landed later, so a re-run of an old day gives
the same answer) and only events before the end of ``ds``. A snapshot needs each account's
whole billing history; billing events are a few rows per account per month, so this stays
small next to the web events (a carried snapshot table would make the cost constant but
would make each month depend on the previous month's run).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from include.contracts import TableContract
    from include.settings import Settings

MONEY = "decimal(18,2)"
CATEGORIES = ("new", "expansion", "contraction", "churn", "flat")


@dataclass(frozen=True)
class MonthWindow:
    """The calendar month a run for ``ds`` rebuilds, and the instants that bound it.

    ``start`` is the month's first instant, ``stop`` the exclusive end of what is known:
    the next month's first instant, or the day after ``ds`` while the month is open.
    """

    ds: str
    month: str
    start: str
    stop: str

    @classmethod
    def of(cls, ds: str) -> MonthWindow:
        from include.tables import validate_ds

        day = dt.date.fromisoformat(validate_ds(ds))
        first = day.replace(day=1)
        next_first = (first + dt.timedelta(days=32)).replace(day=1)
        stop = min(next_first, day + dt.timedelta(days=1))
        return cls(
            ds=ds, month=first.strftime("%Y-%m"), start=first.isoformat(), stop=stop.isoformat()
        )


def ts(day: str) -> Column:
    """A UTC midnight as a TIMESTAMP literal (the session time zone is UTC)."""
    from pyspark.sql import functions as F

    return F.to_timestamp(F.lit(day))


def filter_landed_by(df: DataFrame, ds: str) -> DataFrame:
    """Keep rows that had landed by ``ds`` (silver partition ``ds`` <= run ds)."""
    from pyspark.sql import functions as F

    return df.where(F.col("ds") <= F.lit(ds))


def filter_between(df: DataFrame, column: str, start: str, stop: str) -> DataFrame:
    """Keep rows with ``start <= column < stop`` (UTC days)."""
    from pyspark.sql import functions as F

    return df.where((F.col(column) >= ts(start)) & (F.col(column) < ts(stop)))


def read_history(
    spark: SparkSession, contract: TableContract, ds: str, settings: Settings
) -> DataFrame:
    """Every partition of a silver table that landed on or before ``ds``."""
    from include.tables import read_table

    return filter_landed_by(read_table(spark, contract, settings), ds)


def mrr_at(billing: DataFrame, instant: str) -> DataFrame:
    """``(user_id, mrr)``: each account's MRR just before ``instant`` (latest event's mrr).

    Accounts without an event before ``instant`` are absent (their MRR is 0). Ties on
    event_time are broken by billing_event_id so the answer is deterministic.
    """
    from pyspark.sql import functions as F

    return (
        billing.where(F.col("event_time") < ts(instant))
        .groupBy("user_id")
        .agg(F.max_by("mrr", F.struct("event_time", "billing_event_id")).alias("mrr"))
    )


def user_month_snapshots(billing: DataFrame, window: MonthWindow) -> DataFrame:
    """``(user_id, start_mrr, end_mrr, mrr_category)`` of every account paying at either end.

    Categories follow seed 004: new (start 0, end > 0), churn (start > 0, end 0), expansion
    (end > start > 0), contraction (0 < end < start), flat (start = end > 0). Accounts with 0
    at both snapshots (trials, long-gone churners) are dropped: they move nothing.
    """
    from pyspark.sql import functions as F

    zero = F.lit(0).cast(MONEY)
    start = mrr_at(billing, window.start).withColumnRenamed("mrr", "start_mrr")
    end = mrr_at(billing, window.stop).withColumnRenamed("mrr", "end_mrr")
    both = start.join(end, "user_id", "full_outer").select(
        "user_id",
        F.coalesce(F.col("start_mrr").cast(MONEY), zero).alias("start_mrr"),
        F.coalesce(F.col("end_mrr").cast(MONEY), zero).alias("end_mrr"),
    )
    s, e = F.col("start_mrr"), F.col("end_mrr")
    category = (
        F.when((s == 0) & (e > 0), "new")
        .when((s > 0) & (e == 0), "churn")
        .when((s > 0) & (e > s), "expansion")
        .when((s > 0) & (e < s), "contraction")
        .otherwise("flat")
    )
    return both.where((s > 0) | (e > 0)).withColumn("mrr_category", category)


def with_month_columns(df: DataFrame, window: MonthWindow) -> DataFrame:
    """Add ``as_of_ds`` and the ``month`` partition column."""
    from pyspark.sql import functions as F

    return df.withColumn("as_of_ds", F.lit(window.ds)).withColumn("month", F.lit(window.month))


def safe_ratio(numerator: Column, denominator: Column) -> Column:
    """numerator / denominator as DOUBLE, null when the denominator is 0 or null."""
    from pyspark.sql import functions as F

    return F.when(denominator > 0, numerator.cast("double") / denominator.cast("double"))


def month_as_of(spark: SparkSession, contract: TableContract, month: str, settings) -> str | None:
    """The ``as_of_ds`` a monthly mart's partition holds now (None: not built yet)."""
    from pyspark.sql import functions as F

    from include.tables import read_partition, table_exists

    if not table_exists(spark, contract, settings):
        return None
    return read_partition(spark, contract, month, settings).agg(F.max("as_of_ds")).first()[0]


def later_state(spark: SparkSession, contract: TableContract, window: MonthWindow,
                settings) -> str | None:  # fmt: skip
    """The ``as_of_ds`` of a later state the month's partition already holds, or None when a
    run for ``window.ds`` may write it. A closed month (built as of its last day) keeps its
    final figures whatever day of it is re-run or backfilled, and an open month never goes
    back to an earlier day: before, re-running 2024-01-10 after February rewrote January as
    month-to-date at 01-10, and the bridge's continuity check skipped it from then on."""
    held = month_as_of(spark, contract, window.month, settings)
    return held if held is not None and held > window.ds else None


def write_month(
    spark: SparkSession,
    df: DataFrame,
    contract: TableContract,
    window: MonthWindow,
    settings,
    *,
    guard: TableContract | None = None,
) -> dict:
    """Replace the month's partition of a monthly mart with its state as of ``window.ds``,
    unless it holds a later one (:func:`later_state` of ``guard``, default the mart itself):
    then nothing is written and the result says what was kept (``kept_as_of``)."""
    from include.tables import table_version, write_partition

    held = later_state(spark, guard or contract, window, settings)
    if held is not None:
        return {"rows": 0, "version": table_version(spark, contract, settings), "kept_as_of": held}
    return write_partition(spark, df, contract, window.month, settings)


def kept(*writes: dict) -> dict:
    """``{"kept_as_of": ...}`` for a JobResult's extra when a write kept a later state."""
    held = [w["kept_as_of"] for w in writes if "kept_as_of" in w]
    return {"kept_as_of": held[0]} if held else {}
