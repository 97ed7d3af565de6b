"""MRR bridge (seed 004) on hand-made billing histories with the answers worked out by hand."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from include.table_catalog_sources import SILVER_BILLING_EVENTS
from spark_jobs.gold.finance import mrr_bridge


def billing(spark, rows):
    """rows: (user_id, event_type, event_time 'YYYY-MM-DDTHH:MM', mrr, landed ds or None)."""
    data = []
    for i, (user, kind, when, mrr, landed) in enumerate(rows):
        t = datetime.fromisoformat(when)
        data.append(
            (
                f"be_{i:04d}",
                user,
                kind,
                t,
                "pro",
                Decimal(str(mrr)),
                Decimal("0"),
                None,
                landed or t.date().isoformat(),
            )
        )
    return spark.createDataFrame(data, SILVER_BILLING_EVENTS.spark_schema())


# One history with every kind of movement in February 2024.
HISTORY = [
    (1, "paid_start", "2024-02-10T08:00", 29, None),  # new 29
    (1, "booking", "2024-02-10T08:00:01", 29, None),
    (2, "paid_start", "2024-01-05T10:00", 79, None),  # churn 79
    (2, "cancellation", "2024-02-15T12:00", 0, None),
    (3, "paid_start", "2024-01-03T10:00", 29, None),  # expansion 29 -> 79
    (3, "plan_change", "2024-02-04T10:00", 79, None),
    (4, "paid_start", "2023-12-20T10:00", 199, None),  # contraction 79 -> 29
    (4, "plan_change", "2024-01-20T10:00", 79, None),
    (4, "plan_change", "2024-02-20T10:00", 29, None),
    (5, "paid_start", "2024-01-10T10:00", 46.40, None),  # flat
    (6, "paid_start", "2024-01-01T10:00", 29, None),  # in and out in January,
    (6, "cancellation", "2024-01-25T10:00", 0, None),  # back in February: new 29,
    (6, "paid_start", "2024-02-12T09:00", 29, None),
    (6, "cancellation", "2024-03-05T10:00", 0, None),  # out and back in March at 79
    (6, "paid_start", "2024-03-20T10:00", 79, None),  # (expansion 29 -> 79)
    (7, "trial_start", "2024-02-01T10:00", 0, None),  # trial only: moves nothing
    (8, "paid_start", "2024-03-01T00:00", 199, None),  # first instant of March: not February
    (9, "paid_start", "2024-02-28T10:00", 500, "2024-03-02"),  # landed after the run's ds
]


def row(df) -> dict:
    rows = df.collect()
    assert len(rows) == 1
    return rows[0].asDict()


def test_bridge_every_category_and_identity(spark):
    out = row(mrr_bridge.transform(billing(spark, HISTORY), "2024-02-29"))
    assert out == {
        "start_mrr": Decimal("233.40"),  # 79 + 29 + 79 + 46.40
        "new_mrr": Decimal("58.00"),  # users 1 and 6
        "expansion_mrr": Decimal("50.00"),
        "contraction_mrr": Decimal("50.00"),
        "churn_mrr": Decimal("79.00"),
        "end_mrr": Decimal("212.40"),  # 29 + 79 + 29 + 46.40 + 29
        "start_customers": 4,
        "new_customers": 2,
        "expansion_customers": 1,
        "contraction_customers": 1,
        "churned_customers": 1,
        "flat_customers": 1,
        "end_customers": 5,
        "as_of_ds": "2024-02-29",
        "month": "2024-02",
    }
    identity = (
        out["start_mrr"]
        + out["new_mrr"]
        + out["expansion_mrr"]
        - out["contraction_mrr"]
        - out["churn_mrr"]
    )
    assert identity == out["end_mrr"]


def test_snapshot_categories_per_user(spark):
    snaps = mrr_bridge.transform_snapshots(billing(spark, HISTORY), "2024-02-29")
    got = {r.user_id: (r.start_mrr, r.end_mrr, r.mrr_category) for r in snaps.collect()}
    d = Decimal
    assert got == {
        1: (d("0.00"), d("29.00"), "new"),
        2: (d("79.00"), d("0.00"), "churn"),
        3: (d("29.00"), d("79.00"), "expansion"),
        4: (d("79.00"), d("29.00"), "contraction"),
        5: (d("46.40"), d("46.40"), "flat"),
        6: (d("0.00"), d("29.00"), "new"),
    }


def test_churn_and_return_across_months(spark):
    df = billing(spark, HISTORY)
    january = row(mrr_bridge.transform(df, "2024-01-31"))
    # user 6 paid on Jan 1 and left on Jan 25: 0 at both snapshots, moves nothing;
    # users 2 (79), 3 (29) and 5 (46.40) are new
    assert january["new_mrr"] == Decimal("154.40")
    assert january["new_customers"] == 3
    assert january["contraction_mrr"] == Decimal("120.00")  # user 4: 199 -> 79
    march = row(mrr_bridge.transform(df, "2024-03-31"))
    # user 6 churned on Mar 5 and came back at 79 on Mar 20: snapshots 29 -> 79 = expansion
    assert march["expansion_mrr"] == Decimal("50.00")
    assert march["churned_customers"] == 0
    # user 8 paid at Mar 1 00:00 (in March); user 9 (Feb 28, landed Mar 2) was paying already
    assert march["new_mrr"] == Decimal("199.00")
    assert march["start_mrr"] == Decimal("29") + 79 + 29 + Decimal("46.40") + 29 + 500


def test_month_to_date_and_landing_bound(spark):
    df = billing(spark, HISTORY)
    mid = row(mrr_bridge.transform(df, "2024-02-12"))
    # by the end of Feb 12: user 1 (29) and 6 (29) new, user 3 expanded, 2 and 4 unchanged
    assert mid["end_mrr"] == Decimal("341.40")  # 29 + 79 + 79 + 79 + 46.40 + 29
    assert mid["as_of_ds"] == "2024-02-12"
    assert mid["churned_customers"] == 0
    # user 9's event of Feb 28 landed on Mar 2: a run for ds=2024-02-29 must not see it
    assert row(mrr_bridge.transform(df, "2024-02-29"))["end_customers"] == 5


def test_empty_month_has_a_zero_row(spark):
    out = row(mrr_bridge.transform(billing(spark, HISTORY[:2]), "2023-11-15"))
    assert out["end_mrr"] == Decimal("0.00") and out["start_customers"] == 0
    assert out["month"] == "2023-11"


@pytest.mark.parametrize("ds", ["2024-02-29", "2024-03-31"])
def test_identity_holds(spark, ds):
    out = row(mrr_bridge.transform(billing(spark, HISTORY), ds))
    assert out["end_mrr"] == (
        out["start_mrr"]
        + out["new_mrr"]
        + out["expansion_mrr"]
        - out["contraction_mrr"]
        - out["churn_mrr"]
    )
