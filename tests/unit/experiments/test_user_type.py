"""Web-only vs hybrid per user, decided in base from in-app use before the exposure (seed 001).

Every id is exposed on 2024-02-01 10:00 in homepage_cta_test (look-back 90 days) and
activated on 2024-01-31 (the day before). ``silver.product_usage`` (logins per account and
day), worked out by hand against the rule "a day with logins > 0 from the exposure date minus
90 days (2023-11-03) to the day before the exposure date (2024-01-31)":

| id | account | usage days (logins) | in-app days | user_type | activated |
| u1 | 1 | 2024-01-31 (2) | 1 | hybrid | yes, 2024-01-31 |
| u2 | 2 | 2024-02-01 (1): the exposure day itself | 0 | web_only | no |
| u3 | 3 | 2023-11-03 (1), 2023-11-02 (4) | 1 (the 91st day is out) | hybrid | yes |
| u4 | 4 | 2024-01-20 (0): a row without a login | 0 | web_only | no |
| u5 | none (anonymous) | - | 0 | web_only | no |
| u6 | 6 | 2024-01-29 (1), 2024-01-30 (3) | 2 | hybrid | yes |
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from spark_jobs.gold.experiments import base, outcomes
from tests.unit.experiments.helpers import spec

DS = "2024-02-05"
EXPOSED = datetime(2024, 2, 1, 10)


def _empty(spark, contract):
    return spark.createDataFrame([], contract.spark_schema())


@pytest.fixture(scope="module")
def rows(spark):
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_sources import (
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_PRODUCT_USAGE,
        SILVER_SESSIONS,
    )

    users = {"u1": 1, "u2": 2, "u3": 3, "u4": 4, "u5": None, "u6": 6}
    assignments = spark.createDataFrame(
        [
            (f"a_{u}", "homepage_cta_test", "control", uid, u, str(uid or u), EXPOSED,
             "2024-02-01")
            for u, uid in users.items()
        ],
        SILVER_EXPERIMENT_ASSIGNMENTS.spark_schema(),
    )  # fmt: skip
    activation = datetime(2024, 1, 31, 12)
    billing = spark.createDataFrame(
        [
            (f"b{uid}", uid, "activation", activation, "pro", None, None, None, "2024-01-31")
            for uid in users.values()
            if uid is not None
        ],
        SILVER_BILLING_EVENTS.spark_schema(),
    )

    def use(uid, day, logins):
        return (uid, date.fromisoformat(day), logins, 0, 1, day)

    usage = spark.createDataFrame(
        [
            use(1, "2024-01-31", 2),
            use(2, "2024-02-01", 1),
            use(3, "2023-11-03", 1),
            use(3, "2023-11-02", 4),
            use(4, "2024-01-20", 0),
            use(6, "2024-01-29", 1),
            use(6, "2024-01-30", 3),
        ],
        SILVER_PRODUCT_USAGE.spark_schema(),
    )
    s = spec()
    got = base.transform(
        s, DS, assignments, _empty(spark, SILVER_SESSIONS), _empty(spark, SILVER_ACCOUNTS),
        billing, _empty(spark, FCT_WEBSITE_EVENTS), None, usage,
    ).cache()  # fmt: skip
    return s, got


def test_user_type_comes_from_in_app_use_before_the_exposure_day(rows):
    _, got = rows
    assert {r.unit_id: (r.pre_exposure_app_days, r.user_type) for r in got.collect()} == {
        "u1": (1, "hybrid"),
        "u2": (0, "web_only"),
        "u3": (1, "hybrid"),
        "u4": (0, "web_only"),
        "u5": (0, "web_only"),
        "u6": (2, "hybrid"),
    }


def test_the_look_back_applies_to_hybrid_users_only(rows):
    s, got = rows
    out = outcomes.transform(s, got, DS).collect()
    assert {r.unit_id: (r.user_type, r.is_activated, r.is_hybrid_activation) for r in out} == {
        "u1": ("hybrid", 1, 1),
        "u2": ("web_only", 0, 0),
        "u3": ("hybrid", 1, 1),
        "u4": ("web_only", 0, 0),
        "u5": ("web_only", 0, 0),
        "u6": ("hybrid", 1, 1),
    }


def test_without_a_look_back_every_user_is_web_only(spark, rows):
    """An experiment without a look-back has no window for in-app days: nobody is hybrid."""
    from pyspark.sql import functions as F

    from include.table_catalog_sources import SILVER_PRODUCT_USAGE
    from spark_jobs.gold.experiments.base import app_usage_before_exposure

    units = spark.createDataFrame(
        [("u1", 1, EXPOSED)], "unit_id STRING, user_id BIGINT, first_exposure_at TIMESTAMP"
    )
    usage = spark.createDataFrame(
        [(1, date(2024, 1, 31), 2, 0, 1, "2024-01-31")], SILVER_PRODUCT_USAGE.spark_schema()
    )
    assert app_usage_before_exposure(units, usage, spec(activation_lookback_days=0)).count() == 0
    with_lookback = app_usage_before_exposure(units, usage, spec())
    assert with_lookback.select(F.col("pre_exposure_app_days")).first()[0] == 1
