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
  exposure event in ``silver.fct_website_events``.

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
    cast_to_contract,
    day_after,
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
    """One row per person: first exposure, its variant and id, all ids, variants seen.

    The direct definition on exposure rows; :func:`persons_from_state` computes the same from
    the carried per-cookie state (the tests hold the two equal).
    """
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


def first_session_device(sessions: DataFrame) -> DataFrame:
    """``unit_id -> device_type`` of the cookie's earliest session."""
    from pyspark.sql import functions as F

    return (
        sessions.where(F.col("anonymous_id").isNotNull())
        .groupBy(F.col("anonymous_id").alias("unit_id"))
        .agg(F.min_by("device_type", F.struct("started_at", "session_id")).alias("device_type"))
    )


# --- carried state -------------------------------------------------------------------------
# Per cookie: min session login, min first session, min exposure event, and exposures grouped
# by (assignment user id, day). Every part merges by min / set union, so the state of a range
# of partitions is the merge of the states of its sub-ranges (``merge_state``).

_STATE_COLS = ("anonymous_id", "session_user_id", "first_session", "exposure_event", "exposures")


def day_state(
    spec: ExperimentSpec, assignments: DataFrame, sessions: DataFrame, web: DataFrame
) -> DataFrame:
    """Silver partitions (one day or a whole window) -> state rows, not yet merged per cookie."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_EXPOSURE_STATE

    types = {f.name: f.dataType for f in USER_EXPOSURE_STATE.spark_schema().fields}

    def shaped(df: DataFrame, **cols) -> DataFrame:
        return df.select(
            *[
                (cols[c] if c in cols else F.lit(None)).cast(types[c]).alias(c)
                for c in _STATE_COLS
            ]
        )

    by_cookie = sessions.where(F.col("anonymous_id").isNotNull())
    from_sessions = by_cookie.groupBy("anonymous_id").agg(
        F.min("user_id").alias("session_user_id"),
        F.min(F.struct("started_at", "session_id", "device_type")).alias("first_session"),
    )
    props = F.col("other_properties")
    shown = web.where(
        (F.col("dim_action_type") == spec.exposure_event)
        & (props["experiment"] == spec.name)
        & props["anonymous_id"].isNotNull()
    )
    from_web = shown.groupBy(props["anonymous_id"].alias("anonymous_id")).agg(
        F.min(
            F.struct(
                "event_timestamp",
                "logged_out_user_id",
                F.col("dim_country").alias("country"),
                props["utm_source"].alias("utm_source"),
            )
        ).alias("exposure_event")
    )
    day = F.to_date("assigned_at")
    exposed = assignments.where(
        (F.col("experiment") == spec.name)
        & day.between(F.lit(spec.start_date), F.lit(spec.end_date))
    )
    groups = exposed.groupBy("anonymous_id", "user_id", day.alias("day")).agg(
        F.min(
            F.struct(
                F.col("assigned_at").alias("first_at"),
                F.col("assignment_id").alias("first_assignment_id"),
                F.col("variant").alias("first_variant"),
            )
        ).alias("f"),
        F.array_sort(F.collect_set("variant")).alias("variants"),
    )
    from_assignments = groups.groupBy("anonymous_id").agg(
        F.collect_list(F.struct("user_id", "day", "f.*", "variants")).alias("exposures")
    )
    return (
        shaped(from_sessions, **{c: F.col(c) for c in ("anonymous_id", "session_user_id",
                                                       "first_session")})
        .unionByName(shaped(from_web, **{c: F.col(c) for c in ("anonymous_id",
                                                              "exposure_event")}))
        .unionByName(shaped(from_assignments, **{c: F.col(c) for c in ("anonymous_id",
                                                                      "exposures")}))
    )


def merge_state(rows: DataFrame) -> DataFrame:
    """Any number of state rows per cookie -> one row per cookie (min / set union)."""
    from pyspark.sql import functions as F

    scalar = rows.groupBy("anonymous_id").agg(
        F.min("session_user_id").alias("session_user_id"),
        F.min("first_session").alias("first_session"),
        F.min("exposure_event").alias("exposure_event"),
    )
    e = F.col("e")
    groups = (
        rows.select("anonymous_id", F.explode("exposures").alias("e"))
        .groupBy("anonymous_id", e["user_id"].alias("user_id"), e["day"].alias("day"))
        .agg(
            F.min(F.struct(e["first_at"], e["first_assignment_id"], e["first_variant"])).alias(
                "f"
            ),
            F.array_sort(F.array_distinct(F.flatten(F.collect_list(e["variants"])))).alias(
                "variants"
            ),
        )
        .groupBy("anonymous_id")
        .agg(
            F.array_sort(F.collect_list(F.struct("user_id", "day", "f.*", "variants"))).alias(
                "exposures"
            )
        )
        .withColumnRenamed("anonymous_id", "_anon")
    )
    joined = scalar.join(groups, scalar["anonymous_id"].eqNullSafe(groups["_anon"]), "left")
    return joined.select(
        "anonymous_id",
        "session_user_id",
        "first_session",
        "exposure_event",
        F.coalesce("exposures", F.array()).alias("exposures"),
    )


def persons_from_state(state: DataFrame, spec: ExperimentSpec, ds: str) -> DataFrame:
    """Merged state -> user_exposure rows as of ds (the same rows as :func:`transform`).

    Exposures dated after ds (clock skew) stay in the state and count once ds reaches them.
    A cookie's link is its smallest login (session) or assignment user id as of ds; each
    exposure group's person is its own user id, else the cookie's link, else the cookie.
    """
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_EXPOSURE

    e = F.col("e")
    exposures = (
        state.select("anonymous_id", "session_user_id", F.explode("exposures").alias("e"))
        .where(e["day"] <= F.lit(ds).cast("date"))
        .select("anonymous_id", "session_user_id", "e.*")
    )
    assignment_link = (
        exposures.where(F.col("anonymous_id").isNotNull() & F.col("user_id").isNotNull())
        .groupBy("anonymous_id")
        .agg(F.min("user_id").alias("assignment_user_id"))
    )
    resolved = (
        exposures.join(assignment_link, "anonymous_id", "left")
        .withColumn(
            "resolved_user_id",
            F.coalesce("user_id", F.least("session_user_id", "assignment_user_id")),
        )
        .withColumn(
            "person_id",
            F.coalesce(F.col("resolved_user_id").cast("string"), F.col("anonymous_id")),
        )
    )
    first = F.min(F.struct("first_at", "first_assignment_id", "anonymous_id", "first_variant"))
    persons = (
        resolved.groupBy("person_id")
        .agg(
            F.min("resolved_user_id").alias("user_id"),
            first.alias("_first"),
            F.array_sort(F.collect_set("anonymous_id")).alias("unit_ids"),
            F.size(F.array_distinct(F.flatten(F.collect_list("variants")))).alias(
                "variants_seen"
            ),
        )
        .select(
            F.lit(spec.name).alias("experiment"),
            "person_id",
            "user_id",
            F.col("_first.anonymous_id").alias("unit_id"),
            "unit_ids",
            F.col("_first.first_variant").alias("variant"),
            F.col("_first.first_at").alias("first_exposure_at"),
            F.size("unit_ids").alias("exposure_ids"),
            "variants_seen",
            F.when(F.col("variants_seen") > 1, F.lit(MULTIPLE_VARIANTS))
            .otherwise(F.lit(NOT_CONTAMINATED))
            .alias("contamination_flag"),
        )
    )
    cookie = state.where(F.col("anonymous_id").isNotNull()).select(
        F.col("anonymous_id").alias("unit_id"),
        F.col("first_session.device_type").alias("device_type"),
        F.col("exposure_event.country").alias("country"),
        F.col("exposure_event.utm_source").alias("utm_source"),
    )
    out = persons.join(cookie, "unit_id", "left").withColumn("ds", F.lit(ds))
    return cast_to_contract(out, USER_EXPOSURE)


def transform(
    spec: ExperimentSpec,
    ds: str,
    assignments: DataFrame,
    sessions: DataFrame,
    web: DataFrame,
) -> DataFrame:
    """Silver inputs (bounded to the read window) -> user_exposure rows of (ds, experiment).

    The direct definition (exposure rows, identity links, first sessions, exposure events);
    the job computes the same rows from its carried state (:func:`persons_from_state`).
    """
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_EXPOSURE
    from spark_jobs.gold.experiments.base import exposure_context

    exposures = resolved_exposures(require_shop(spec), ds, assignments, sessions)
    out = (
        persons_of(exposures, spec)
        .join(first_session_device(sessions), "unit_id", "left")
        .join(exposure_context(web, spec), "unit_id", "left")
        .withColumnRenamed("web_country", "country")
        .withColumn("ds", F.lit(ds))
    )
    return cast_to_contract(out, USER_EXPOSURE)


def build_state(
    spark: SparkSession, spec: ExperimentSpec, ds: str, settings
) -> tuple[DataFrame, dict[str, object]]:
    """The merged state as of ds and how it was made (carried from ds - 1, or full window).

    Carried: yesterday's state partition exists, and no input partition it folded has been
    rewritten since (``include.carried.stale_inputs``); then only the partitions after its
    ``through`` up to the window's end are read. Otherwise the whole window is read.
    """
    from include.carried import input_versions, read_state, stale_inputs, state_meta, with_meta
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_experiments import USER_EXPOSURE_STATE
    from include.table_catalog_sources import SILVER_EXPERIMENT_ASSIGNMENTS, SILVER_SESSIONS
    from spark_jobs.gold.experiments.common import day_before, read_range

    inputs = [SILVER_EXPERIMENT_ASSIGNMENTS, SILVER_SESSIONS, FCT_WEBSITE_EVENTS]
    lo, hi = spec.exposure_range(ds)
    versions = input_versions(spark, inputs, settings)  # before reading: conservative

    def rows_of(a: str, b: str) -> DataFrame:
        assignments, sessions, web = (read_range(spark, c, a, b, settings) for c in inputs)
        return day_state(spec, assignments, sessions, web)

    how: dict[str, object] = {"mode": "full", "read_range": [lo, hi]}
    previous = (
        read_state(spark, USER_EXPOSURE_STATE, day_before(ds), spec.name, settings)
        if ds > lo
        else None
    )
    if previous is None:
        how["reason"] = "no state partition for the day before"
        rows = rows_of(lo, hi)
    else:
        through, recorded = state_meta(previous)
        stale = stale_inputs(spark, inputs, recorded, through, settings)
        if through > hi:
            stale.append(f"state folded through {through}, after the window's end {hi}")
        if stale:
            how["reason"] = "; ".join(stale[:5])
            rows = rows_of(lo, hi)
        else:
            carried = previous.select(*_STATE_COLS)
            start = day_after(through)
            how = {"mode": "carried", "from": day_before(ds), "read_range": None}
            if start <= hi:
                how["read_range"] = [start, hi]
                carried = carried.unionByName(rows_of(start, hi))
            rows = carried
    state = with_meta(merge_state(rows), hi, versions)
    return state, how


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_EXPOSURE, USER_EXPOSURE_STATE
    from include.tables import read_partition, write_partition

    spec = require_shop(spec_from_params(params))
    slice_ = {"experiment": spec.name}
    versions: dict[str, int] = {}
    if spec.exposure_range(ds) is None:
        rows = spark.createDataFrame([], USER_EXPOSURE.spark_schema())
        how: dict[str, object] = {"mode": "before the start", "read_range": None}
    else:
        state, how = build_state(spark, spec, ds, settings)
        # the state first: the rows are computed from what was committed (a short lineage,
        # and a re-run of ds folds the same state again)
        stamped = state.withColumn("experiment", F.lit(spec.name)).withColumn("ds", F.lit(ds))
        written = write_partition(
            spark, cast_to_contract(stamped, USER_EXPOSURE_STATE), USER_EXPOSURE_STATE, ds,
            settings, slice_=slice_,
        )
        versions[USER_EXPOSURE_STATE.qualified_name] = written["version"]
        how["state_rows"] = written["rows"]
        committed = read_partition(spark, USER_EXPOSURE_STATE, ds, settings).where(
            F.col("experiment") == spec.name
        )
        rows = persons_from_state(committed, spec, ds)
    out = write_partition(spark, rows, USER_EXPOSURE, ds, settings, slice_=slice_)
    result = JobResult(job="gold.experiments.user_exposure", ds=ds, rows_in=out["rows"])
    result.rows_out = out["rows"]
    result.versions = {USER_EXPOSURE.qualified_name: out["version"], **versions}
    result.extra = {"experiment": spec.name, "state": how}
    return result.check_accounting()

