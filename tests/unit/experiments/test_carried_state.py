"""gold.user_exposure from carried state == the direct definition over the whole window.

A hand-built pdp_redesign over four days of silver partitions (2024-01-10 .. 2024-01-13):

- c1 (guest) exposed 01-10 10:00 control; again 01-11 treatment (the cookie saw both);
- c2 exposed 01-10 23:59:59 but logged a day late: its row sits in partition 01-11;
- c3 exposed 01-10 anonymously; c4 exposed 01-11 with the assignment's user id 7; on 01-12
  a session of c3 logs in as user 7: from 01-12 on c3 and c4 are one person (7), whose first
  exposure, variant and unit id are c3's (before, c3 was its own person);
- c5's assignment is stamped 01-13 09:00 but sits in partition 01-12 (clock skew): it does
  not count as of 01-12 and counts from 01-13;
- an assignment dated 2023-12-31 (before the start) in partition 01-10 never counts;
- an assignment of user 8 without a cookie (person 8, no unit id);
- c6 has a session on 01-10 (mobile) and is first exposed on 01-13: its device is the
  01-10 session's, read three partitions before the exposure.

``test_folding_day_by_day_equals_the_full_window`` folds the state one partition at a time
and compares with ``user_exposure.transform`` on every partition up to the day, for each
day. The Delta tests run ``main`` (carried from the day before) and check what makes it
rebuild from the whole window: a missing state, and a rewritten earlier partition.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from chispa import assert_df_equality

from include.experiments import load_experiment
from spark_jobs.gold.experiments import user_exposure

DAYS = ("2024-01-10", "2024-01-11", "2024-01-12", "2024-01-13")


def t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _assignments(spark):
    from include.table_catalog_sources import SILVER_EXPERIMENT_ASSIGNMENTS as C

    rows = [
        # (id, cookie, user, variant, assigned_at, partition)
        ("a1", "c1", None, "control", "2024-01-10 10:00:00", "2024-01-10"),
        ("a2", "c1", None, "treatment", "2024-01-11 08:00:00", "2024-01-11"),
        ("a3", "c2", None, "treatment", "2024-01-10 23:59:59", "2024-01-11"),  # late
        ("a4", "c3", None, "control", "2024-01-10 12:00:00", "2024-01-10"),
        ("a5", "c4", 7, "treatment", "2024-01-11 12:00:00", "2024-01-11"),
        ("a6", "c5", None, "control", "2024-01-13 09:00:00", "2024-01-12"),  # skewed
        ("a7", "c9", None, "control", "2023-12-31 12:00:00", "2024-01-10"),  # before start
        ("a8", None, 8, "treatment", "2024-01-12 15:00:00", "2024-01-12"),
        ("a9", "c6", None, "treatment", "2024-01-13 10:00:00", "2024-01-13"),
    ]
    return spark.createDataFrame(
        [
            (aid, "pdp_redesign", var, uid, anon, anon, t(at), p)
            for aid, anon, uid, var, at, p in rows
        ],
        C.spark_schema(),
    )


def _sessions(spark):
    from include.table_catalog_sources import SILVER_SESSIONS as C

    rows = [
        ("s1", None, "c1", "desktop", "2024-01-10 09:59:00"),
        ("s1b", None, "c1", "tablet", "2024-01-11 07:00:00"),
        ("s3", None, "c3", "mobile", "2024-01-10 11:00:00"),
        ("s3b", 7, "c3", "desktop", "2024-01-12 10:00:00"),  # the login that links c3 -> 7
        ("s4", 7, "c4", "desktop", "2024-01-11 11:00:00"),
        ("s6", None, "c6", "mobile", "2024-01-10 08:00:00"),
        ("s6b", None, "c6", "desktop", "2024-01-13 09:00:00"),
    ]
    return spark.createDataFrame(
        [(sid, uid, anon, "shop", dev, t(st), t(st), st[:10]) for sid, uid, anon, dev, st in rows],
        C.spark_schema(),
    )


def _web(spark):
    from include.table_catalog import FCT_WEBSITE_EVENTS as C

    def shown(anon, var, country, ts, utm=None):
        props = {"experiment": "pdp_redesign", "variant": var, "anonymous_id": anon}
        if utm:
            props["utm_source"] = utm
        return (None, "product_view", ts, props, country)

    rows = [
        shown("c1", "control", "NL", "2024-01-10 10:00:00", "google"),
        shown("c1", "treatment", "BE", "2024-01-11 08:00:00"),
        shown("c3", "control", "FR", "2024-01-10 12:00:00", "mail"),
        shown("c4", "treatment", "DE", "2024-01-11 12:00:00"),
        shown("c6", "treatment", "NL", "2024-01-13 10:00:00"),
        (None, "page_view", "2024-01-12 10:01:00", {"session_id": "s3b"}, "FR"),
    ]
    return spark.createDataFrame(
        [
            (uid, i, "shop.example.com", country, "Apple", action, t(ts), props, ts[:10])
            for i, (uid, action, ts, props, country) in enumerate(rows)
        ],
        C.spark_schema(),
    )


def _upto(df, day):
    from pyspark.sql import functions as F

    return df.where(F.col("ds") <= day)


def _only(df, day):
    from pyspark.sql import functions as F

    return df.where(F.col("ds") == day)


def _sorted(df):
    return df.orderBy("person_id")


def test_folding_day_by_day_equals_the_full_window(spark):
    spec = load_experiment("pdp_redesign")
    a, s, w = _assignments(spark), _sessions(spark), _web(spark)
    state = None
    persons_by_day = {}
    for day in DAYS:
        today = user_exposure.day_state(spec, _only(a, day), _only(s, day), _only(w, day))
        state = user_exposure.merge_state(today if state is None else state.unionByName(today))
        state = spark.createDataFrame(state.collect(), state.schema)  # cut the lineage
        carried = user_exposure.persons_from_state(state, spec, day)
        direct = user_exposure.transform(spec, day, _upto(a, day), _upto(s, day), _upto(w, day))
        assert_df_equality(_sorted(carried), _sorted(direct), ignore_nullable=True)
        persons_by_day[day] = {r.person_id: r for r in carried.collect()}

    # the hand-worked answers the equality rests on
    d10, d11, d12, d13 = (persons_by_day[d] for d in DAYS)
    assert sorted(d10) == ["c1", "c3"]
    assert sorted(d11) == ["7", "c1", "c2", "c3"]
    assert d11["c1"].variants_seen == 2 and d11["c1"].contamination_flag == "Multiple Variants"
    assert d11["c1"].device_type == "desktop" and d11["c1"].utm_source == "google"
    assert d11["c2"].first_exposure_at == t("2024-01-10 23:59:59")
    assert sorted(d12) == ["7", "8", "c1", "c2"]  # c3 merged into 7; c5 not yet exposed
    p7 = d12["7"]
    assert (p7.unit_id, p7.unit_ids, p7.variant, p7.exposure_ids) == (
        "c3", ["c3", "c4"], "control", 2,
    )
    assert (p7.first_exposure_at, p7.country, p7.device_type) == (
        t("2024-01-10 12:00:00"), "FR", "mobile",
    )
    assert p7.contamination_flag == "Multiple Variants"
    assert (d12["8"].unit_id, d12["8"].unit_ids, d12["8"].user_id) == (None, [], 8)
    assert sorted(d13) == ["7", "8", "c1", "c2", "c5", "c6"]
    assert d13["c6"].device_type == "mobile"  # the 01-10 session, three partitions back
    assert d13["c5"].first_exposure_at == t("2024-01-13 09:00:00")


def _write_silver(spark, settings, day, a, s, w):
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_sources import SILVER_EXPERIMENT_ASSIGNMENTS, SILVER_SESSIONS
    from include.tables import write_partition

    for contract, df in (
        (SILVER_EXPERIMENT_ASSIGNMENTS, a),
        (SILVER_SESSIONS, s),
        (FCT_WEBSITE_EVENTS, w),
    ):
        write_partition(spark, _only(df, day), contract, day, settings)


def _direct(spark, spec, day, a, s, w):
    return user_exposure.transform(spec, day, _upto(a, day), _upto(s, day), _upto(w, day))


@pytest.mark.slow
def test_main_carries_state_and_rebuilds_when_an_earlier_day_changes(spark, lakehouse_env):
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_EXPOSURE
    from include.tables import read_partition
    from spark_jobs.run import run

    spec = load_experiment("pdp_redesign")
    params = {"experiment": "pdp_redesign"}
    a, s, w = _assignments(spark), _sessions(spark), _web(spark)

    def stored(day):
        return read_partition(spark, USER_EXPOSURE, day, lakehouse_env).where(
            F.col("experiment") == "pdp_redesign"
        )

    modes = {}
    for day in DAYS:
        _write_silver(spark, lakehouse_env, day, a, s, w)
        out = run("gold.experiments.user_exposure", day, params, spark=spark)
        modes[day] = out["extra"]["state"]
        assert_df_equality(
            _sorted(stored(day)), _sorted(_direct(spark, spec, day, a, s, w)),
            ignore_nullable=True,
        )
    # day 1 of the data has no state before it; every later day folds one partition
    assert modes["2024-01-10"]["mode"] == "full"
    for day in DAYS[1:]:
        assert modes[day]["mode"] == "carried", modes[day]
        assert modes[day]["read_range"] == [day, day]

    # a re-run of the last day folds the same state again: the same rows
    before = sorted(map(str, stored(DAYS[-1]).collect()))
    again = run("gold.experiments.user_exposure", DAYS[-1], params, spark=spark)
    assert again["extra"]["state"]["mode"] == "carried"
    assert sorted(map(str, stored(DAYS[-1]).collect())) == before

    # a backfill rewrites 01-10's sessions: c1 logged in as user 5 that day. The state of
    # 01-12 folded 01-10, so 01-13 must rebuild from the whole window, and say why.
    from include.table_catalog_sources import SILVER_SESSIONS
    from include.tables import write_partition

    s2 = s.withColumn(
        "user_id", F.when(F.col("session_id") == "s1", F.lit(5)).otherwise(F.col("user_id"))
    )
    write_partition(spark, _only(s2, "2024-01-10"), SILVER_SESSIONS, "2024-01-10", lakehouse_env)
    out = run("gold.experiments.user_exposure", DAYS[-1], params, spark=spark)
    state = out["extra"]["state"]
    assert state["mode"] == "full", state
    assert "silver.sessions: ds=2024-01-10 rewritten" in state["reason"]
    expected = _direct(spark, spec, DAYS[-1], a, s2, w)
    assert_df_equality(_sorted(stored(DAYS[-1])), _sorted(expected), ignore_nullable=True)
    assert "5" in {r.person_id for r in stored(DAYS[-1]).collect()}

    # with no state for the day before (deleted), the job rebuilds too
    from delta.tables import DeltaTable

    from include.table_catalog_experiments import USER_EXPOSURE_STATE
    from include.tables import table_location

    DeltaTable.forPath(spark, table_location(USER_EXPOSURE_STATE, lakehouse_env)).delete(
        "ds = '2024-01-12'"
    )
    out = run("gold.experiments.user_exposure", DAYS[-1], params, spark=spark)
    assert out["extra"]["state"]["mode"] == "full"
    assert out["extra"]["state"]["reason"] == "no state partition for the day before"
    assert_df_equality(_sorted(stored(DAYS[-1])), _sorted(expected), ignore_nullable=True)


# --- homepage_cta_test base (SaaS funnel) ---------------------------------------------------
# Four days 2024-01-01 .. 2024-01-04, partitions by hand:
# - k1: session 01-01 08:00 (before exposure), exposed 01-02 10:00 (control) with a session
#   after it; a second assignment of k1 stamped 01-01 23:00 lands late in partition 01-03 and
#   becomes its first exposure (the 01-01 08:00 session still precedes it; the 01-02 one is
#   after both); user 1's account says prospect on 01-01 and existing on 01-03, its paid start
#   is 01-02 12:00: customer_type at the 01-01 23:00 exposure is prospect, snapshot prospect;
# - k2: exposed 01-01 anonymously (treatment), logs in as user 2 on 01-03: from 01-03 the
#   unit carries user 2's account (EMEA, exported 12-20, before the experiment: in the
#   90-day look-back) and billing (activation 01-03);
# - k3 and k4: both assigned with user 3 (01-02 control, 01-03 treatment): one person, two
#   rows, contamination, duplication ranks 1 and 2;
# - k5: assignment stamped 01-05 in partition 01-04 (skew): not a unit up to 01-04;
# - an assignment of user 6 without a cookie (a unit with no id);
# - web: k1's exposure event (NL, utm 'ads'), user 2's onboarding steps 01-03 / 01-04.
HP_DAYS = ("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04")


def _hp_inputs(spark):
    from decimal import Decimal

    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_sources import (
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_SESSIONS,
    )

    exp = "homepage_cta_test"
    assignments = [
        ("h1", "k1", None, "control", "2024-01-02 10:00:00", "2024-01-02"),
        ("h2", "k1", None, "control", "2024-01-01 23:00:00", "2024-01-03"),  # late
        ("h3", "k2", None, "treatment", "2024-01-01 09:00:00", "2024-01-01"),
        ("h4", "k3", 3, "control", "2024-01-02 09:00:00", "2024-01-02"),
        ("h5", "k4", 3, "treatment", "2024-01-03 09:00:00", "2024-01-03"),
        ("h6", "k5", None, "control", "2024-01-05 09:00:00", "2024-01-04"),  # skewed
        ("h7", None, 6, "treatment", "2024-01-04 09:00:00", "2024-01-04"),
    ]
    sessions = [
        ("t1", None, "k1", "mobile", "2024-01-01 08:00:00"),
        ("t1b", 1, "k1", "desktop", "2024-01-02 11:00:00"),
        ("t2", None, "k2", "tablet", "2024-01-01 08:30:00"),
        ("t2b", 2, "k2", "desktop", "2024-01-03 10:00:00"),
        ("t3", 3, "k3", "desktop", "2024-01-02 08:00:00"),
        ("t4", 3, "k4", "mobile", "2024-01-03 08:00:00"),
    ]

    def account(uid, ctype, region, at, part):
        return (uid, ctype, "NL", region, "pro", "pg1", 500, "google", None, None, False,
                False, None, t(at), part)  # fmt: skip

    accounts = [
        account(1, "prospect", "EMEA", "2024-01-01 07:00:00", "2024-01-01"),
        account(1, "existing", "EMEA", "2024-01-03 07:00:00", "2024-01-03"),
        account(1, "existing", "EMEA", "2024-01-04 07:00:00", "2024-01-04"),  # same type
        account(2, "prospect", "EMEA", "2023-12-20 07:00:00", "2023-12-20"),
        account(3, "prospect", "AMER", "2024-01-02 07:00:00", "2024-01-02"),
    ]
    billing = [
        ("b1", 1, "paid_start", "2024-01-02 12:00:00", None, "2024-01-02"),
        ("b2", 1, "booking", "2024-01-02 12:00:00", "49.00", "2024-01-02"),
        ("b3", 2, "activation", "2024-01-03 12:00:00", None, "2024-01-03"),
        ("b4", 3, "activation", "2023-11-01 12:00:00", None, "2023-11-01"),  # look-back
    ]
    web = [
        (None, "experiment_exposure", "2024-01-02 10:00:00", "NL",
         {"experiment": exp, "anonymous_id": "k1", "utm_source": "ads"}),
        (2, "onboarding_start", "2024-01-03 12:30:00", "DE", {}),
        (2, "onboarding_complete", "2024-01-04 09:00:00", "DE", {}),
    ]  # fmt: skip
    return {
        "assignments": spark.createDataFrame(
            [(i, exp, v, u, a, a, t(at), p) for i, a, u, v, at, p in assignments],
            SILVER_EXPERIMENT_ASSIGNMENTS.spark_schema(),
        ),
        "sessions": spark.createDataFrame(
            [(i, u, a, "app", dev, t(st), t(st), st[:10]) for i, u, a, dev, st in sessions],
            SILVER_SESSIONS.spark_schema(),
        ),
        "accounts": spark.createDataFrame(accounts, SILVER_ACCOUNTS.spark_schema()),
        "billing": spark.createDataFrame(
            [
                (i, u, kind, t(at), "pro", Decimal(m) if m else None, None, None, p)
                for i, u, kind, at, m, p in billing
            ],
            SILVER_BILLING_EVENTS.spark_schema(),
        ),
        "web": spark.createDataFrame(
            [
                (u, i, "www.example.com", c, "Apple", act, t(at), {**pr, "session_id": "x"},
                 at[:10])
                for i, (u, act, at, c, pr) in enumerate(web)
            ],  # fmt: skip
            FCT_WEBSITE_EVENTS.spark_schema(),
        ),
    }


def test_base_folding_day_by_day_equals_the_full_window(spark):
    from spark_jobs.gold.experiments import base, base_state

    spec = load_experiment("homepage_cta_test")
    data = _hp_inputs(spark)
    order = ("assignments", "sessions", "accounts", "billing", "web")
    state = None
    by_day = {}
    for i, day in enumerate(HP_DAYS):
        # the first day folds the whole look-back (as a full rebuild does); then one day each
        parts = {k: (_upto if i == 0 else _only)(data[k], day) for k in order}
        rows = base_state.day_state(spec, *(parts[k] for k in order))
        state = base_state.merge_state(
            spec, rows if state is None else state.unionByName(rows), day
        )
        state = spark.createDataFrame(state.collect(), state.schema)
        carried = base_state.base_from_state(spec, state, day)
        direct = base.transform(spec, day, *(_upto(data[k], day) for k in order))
        assert_df_equality(
            carried.orderBy("unit_id"), direct.orderBy("unit_id"), ignore_nullable=True
        )
        by_day[day] = {r.unit_id: r for r in carried.collect()}

    d1, d2, d3, d4 = (by_day[d] for d in HP_DAYS)
    assert sorted(d1, key=str) == ["k2"] and d1["k2"].user_id is None
    assert d1["k2"].pre_exposure_sessions == 1 and d1["k2"].device_type == "tablet"
    k1 = d2["k1"]
    assert (k1.first_exposure_at, k1.pre_exposure_sessions, k1.country, k1.traffic_source) == (
        t("2024-01-02 10:00:00"), 1, "NL", "ads",
    )
    assert k1.user_id == 1 and k1.customer_type == "prospect"  # paid after the exposure
    k1 = d3["k1"]  # the late 01-01 23:00 assignment is now the first exposure
    assert (k1.first_exposure_at, k1.exposure_count, k1.pre_exposure_sessions) == (
        t("2024-01-01 23:00:00"), 2, 1,
    )
    assert k1.customer_type == "prospect"
    k2 = d3["k2"]
    assert (k2.user_id, k2.person_id, k2.region) == (2, "2", "EMEA")
    assert k2.activation_times == [t("2024-01-03 12:00:00")]
    assert d4["k2"].onboarding_complete_times == [t("2024-01-04 09:00:00")]
    assert (d3["k3"].duplication_rank, d3["k4"].duplication_rank) == (1, 2)
    assert d3["k3"].contamination_flag == "Multiple Variants"
    assert d3["k3"].activation_times == [t("2023-11-01 12:00:00")]
    assert "k5" not in d4 and None in d4 and d4[None].user_id == 6
    # the state keeps one account_types entry per change of type, not per export
    user1 = state.where("key_kind = 'user' AND user_id = 1").first()
    assert [a.customer_type for a in user1.account_types] == ["prospect", "existing"]


@pytest.mark.slow
def test_base_main_carries_state_day_by_day(spark, lakehouse_env):
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_experiments import contract_for
    from include.table_catalog_sources import (
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_SESSIONS,
    )
    from include.tables import read_partition, write_partition
    from spark_jobs.gold.experiments import base
    from spark_jobs.run import run

    spec = load_experiment("homepage_cta_test")
    data = _hp_inputs(spark)
    contracts = {
        "assignments": SILVER_EXPERIMENT_ASSIGNMENTS, "sessions": SILVER_SESSIONS,
        "accounts": SILVER_ACCOUNTS, "billing": SILVER_BILLING_EVENTS, "web": FCT_WEBSITE_EVENTS,
    }  # fmt: skip
    days_with_data = sorted(
        {r.ds for k in contracts for r in data[k].select("ds").distinct().collect()}
    )
    for day in days_with_data:
        if day < HP_DAYS[0]:  # the look-back partitions exist before the first run
            for k, c in contracts.items():
                write_partition(spark, _only(data[k], day), c, day, lakehouse_env)
    modes = {}
    for day in HP_DAYS:
        for k, c in contracts.items():
            write_partition(spark, _only(data[k], day), c, day, lakehouse_env)
        out = run("gold.experiments.base", day, {"experiment": spec.name}, spark=spark)
        modes[day] = out["extra"]["state"]
        stored = read_partition(spark, contract_for(spec.name, "base"), day, lakehouse_env)
        direct = base.transform(spec, day, *(_upto(data[k], day) for k in contracts))
        assert_df_equality(
            stored.orderBy("unit_id"), direct.orderBy("unit_id"), ignore_nullable=True
        )
    assert modes[HP_DAYS[0]]["mode"] == "full"
    assert modes[HP_DAYS[0]]["read_range"] == ["2023-10-03", HP_DAYS[0]]  # 90-day look-back
    for day in HP_DAYS[1:]:
        assert modes[day]["mode"] == "carried", modes[day]
        assert modes[day]["read_range"] == [day, day]
