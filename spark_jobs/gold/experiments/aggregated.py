"""gold.{experiment}_aggregated: seed 000's aggregate by variant and segment, with the
sufficient statistics every readout needs, as of ds.

Grain: (experiment, variant, segment, segment_value); ``segment`` is 'overall' (value 'all')
or one of the experiment's configured dimensions (region, package, list_size_group, ...),
null values grouped as 'unknown'. Counts of seed 000 (users, activations, conversions,
new_bookings, total_new_mrr) and, per configured metric, n / sum / sum of squares / sum of
x*y (a ratio metric: of its numerator, plus its denominator's sums and their cross-product;
a capped metric: of values capped at ``{metric}_cap``, see ``metric_caps``), are computed
on the clean cohort of eligible visitors (duplication_rank = 1 and
contamination_flag = 'Not Contaminated'); x = pre_exposure_sessions is the pre-exposure
CUPED covariate (``sum_x``, ``sum_x_sq``). Trust inputs (all rows, contaminated, duplicate,
ineligible rows) are counted over every row, so the readout's sample-ratio and contamination
checks never scan user rows. Sums merge exactly across segments and days.

Shop-funnel experiments (seed 002, exposure on product_view, e.g. pdp_redesign) aggregate
``gold.user_outcomes`` of (ds, experiment) instead (``transform_shop``): the clean cohort is
the users who saw one variant and whose outcome window has closed as of ds; counts are
the funnel (users, carts, checkouts, purchases) and completed-order revenue; per
configured metric (purchase, revenue, engagement_intensity) n / sum / sum_sq, and
engagement-intensity sums and cross-products
(``intensity_sum``, ``{metric}_intensity_sum_xy``: seed 002's "engagement drives purchase"
diagnostic). Intensity is measured *after* exposure, so it is deliberately not written as
the CUPED covariate ``sum_x``. Trust counts: every row, contaminated rows, rows whose window
is still open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.experiments import ExperimentSpec
from include.metric_library import definition
from spark_jobs.common import JobResult
from spark_jobs.gold.experiments.common import NOT_CONTAMINATED, cast_to_contract, spec_from_params

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def with_segments(outcomes: DataFrame, spec: ExperimentSpec) -> DataFrame:
    """One copy of each row per segment: ('overall', 'all') plus each configured dimension."""
    from pyspark.sql import functions as F

    pairs = [F.struct(F.lit("overall").alias("segment"), F.lit("all").alias("segment_value"))]
    pairs += [
        F.struct(
            F.lit(s).alias("segment"),
            F.coalesce(F.col(s).cast("string"), F.lit("unknown")).alias("segment_value"),
        )
        for s in spec.segments
    ]
    return outcomes.withColumn("_seg", F.explode(F.array(*pairs))).select(
        "*", "_seg.segment", "_seg.segment_value"
    ).drop("_seg")


def metric_value(found, ds: str | None):
    """``(y, closed)`` of one library metric: the per-unit value (a ratio's numerator) and,
    for a metric with a window of its own (SaaS), the condition that the unit's window has
    closed as of ds (None otherwise). Windowed: ``y`` counts only when the metric's date
    falls in ``[exposure_date, exposure_date + days)`` (a window without a date column: the
    column is counted within the window already), and the window has closed once its last
    day, ``exposure_date + days - 1``, is on or before ds."""
    from pyspark.sql import functions as F

    y = F.col(found.column).cast("double")
    if found.window_days is None:
        return y, None
    exposed = F.col("exposure_date")
    closed = F.date_add(exposed, found.window_days - 1) <= F.to_date(F.lit(ds))
    if found.window_date_column is None:
        return y, closed
    inside = F.col(found.window_date_column) < F.date_add(exposed, found.window_days)
    return F.when(inside, y).otherwise(F.lit(0.0)), closed


def metric_caps(
    spec: ExperimentSpec, clean_rows: DataFrame, ds: str | None = None
) -> dict[str, float | None]:
    """The cap of every capped metric (``include.metric_library``): an absolute cap as
    defined, a percentile cap as that percentile of the metric over the clean rows of every
    arm pooled (those whose window has closed, for a windowed metric; Spark's exact
    ``percentile``, linear between ranks; None without rows, so nothing is capped). One
    pass over the rows for all percentile caps."""
    from pyspark.sql import functions as F

    caps: dict[str, float | None] = {}
    wanted = []
    for m in spec.metrics:
        found = definition(m.name, spec.funnel)
        if found.cap_kind == "absolute":
            caps[m.name] = found.cap_value
        elif found.cap_kind == "percentile":
            y, closed = metric_value(found, ds)
            value = y if closed is None else F.when(closed, y)  # percentile skips nulls
            wanted.append(F.percentile(value, F.lit(found.cap_value)).alias(m.name))
    if wanted:
        row = clean_rows.agg(*wanted).first()
        caps.update({name: (None if v is None else float(v)) for name, v in row.asDict().items()})
    return caps


def metric_sums(
    spec: ExperimentSpec,
    clean,
    x,
    xy_suffix: str = "sum_xy",
    caps: dict | None = None,
    ds: str | None = None,
    pending=None,
) -> list:
    """``{metric}_n / _sum / _sum_sq / _{xy_suffix}`` of every configured metric over the
    ``clean`` rows (a windowed metric: those whose window has closed), on values capped at
    ``caps[metric]`` where the metric is capped; a ratio metric sums its numerator there
    and adds its denominator's ``_den_sum / _den_sum_sq`` and the cross-product
    ``_num_den_sum``. ``{metric}_open_units``: the clean units left out because their window
    is still open (a windowed metric's own; ``pending``, the shop's outcome window, for
    every shop metric)."""
    from pyspark.sql import functions as F

    def total(value, where):
        return F.sum(F.when(where, value).otherwise(F.lit(0)))

    aggs = []
    for m in spec.metrics:
        found = definition(m.name, spec.funnel)
        y, closed = metric_value(found, ds)
        rows = clean if closed is None else clean & closed
        if found.cap_kind is not None:
            y = F.least(y, F.lit((caps or {}).get(m.name)).cast("double"))  # null: no cap
        aggs += [
            total(F.lit(1), rows).alias(f"{m.name}_n"),
            total(y, rows).alias(f"{m.name}_sum"),
            total(y * y, rows).alias(f"{m.name}_sum_sq"),
            total(x * y, rows).alias(f"{m.name}_{xy_suffix}"),
        ]
        if found.kind == "ratio":
            d = F.col(found.denominator).cast("double")
            aggs += [
                total(d, rows).alias(f"{m.name}_den_sum"),
                total(d * d, rows).alias(f"{m.name}_den_sum_sq"),
                total(y * d, rows).alias(f"{m.name}_num_den_sum"),
            ]
        still_open = pending if closed is None else clean & ~closed
        if still_open is not None:
            aggs.append(total(F.lit(1), still_open).alias(f"{m.name}_open_units"))
    return aggs


def with_caps(aggregated: DataFrame, caps: dict[str, float | None]) -> DataFrame:
    """``{metric}_cap``: the cap each capped metric's sums were computed with."""
    from pyspark.sql import functions as F

    for name, cap in caps.items():
        aggregated = aggregated.withColumn(f"{name}_cap", F.lit(cap).cast("double"))
    return aggregated


def clean_cohort(spec: ExperimentSpec):
    """The rows the statistics are computed on: the shop's users who saw one variant and
    whose outcome window has closed; the SaaS funnel's eligible visitors, first of their
    person, seeing one variant."""
    from pyspark.sql import functions as F

    if spec.funnel == "shop":
        return (F.col("contamination_flag") == NOT_CONTAMINATED) & F.col("window_complete")
    return (
        (F.col("is_eligible_visitor") == 1)
        & (F.col("duplication_rank") == 1)
        & (F.col("contamination_flag") == NOT_CONTAMINATED)
    )


def experiment_rows(spec: ExperimentSpec, outcomes: DataFrame) -> DataFrame:
    """The experiment's rows of its outcome table (gold.user_outcomes is shared)."""
    from pyspark.sql import functions as F

    return outcomes.where(F.col("experiment") == spec.name) if spec.funnel == "shop" else outcomes


def require_caps(spec: ExperimentSpec, caps: dict | None) -> dict:
    """``caps`` with an entry for every capped metric, or ValueError: summing a capped
    metric uncapped would be a number computed from the wrong values."""
    caps = dict(caps or {})
    missing = [m.name for m in spec.metrics
               if definition(m.name, spec.funnel).cap_kind and m.name not in caps]  # fmt: skip
    if missing:
        raise ValueError(f"{spec.name}: no cap given for the capped metrics {missing}; "
                         "compute them with metric_caps first")  # fmt: skip
    return caps


def transform_shop(
    spec: ExperimentSpec, user_outcomes: DataFrame, ds: str, caps: dict | None = None
) -> DataFrame:
    """user_outcomes rows of (ds, experiment) -> seed 002 sufficient statistics."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import shop_aggregated_contract

    caps = require_caps(spec, caps)
    clean = clean_cohort(spec)
    x = F.col("engagement_intensity").cast("double")

    def clean_sum(value):
        return F.sum(F.when(clean, value).otherwise(F.lit(0)))

    aggs = [
        F.count(F.lit(1)).alias("exposed_rows"),
        F.sum((F.col("contamination_flag") != NOT_CONTAMINATED).cast("int")).alias(
            "contaminated_rows"
        ),
        F.sum((~F.col("window_complete")).cast("int")).alias("open_window_rows"),
        clean_sum(F.lit(1)).alias("users"),
        clean_sum(F.col("added_to_cart")).alias("carts"),
        clean_sum(F.col("reached_checkout")).alias("checkouts"),
        clean_sum(F.col("purchased")).alias("purchases"),
        clean_sum(F.col("revenue")).alias("total_revenue"),
        clean_sum(x).alias("intensity_sum"),
        clean_sum(x * x).alias("intensity_sum_sq"),
    ]
    rows = experiment_rows(spec, user_outcomes)
    pending = (F.col("contamination_flag") == NOT_CONTAMINATED) & ~F.col("window_complete")
    aggs += metric_sums(spec, clean, x, "intensity_sum_xy", caps, pending=pending)
    out = with_caps(
        with_segments(rows, spec)
        .groupBy("experiment", "variant", "segment", "segment_value")
        .agg(*aggs)
        .withColumn("ds", F.lit(ds)),
        caps,
    )
    contract = shop_aggregated_contract(spec.name, tuple(m.name for m in spec.metrics))
    return cast_to_contract(out, contract)


def transform(
    spec: ExperimentSpec, outcomes: DataFrame, ds: str, caps: dict | None = None
) -> DataFrame:
    """Outcome rows of ds -> sufficient statistics per variant and segment. ``caps``: the
    capped metrics' caps (:func:`metric_caps`, computed by ``main`` on the clean cohort);
    no Spark action runs here."""
    from pyspark.sql import functions as F

    if spec.funnel == "shop":
        return transform_shop(spec, outcomes, ds, caps)

    from include.table_catalog_experiments import aggregated_contract

    caps = require_caps(spec, caps)
    clean = clean_cohort(spec)
    x = F.col("pre_exposure_sessions").cast("double")

    def clean_sum(value):
        return F.sum(F.when(clean, value).otherwise(F.lit(0)))

    aggs = [
        F.count(F.lit(1)).alias("exposed_rows"),
        F.sum((F.col("contamination_flag") != NOT_CONTAMINATED).cast("int")).alias(
            "contaminated_rows"
        ),
        F.sum((F.col("duplication_rank") > 1).cast("int")).alias("duplicate_rows"),
        F.sum((F.col("is_eligible_visitor") == 0).cast("int")).alias("ineligible_rows"),
        clean_sum(F.lit(1)).alias("users"),
        clean_sum(F.col("is_activated")).alias("activations"),
        clean_sum(F.col("is_converted")).alias("conversions"),
        clean_sum(F.col("new_booking_flag")).alias("new_bookings"),
        clean_sum(F.col("nb_mrr")).alias("total_new_mrr"),
        clean_sum(x).alias("sum_x"),
        clean_sum(x * x).alias("sum_x_sq"),
    ]
    aggs += metric_sums(spec, clean, x, caps=caps, ds=ds)
    out = with_caps(
        with_segments(outcomes, spec)
        .groupBy("experiment", "variant", "segment", "segment_value")
        .agg(*aggs)
        .withColumn("ds", F.lit(ds)),
        caps,
    )
    contract = aggregated_contract(spec.name, tuple(m.name for m in spec.metrics))
    return cast_to_contract(out, contract)


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_OUTCOMES, contract_for
    from include.tables import read_partition, write_partition

    spec = spec_from_params(params, ds)
    contract = contract_for(spec.name, "aggregated")
    if spec.funnel == "shop":
        outcomes = read_partition(spark, USER_OUTCOMES, ds, settings)
    else:
        outcomes = read_partition(spark, contract_for(spec.name, "outcomes"), ds, settings)
    # the caps of the capped metrics: one pass over the clean cohort, before the aggregate
    caps = metric_caps(spec, experiment_rows(spec, outcomes).where(clean_cohort(spec)), ds)
    out = write_partition(spark, transform(spec, outcomes, ds, caps), contract, ds, settings)
    # rows in: the experiment's outcome rows, counted on the input; rows out: the outcome
    # rows the written aggregate covers, per segment (each segment splits every row once)
    rows_in = outcomes.where(F.col("experiment") == spec.name).count()
    covered = units_covered(read_partition(spark, contract, ds, settings), spec)
    result = JobResult(job="gold.experiments.aggregated", ds=ds, rows_in=rows_in)
    result.rows_out = check_coverage(covered, rows_in, spec, ds)
    result.versions = {contract.qualified_name: out["version"]}
    result.extra = {"experiment": spec.name, "aggregate_rows": out["rows"]}
    return result.check_accounting()


def units_covered(aggregated: DataFrame, spec: ExperimentSpec) -> dict[str, int]:
    """``{segment: sum of exposed_rows}`` of an aggregate, for 'overall' and every configured
    segment (a segment absent from the aggregate covers 0 rows)."""
    from pyspark.sql import functions as F

    sums = {
        r.segment: int(r.rows or 0)
        for r in aggregated.groupBy("segment").agg(F.sum("exposed_rows").alias("rows")).collect()
    }
    return {seg: sums.get(seg, 0) for seg in ("overall", *spec.segments)}


def check_coverage(covered: dict[str, int], rows_in: int, spec: ExperimentSpec, ds: str) -> int:
    """The outcome rows the aggregate covers (each segment must cover every input row once),
    or ValueError naming the segments that do not: a row lost or counted twice between the
    outcomes and the aggregate would otherwise skew every readout built on it."""
    wrong = {seg: n for seg, n in covered.items() if n != rows_in}
    if wrong:
        raise ValueError(
            f"gold.{spec.name}_aggregated ds={ds}: {rows_in} outcome rows in, but the "
            f"aggregate covers {wrong} (segment: rows)"
        )
    return covered["overall"]
