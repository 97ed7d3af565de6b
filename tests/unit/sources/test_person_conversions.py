"""silver.person_conversions: the per-person state behind seed 001's "disqualifying prior
activity", one partition per landing day, folded by ``common.first_paid``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from include.table_catalog_sources import SILVER_BILLING_EVENTS, SILVER_PERSON_CONVERSIONS
from include.tables import read_partition, write_partition


def _ev(i, user, kind, when, landed):
    return (f"be_{i}", user, kind, datetime.fromisoformat(when), "pro", Decimal("49.00"),
            Decimal(0), None, landed)  # fmt: skip


@pytest.mark.slow
def test_each_day_keeps_its_accounts_first_paid_start_and_the_fold_takes_the_earliest(
    spark, lakehouse_env
):
    """Day 1 (2023-06-10): account 1 pays twice (09:00, 12:00), account 2 only books. Day 2
    (2024-01-05): account 1 pays again, account 3 pays. State: day 1 {1: 09:00 (2 paid
    starts)}, day 2 {1, 3}; folded up to day 1: {1}; up to day 2: {1: 2023-06-10 09:00, 3}."""
    from spark_jobs.gold.experiments.common import first_paid
    from spark_jobs.silver import person_conversions

    days = {
        "2023-06-10": [_ev(1, 1, "paid_start", "2023-06-10T12:00:00", "2023-06-10"),
                       _ev(2, 1, "paid_start", "2023-06-10T09:00:00", "2023-06-10"),
                       _ev(3, 2, "booking", "2023-06-10T10:00:00", "2023-06-10")],
        "2024-01-05": [_ev(4, 1, "paid_start", "2024-01-05T08:00:00", "2024-01-05"),
                       _ev(5, 3, "paid_start", "2024-01-05T09:30:00", "2024-01-05")],
    }  # fmt: skip
    for ds, rows in days.items():
        df = spark.createDataFrame(rows, SILVER_BILLING_EVENTS.spark_schema())
        write_partition(spark, df, SILVER_BILLING_EVENTS, ds, lakehouse_env)
        result = person_conversions.main(spark, ds, lakehouse_env)
        assert result.rows_in == result.rows_out == {"2023-06-10": 1, "2024-01-05": 2}[ds]

    day1 = read_partition(spark, SILVER_PERSON_CONVERSIONS, "2023-06-10", lakehouse_env)
    assert [(r.user_id, r.first_paid_at, r.paid_starts) for r in day1.collect()] == [
        (1, datetime(2023, 6, 10, 9), 2)]  # fmt: skip

    def folded(ds):
        return {r.user_id: r.first_paid_at for r in first_paid(spark, ds, lakehouse_env).collect()}

    assert folded("2023-06-10") == {1: datetime(2023, 6, 10, 9)}
    assert folded("2024-01-05") == {1: datetime(2023, 6, 10, 9), 3: datetime(2024, 1, 5, 9, 30)}
    # re-running day 1 rewrites day 1 only: the same state
    person_conversions.main(spark, "2023-06-10", lakehouse_env)
    assert folded("2024-01-05") == {1: datetime(2023, 6, 10, 9), 3: datetime(2024, 1, 5, 9, 30)}
