"""gold.{experiment}_details on hand-worked accounts (details.transform, no Delta), ds 2024-04-15.

- u1: signed up 2023-12-01, exposed 2024-01-05 (tenure 35 -> '30-89d'), converted
  2024-01-10 09:00 with WELCOME10 at 50.00 MRR, cancelled 2024-03-01: MRR at 02-10 09:00 is
  50 (M1 = 1), at 03-10 09:00 is 0 (M2 = 0). Usage: the exposure day and day 29 count
  (logins 2 + 1, emails 10 + 5, features level max(3, 4)); the day before and day 30 do not.
- u2: converted 2024-03-20 10:00 without a promo: M1's instant 04-20 is after ds -> null.
- u3: converted 2024-01-31 12:00; M1's instant clamps to 2024-02-29 12:00, where a
  cancellation happens at exactly that instant: the state at the instant includes it -> 0.
  M2 (03-31 12:00) observable: still 0.
- u4: signed up after the exposure (tenure -3), never converted: retention and promo null;
  its usage window (04-01 .. 04-30) is still open at ds.
- anon: no account -> 'no_account', usage null.
- dup (duplication_rank 2) and contaminated rows are not in the table.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from chispa import assert_df_equality

from include.table_catalog_experiments import base_contract, outcomes_contract
from spark_jobs.gold.experiments import details
from tests.unit.experiments.helpers import base_row, spec

DS = "2024-04-15"


def t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def d(s: str) -> date:
    return date.fromisoformat(s)


UNITS = [
    # unit, user, exposed, signup, paid start, flags (dup rank, contamination)
    ("u1", 1, "2024-01-05 08:00:00", "2023-12-01 00:00:00", "2024-01-10 09:00:00", 1, "ok"),
    ("u2", 2, "2024-03-10 08:00:00", "2024-03-01 00:00:00", "2024-03-20 10:00:00", 1, "ok"),
    ("u3", 3, "2024-01-20 08:00:00", "2023-01-01 00:00:00", "2024-01-31 12:00:00", 1, "ok"),
    ("u4", 4, "2024-04-01 08:00:00", "2024-04-04 00:00:00", None, 1, "ok"),
    ("anon", None, "2024-02-01 08:00:00", None, None, 1, "ok"),
    ("dup", 1, "2024-01-06 08:00:00", "2023-12-01 00:00:00", None, 2, "ok"),
    ("mixed", 5, "2024-01-06 08:00:00", "2023-12-01 00:00:00", None, 1, "Multiple Variants"),
]


def _inputs(spark):
    from include.table_catalog_sources import SILVER_BILLING_EVENTS, SILVER_PRODUCT_USAGE

    out_rows, base_rows = [], []
    for unit, user, exposed, signup, paid, rank, flag in UNITS:
        flag = "Not Contaminated" if flag == "ok" else flag
        paid_at = t(paid) if paid else None
        row = {c: None for c in outcomes_contract("homepage_cta_test").columns}
        row.update(
            experiment="homepage_cta_test",
            unit_id=unit,
            person_id=unit,
            user_id=user,
            variant="control",
            first_exposure_at=t(exposed),
            exposure_date=t(exposed).date(),
            is_eligible_visitor=1,
            is_converted=int(paid is not None),
            conversion_date=paid_at.date() if paid_at else None,
            duplication_rank=rank,
            contamination_flag=flag,
            ds=DS,
        )
        out_rows.append(row)
        b = base_row(
            unit,
            user_id=user,
            signup_at=t(signup) if signup else None,
            paid_start_times=[paid] if paid else [],
        )
        base_rows.append(b)
    outcomes = spark.createDataFrame(
        out_rows, outcomes_contract("homepage_cta_test").spark_schema()
    )
    base = spark.createDataFrame(base_rows, base_contract("homepage_cta_test").spark_schema())

    def be(i, user, kind, at, mrr, promo=None):
        return (f"be{i}", user, kind, t(at), "pro", Decimal(mrr), Decimal("0"), promo, at[:10])

    billing = spark.createDataFrame(
        [
            be(1, 1, "paid_start", "2024-01-10 09:00:00", "50.00", "WELCOME10"),
            be(2, 1, "booking", "2024-01-10 09:00:01", "50.00", "WELCOME10"),
            be(3, 1, "cancellation", "2024-03-01 00:00:00", "0.00"),
            be(4, 2, "paid_start", "2024-03-20 10:00:00", "30.00"),
            be(5, 3, "paid_start", "2024-01-31 12:00:00", "30.00"),
            be(6, 3, "cancellation", "2024-02-29 12:00:00", "0.00"),
        ],
        SILVER_BILLING_EVENTS.spark_schema(),
    )

    def use(user, day, logins, emails, features):
        return (user, d(day), logins, emails, features, day)

    usage = spark.createDataFrame(
        [
            use(1, "2024-01-04", 50, 50, 9),  # before the exposure day
            use(1, "2024-01-05", 2, 10, 3),  # exposure day
            use(1, "2024-02-03", 1, 5, 4),  # day 29: last day in
            use(1, "2024-02-04", 100, 100, 10),  # day 30: out
            use(4, "2024-04-10", 1, 1, 1),
            use(4, "2024-04-16", 9, 9, 9),  # after ds
        ],
        SILVER_PRODUCT_USAGE.spark_schema(),
    )
    return outcomes, base, billing, usage


def test_details_retention_promo_tenure_usage(spark):
    result = details.transform(spec(), DS, *_inputs(spark))
    cols = (
        "unit_id",
        "tenure_days",
        "tenure_bucket",
        "signup_cohort",
        "converted_at",
        "promo_type",
        "m1_retained",
        "m2_retained",
        "logins",
        "emails_sent",
        "features_adopted",
        "usage_days",
        "usage_window_complete",
    )
    expected = spark.createDataFrame(
        [
            (
                "u1",
                35,
                "30-89d",
                "2023-12",
                t("2024-01-10 09:00:00"),
                "WELCOME10",
                1,
                0,
                3,
                15,
                4,
                2,
                True,
            ),
            (
                "u2",
                9,
                "0-13d",
                "2024-03",
                t("2024-03-20 10:00:00"),
                "none",
                None,
                None,
                0,
                0,
                0,
                0,
                True,
            ),
            (
                "u3",
                384,
                "365d+",
                "2023-01",
                t("2024-01-31 12:00:00"),
                "none",
                0,
                0,
                0,
                0,
                0,
                0,
                True,
            ),
            (
                "u4",
                -3,
                "signed_up_after_exposure",
                "2024-04",
                None,
                None,
                None,
                None,
                1,
                1,
                1,
                1,
                False,
            ),
            (
                "anon",
                None,
                "no_account",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                True,
            ),
        ],
        result.select(*cols).schema,
    )
    assert_df_equality(result.select(*cols), expected, ignore_row_order=True, ignore_nullable=True)


def test_read_bounds_stop_after_the_last_useful_day():
    s = spec()  # end 2024-03-31
    assert details.read_bounds(s, "2024-02-01") == {
        "billing": ("2024-01-01", "2024-02-01"),
        "usage": ("2024-01-01", "2024-02-01"),
    }
    assert details.read_bounds(s, "2025-01-01") == {
        "billing": ("2024-01-01", "2024-06-01"),
        "usage": ("2024-01-01", "2024-04-30"),
    }
