"""gold.user_exposure (seed 002): one row per user per shop experiment, as of ds.

For an experiment whose exposure event is ``product_view`` (funnel ``shop``, e.g.
pdp_redesign), params ``{"experiment": name}``:

- exposures: ``silver.experiment_assignments`` of the experiment dated within [start, end]
  and on/before ds (the assignment service logs the first product view of a cookie);
- the user (``person_id``): the assignment's user id, else the account a login in
  ``silver.sessions`` links to the cookie, else the cookie itself (``common.identity_links``).
  All of a person's ids collapse into one row: ``first_exposure_at`` is the earliest exposure
  over them, ``variant`` and ``unit_id`` those of that exposure (ties: smallest assignment id),
  ``unit_ids`` every exposed id (``user_outcomes`` attributes their events to the person);
- ``contamination_flag``: 'Multiple Variants' when the person's ids saw several variants;
- segments: device of the first exposed id's first session, country and UTM source of its
  exposure event in ``silver.fct_website_events``, the course that event viewed
  (``product_id``) and its category in ``silver.products`` (seed 002's catalog: the latest
  row of the product landed up to ds, every partition read: the catalog is a few dozen rows
  a day).

Read bound: assignments, sessions and web events from the start date to
``min(ds, end + 1 day)`` (late exposures land in the next day's folder); nothing else can
create or describe an exposure. Partition (ds, experiment): the job replaces only its own
experiment's slice of ds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.experiments import ExperimentSpec
from spark_jobs.common import JobResult
from spark_jobs.gold.experiments.common import (
    MULTIPLE_VARIANTS,
    NOT_CONTAMINATED,
    Pinned,
    cast_to_contract,
    distinct_count,
    experiment_assignments,
    resolved_exposures,
    spec_from_params,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def require_shop(spec: ExperimentSpec) -> ExperimentSpec:
    if spec.funnel != "shop":
        raise ValueError(
            f"{spec.name} is a {spec.funnel}-funnel experiment; user_exposure / user_outcomes "
            "are built for experiments exposed on product_view (funnel shop)"
        )
    return spec


def persons_of(exposures: DataFrame, spec: ExperimentSpec) -> DataFrame:
    """One row per person: first exposure, its variant and id, all ids, variants seen."""
    from pyspark.sql import functions as F

    first = F.struct("assigned_at", "assignment_id")
    return (
        exposures.groupBy("person_id")
        .agg(
            F.min("resolved_user_id").alias("user_id"),
            F.min_by("anonymous_id", first).alias("unit_id"),
            F.array_sort(F.collect_set("anonymous_id")).alias("unit_ids"),
            F.min_by("variant", first).alias("variant"),
            F.min("assigned_at").alias("first_exposure_at"),
            F.countDistinct("anonymous_id").cast("int").alias("exposure_ids"),
            F.countDistinct("variant").cast("int").alias("variants_seen"),
        )
        .select(
            F.lit(spec.name).alias("experiment"),
            "*",
            F.when(F.col("variants_seen") > 1, F.lit(MULTIPLE_VARIANTS))
            .otherwise(F.lit(NOT_CONTAMINATED))
            .alias("contamination_flag"),
        )
    )


# What identity_links and first_session_device read of silver.sessions.
SESSION_COLUMNS = ("session_id", "anonymous_id", "user_id", "device_type", "started_at")


def first_session_device(sessions: DataFrame) -> DataFrame:
    """``unit_id -> device_type`` of the cookie's earliest session."""
    from pyspark.sql import functions as F

    return (
        sessions.where(F.col("anonymous_id").isNotNull())
        .groupBy(F.col("anonymous_id").alias("unit_id"))
        .agg(F.min_by("device_type", F.struct("started_at", "session_id")).alias("device_type"))
    )


def product_categories(products: DataFrame) -> DataFrame:
    """``product_id -> product_category``: each product's latest catalog row (by
    ``updated_at``, then the newest landing day)."""
    from pyspark.sql import functions as F

    return products.groupBy("product_id").agg(
        F.max_by("category", F.struct("updated_at", "ds")).alias("product_category")
    )


def transform(
    spec: ExperimentSpec,
    ds: str,
    assignments: DataFrame,
    sessions: DataFrame,
    web: DataFrame,
    products: DataFrame,
) -> DataFrame:
    """Silver inputs (bounded to the read window; products up to ds) -> user_exposure rows
    of (ds, experiment)."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_EXPOSURE
    from spark_jobs.gold.experiments.base import exposure_context

    exposures = resolved_exposures(require_shop(spec), ds, assignments, sessions)
    out = (
        persons_of(exposures, spec)
        .join(first_session_device(sessions), "unit_id", "left")
        .join(exposure_context(web, spec, ("product_id",)), "unit_id", "left")
        .join(F.broadcast(product_categories(products)), "product_id", "left")
        .withColumnRenamed("web_country", "country")
        .withColumn("ds", F.lit(ds))
    )
    return cast_to_contract(out, USER_EXPOSURE)


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_experiments import USER_EXPOSURE
    from include.table_catalog_sources import (
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_PRODUCTS,
        SILVER_SESSIONS,
    )
    from include.tables import write_partition
    from spark_jobs.gold.experiments.common import read_range

    spec = require_shop(spec_from_params(params, ds))
    window = spec.exposure_range(ds)
    lo, hi = window or (ds, ds)

    def bounded(contract):
        return read_range(spark, contract, lo, hi, settings)

    with Pinned() as pin:
        assignments = pin(experiment_assignments(bounded(SILVER_EXPERIMENT_ASSIGNMENTS), spec))
        sessions = pin(bounded(SILVER_SESSIONS).select(*SESSION_COLUMNS))
        products = read_range(spark, SILVER_PRODUCTS, "1970-01-01", ds, settings)
        rows = transform(
            spec, ds, assignments, sessions, bounded(FCT_WEBSITE_EVENTS), products
        )
        if window is None:
            rows, persons = rows.limit(0), 0
        else:  # rows in: the exposed persons, counted on the resolved exposures
            persons = distinct_count(
                resolved_exposures(spec, ds, assignments, sessions), "person_id"
            )
        out = write_partition(
            spark, rows, USER_EXPOSURE, ds, settings, slice_={"experiment": spec.name}
        )
    result = JobResult(job="gold.experiments.user_exposure", ds=ds, rows_in=persons)
    result.rows_out = out["rows"]
    result.versions = {USER_EXPOSURE.qualified_name: out["version"]}
    result.extra = {"experiment": spec.name, "read_range": [lo, hi]}
    return result.check_accounting()
