"""Carried state of ``gold.{experiment}_base``: fold ds's partitions into the day before's.

``base.transform`` reads every silver partition from ``start - activation look-back`` to ds.
Everything it derives from them is a per-cookie or per-user aggregate that merges exactly:

cookie rows (``key_kind = 'cookie'``, keyed by ``anonymous_id``)
    ``session_user_id``  smallest account a session of the cookie logged in as (min);
    ``first_session``    (started_at, device_type) of its first session (min);
    ``session_times``    start times of its sessions that can still precede its first
                         exposure: sessions at or after the first exposure of an already
                         folded day never can (first exposure only moves earlier), so they
                         are dropped;
    ``exposure_event``   its first exposure event on the website (min of time, id, ...);
    ``exposures``        assignments grouped by (assignment user id, day): first one
                         (time, id, variant), variants seen, count (min / union / sum).
user rows (``key_kind = 'user'``, keyed by ``user_id``)
    ``account``          the latest account row (max of updated_at, ds);
    ``account_types``    (export day, updated_at, customer_type) where customer_type
                         changes: the export on/before a day is found as well as from every
                         row, since partitions fold in day order;
    billing / funnel     event times (concatenated, sorted).

:func:`base_from_state` turns the merged state into the rows ``base.transform`` gives; the
job folds one day at a time (see ``include.carried`` for when it rebuilds instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.experiments import ExperimentSpec
from spark_jobs.gold.experiments.base import FUNNEL_STEPS, assemble, billing_arrays
from spark_jobs.gold.experiments.base import funnel_arrays as _funnel_arrays
from spark_jobs.gold.experiments.common import (
    cast_to_contract,
    with_contamination,
    with_duplication_rank,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

COOKIE, USER = "cookie", "user"
_TIMES = ("activation_times", "paid_start_times", *[f"{s}_times" for s in FUNNEL_STEPS])
_KEYS = ("key_kind", "anonymous_id", "user_id")


def _columns(spec: ExperimentSpec) -> dict:
    from include.table_catalog_experiments import base_state_contract

    fields = base_state_contract(spec.name).spark_schema().fields
    skip = {"experiment", "through", "input_versions", "ds"}
    return {f.name: f.dataType for f in fields if f.name not in skip}


def _shaped(spec: ExperimentSpec, df: DataFrame, kind: str, **cols: Column) -> DataFrame:
    from pyspark.sql import functions as F

    types = _columns(spec)
    cols = {"key_kind": F.lit(kind), **cols}
    return df.select(
        *[(cols[c] if c in cols else F.lit(None)).cast(t).alias(c) for c, t in types.items()]
    )


def day_state(
    spec: ExperimentSpec,
    assignments: DataFrame,
    sessions: DataFrame,
    accounts: DataFrame,
    billing: DataFrame,
    web: DataFrame,
) -> DataFrame:
    """Silver partitions (a day, or a whole window) -> state rows, not yet merged per key."""
    from pyspark.sql import functions as F

    col = F.col
    cookies = sessions.where(col("anonymous_id").isNotNull())
    from_sessions = cookies.groupBy("anonymous_id").agg(
        F.min("user_id").alias("session_user_id"),
        F.min(F.struct("started_at", "device_type")).alias("first_session"),
        F.collect_list("started_at").alias("session_times"),
    )
    props = col("other_properties")
    shown = web.where(
        (col("dim_action_type") == spec.exposure_event)
        & (props["experiment"] == spec.name)
        & props["anonymous_id"].isNotNull()
    )
    from_web = shown.groupBy(props["anonymous_id"].alias("anonymous_id")).agg(
        F.min(
            F.struct(
                "event_timestamp",
                "logged_out_user_id",
                col("dim_country").alias("country"),
                props["utm_source"].alias("utm_source"),
            )
        ).alias("exposure_event")
    )
    day = F.to_date("assigned_at")
    exposed = assignments.where(
        (col("experiment") == spec.name)
        & day.between(F.lit(spec.start_date), F.lit(spec.end_date))
    )
    groups = exposed.groupBy("anonymous_id", "user_id", day.alias("day")).agg(
        F.min(
            F.struct(
                col("assigned_at").alias("first_at"),
                col("assignment_id").alias("first_assignment_id"),
                col("variant").alias("first_variant"),
            )
        ).alias("f"),
        F.array_sort(F.collect_set("variant")).alias("variants"),
        F.count(F.lit(1)).alias("n"),
    )
    from_assignments = groups.groupBy("anonymous_id").agg(
        F.collect_list(F.struct("user_id", "day", "f.*", "variants", "n")).alias("exposures")
    )
    account_cols = [f.name for f in _columns(spec)["account"].fields]
    from_accounts = accounts.groupBy("user_id").agg(
        F.max(F.struct(*account_cols)).alias("account"),
        F.collect_list(
            F.struct(col("ds").alias("acct_ds"), "updated_at", "customer_type")
        ).alias("account_types"),
    )
    per_user = billing_arrays(billing).join(_funnel_arrays(web), "user_id", "full")

    def keep(*names: str) -> dict:
        return {n: col(n) for n in names}

    return (
        _shaped(spec, from_sessions, COOKIE,
                **keep("anonymous_id", "session_user_id", "first_session", "session_times"))
        .unionByName(_shaped(spec, from_web, COOKIE, **keep("anonymous_id", "exposure_event")))
        .unionByName(_shaped(spec, from_assignments, COOKIE, **keep("anonymous_id", "exposures")))
        .unionByName(_shaped(spec, from_accounts, USER,
                             **keep("user_id", "account", "account_types")))
        .unionByName(_shaped(spec, per_user, USER, **keep("user_id", "bookings", *_TIMES)))
    )  # fmt: skip


def _sorted_concat(name: str) -> Column:
    from pyspark.sql import functions as F

    return F.array_sort(F.flatten(F.collect_list(F.coalesce(name, F.array())))).alias(name)


def _type_changes(types: Column) -> Column:
    """Sorted (acct_ds, updated_at, customer_type) keeping the first of each run of a type."""
    from pyspark.sql import functions as F

    ordered = F.array_sort(types)

    def changed(x: Column, i: Column) -> Column:
        before = F.get(ordered, F.greatest(i - 1, F.lit(0)))["customer_type"]
        return F.when(i == 0, F.lit(True)).otherwise(~x["customer_type"].eqNullSafe(before))

    return F.filter(ordered, changed)


def merge_state(spec: ExperimentSpec, rows: DataFrame, through: str) -> DataFrame:
    """Any number of state rows per key -> one row per key; prune what can no longer count.

    ``through``: the last day whose exposures are folded; a session at or after the first
    exposure of those days can never precede the cookie's first exposure again.
    """
    from pyspark.sql import functions as F

    col = F.col
    e = col("e")
    exposure_groups = (
        rows.where(col("key_kind") == COOKIE)
        .select("anonymous_id", F.explode("exposures").alias("e"))
        .groupBy("anonymous_id", e["user_id"].alias("user_id"), e["day"].alias("day"))
        .agg(
            F.min(F.struct(e["first_at"], e["first_assignment_id"], e["first_variant"])).alias(
                "f"
            ),
            F.array_sort(F.array_distinct(F.flatten(F.collect_list(e["variants"])))).alias(
                "variants"
            ),
            F.sum(e["n"]).alias("n"),
        )
        .groupBy("anonymous_id")
        .agg(
            F.array_sort(
                F.collect_list(F.struct("user_id", "day", "f.*", "variants", "n"))
            ).alias("exposures")
        )
        .withColumnRenamed("anonymous_id", "_anon")
    )
    cookies = rows.where(col("key_kind") == COOKIE).groupBy("anonymous_id").agg(
        F.min("session_user_id").alias("session_user_id"),
        F.min("first_session").alias("first_session"),
        F.flatten(F.collect_list(F.coalesce("session_times", F.array()))).alias("session_times"),
        F.min("exposure_event").alias("exposure_event"),
    )
    cookies = cookies.join(
        exposure_groups, cookies["anonymous_id"].eqNullSafe(exposure_groups["_anon"]), "left"
    ).drop("_anon")
    folded_first = F.array_min(
        F.transform(
            F.filter(F.coalesce("exposures", F.array()), lambda g: g["day"] <= F.lit(through)),
            lambda g: g["first_at"],
        )
    )
    cookies = cookies.withColumn(
        "session_times",
        F.array_sort(
            F.filter("session_times", lambda t: folded_first.isNull() | (t < folded_first))
        ),
    ).withColumn("exposures", F.coalesce("exposures", F.array()))
    users = rows.where(col("key_kind") == USER).groupBy("user_id").agg(
        F.max("account").alias("account"),
        _type_changes(F.flatten(F.collect_list(F.coalesce("account_types", F.array())))).alias(
            "account_types"
        ),
        _sorted_concat("bookings"),
        *[_sorted_concat(c) for c in _TIMES],
    )
    return _shaped(spec, cookies, COOKIE, **{c: col(c) for c in cookies.columns}).unionByName(
        _shaped(spec, users, USER, **{c: col(c) for c in users.columns})
    )


def base_from_state(spec: ExperimentSpec, state: DataFrame, ds: str) -> DataFrame:
    """Merged state -> ``{experiment}_base`` rows as of ds (= ``base.transform``'s rows)."""
    from pyspark.sql import functions as F

    col = F.col
    cookies = state.where(col("key_kind") == COOKIE)
    users = state.where(col("key_kind") == USER)
    e = col("e")
    groups = (
        cookies.select("anonymous_id", "session_user_id", F.explode("exposures").alias("e"))
        .where(e["day"] <= F.lit(ds).cast("date"))
        .select("anonymous_id", "session_user_id", "e.*")
    )
    assignment_link = (
        groups.where(col("anonymous_id").isNotNull() & col("user_id").isNotNull())
        .groupBy("anonymous_id")
        .agg(F.min("user_id").alias("assignment_user_id"))
    )
    resolved = groups.join(assignment_link, "anonymous_id", "left").withColumn(
        "resolved_user_id",
        F.coalesce("user_id", F.least("session_user_id", "assignment_user_id")),
    )
    units = (
        resolved.groupBy("anonymous_id")
        .agg(
            F.min("first_at").alias("first_exposure_at"),
            F.min(F.struct("first_at", "first_assignment_id", "first_variant")).alias("_f"),
            F.sum("n").cast("int").alias("exposure_count"),
            F.min("resolved_user_id").alias("user_id"),
        )
        .select(
            F.lit(spec.name).alias("experiment"),
            col("anonymous_id").alias("unit_id"),
            F.coalesce(col("user_id").cast("string"), col("anonymous_id")).alias("person_id"),
            "user_id",
            col("_f.first_variant").alias("variant"),
            "first_exposure_at",
            "exposure_count",
        )
    )
    person_of = units.select(col("unit_id").alias("anonymous_id"), "person_id")
    seen = groups.select("anonymous_id", F.explode("variants").alias("variant"))
    units = with_duplication_rank(with_contamination(units, seen.join(person_of, "anonymous_id")))

    by_cookie = cookies.where(col("anonymous_id").isNotNull()).select(
        col("anonymous_id").alias("unit_id"), "first_session", "session_times", "exposure_event"
    )
    unit_cookie = units.select("unit_id", "first_exposure_at").join(by_cookie, "unit_id")
    session_ctx = unit_cookie.where(col("first_session").isNotNull()).select(
        "unit_id",
        col("first_session.device_type").alias("session_device"),
        F.size(F.filter("session_times", lambda t: t < col("first_exposure_at")))
        .cast("int")
        .alias("pre_exposure_sessions"),
    )
    exposure_ctx = by_cookie.where(col("exposure_event").isNotNull()).select(
        "unit_id",
        col("exposure_event.country").alias("web_country"),
        col("exposure_event.utm_source").alias("utm_source"),
    )
    exposure_day = F.date_format(col("first_exposure_at"), "yyyy-MM-dd")
    known = F.filter("account_types", lambda a: a["acct_ds"] <= exposure_day)
    snapshot = (
        units.select("unit_id", "user_id", "first_exposure_at")
        .join(users.select("user_id", "account_types"), "user_id")
        .where(F.size(known) > 0)
        .select("unit_id", F.element_at(known, -1)["customer_type"].alias("customer_type_snapshot"))
    )
    account = users.where(col("account").isNotNull()).select("account.*").drop("ds")
    per_user = users.select("user_id", "bookings", *_TIMES)
    return assemble(
        spec,
        ds,
        units,
        account=account,
        snapshot=snapshot,
        sessions=session_ctx,
        exposure=exposure_ctx,
        billing=per_user.select("user_id", "activation_times", "paid_start_times", "bookings"),
        funnel=per_user.select("user_id", *[f"{s}_times" for s in FUNNEL_STEPS]),
    )


def build_state(
    spark: SparkSession, spec: ExperimentSpec, ds: str, settings
) -> tuple[DataFrame, dict[str, object]]:
    """The merged state as of ds and how it was made (carried from ds - 1, or full window)."""
    from include.carried import input_versions, read_state, stale_inputs, state_meta, with_meta
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_experiments import base_state_contract
    from include.table_catalog_sources import (
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_SESSIONS,
    )
    from spark_jobs.gold.experiments.common import day_after, day_before, read_range

    others = [SILVER_SESSIONS, SILVER_ACCOUNTS, SILVER_BILLING_EVENTS, FCT_WEBSITE_EVENTS]
    inputs = [SILVER_EXPERIMENT_ASSIGNMENTS, *others]
    lo, hi = spec.read_range(ds)
    window = spec.exposure_range(ds)
    versions = input_versions(spark, inputs, settings)  # before reading: conservative

    def rows_of(a: str, b: str) -> DataFrame:
        sessions, accounts, billing, web = (read_range(spark, c, a, b, settings) for c in others)
        if window is None or a > window[1]:
            assignments = read_range(spark, SILVER_EXPERIMENT_ASSIGNMENTS, a, a, settings).limit(0)
        else:
            assignments = read_range(
                spark, SILVER_EXPERIMENT_ASSIGNMENTS, max(a, window[0]), min(b, window[1]),
                settings,
            )
        return day_state(spec, assignments, sessions, accounts, billing, web)

    how: dict[str, object] = {"mode": "full", "read_range": [lo, hi]}
    previous = read_state(
        spark, base_state_contract(spec.name), day_before(ds), spec.name, settings
    )
    rows = None
    if previous is None:
        how["reason"] = "no state partition for the day before"
    else:
        through, recorded = state_meta(previous)
        stale = stale_inputs(spark, inputs, recorded, through, settings)
        if through >= ds:
            stale.append(f"state folded through {through}, not before {ds}")
        if stale:
            how["reason"] = "; ".join(stale[:5])
        else:
            start = day_after(through)
            how = {"mode": "carried", "from": day_before(ds), "read_range": [start, hi]}
            keep = [c for c in previous.columns if c in _columns(spec)]
            rows = previous.select(*keep).unionByName(rows_of(start, hi))
    if rows is None:
        rows = rows_of(lo, hi)
    folded = min(hi, window[1]) if window else lo
    state = with_meta(merge_state(spec, rows, folded), hi, versions)
    return state, how


def write_state(spark: SparkSession, spec: ExperimentSpec, ds: str, settings) -> dict:
    """Build and commit the state partition of ds; returns how, rows and version."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import base_state_contract
    from include.tables import write_partition

    contract = base_state_contract(spec.name)
    state, how = build_state(spark, spec, ds, settings)
    stamped = state.withColumn("experiment", F.lit(spec.name)).withColumn("ds", F.lit(ds))
    out = write_partition(spark, cast_to_contract(stamped, contract), contract, ds, settings)
    return {**how, "state_rows": out["rows"], "version": out["version"]}
