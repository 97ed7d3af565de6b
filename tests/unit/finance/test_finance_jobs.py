"""main() round trip of gold.finance.mrr_bridge on a local warehouse: run, then re-run."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from include.table_catalog_finance import MRR_BRIDGE, MRR_SNAPSHOT_USER_MONTH
from include.table_catalog_sources import SILVER_BILLING_EVENTS
from include.tables import read_table, write_partition
from spark_jobs.run import run


@pytest.mark.slow  # five Delta commits: about a minute or more on a busy laptop
def test_mrr_bridge_main_is_idempotent_per_month(spark, lakehouse_env):
    def ev(i, user, when, mrr, landed):
        t = datetime.fromisoformat(when)
        return (f"be_{i}", user, "plan_change", t, "pro", Decimal(mrr), Decimal(0), None, landed)

    rows = [
        ev(1, 1, "2024-01-10T10:00", "29.00", "2024-02-03"),  # landed late, still January MRR
        ev(2, 1, "2024-02-03T10:00", "79.00", "2024-02-03"),
        ev(3, 2, "2024-02-03T11:00", "49.00", "2024-02-03"),
    ]
    df = spark.createDataFrame(rows, SILVER_BILLING_EVENTS.spark_schema())
    write_partition(spark, df, SILVER_BILLING_EVENTS, "2024-02-03", lakehouse_env)

    first = run("gold.finance.mrr_bridge", "2024-02-29", spark=spark)
    again = run("gold.finance.mrr_bridge", "2024-02-29", spark=spark)
    assert first["rows_out"] == again["rows_out"] == 1
    assert first["extra"]["month"] == "2024-02"
    bridge = {r.month: r for r in read_table(spark, MRR_BRIDGE, lakehouse_env).collect()}
    assert sorted(bridge) == ["2024-02"]  # one row for the month after the re-run
    feb = bridge["2024-02"]
    assert (feb.start_mrr, feb.expansion_mrr, feb.new_mrr, feb.end_mrr) == (
        Decimal("29.00"), Decimal("50.00"), Decimal("49.00"), Decimal("128.00"),
    )  # fmt: skip
    snaps = read_table(spark, MRR_SNAPSHOT_USER_MONTH, lakehouse_env).where("month = '2024-02'")
    assert {(r.user_id, r.mrr_category) for r in snaps.collect()} == {(1, "expansion"), (2, "new")}
