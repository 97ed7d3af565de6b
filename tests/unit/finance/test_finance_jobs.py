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


@pytest.mark.slow
def test_a_closed_month_keeps_its_final_figures_when_one_of_its_days_is_re_run(
    spark, lakehouse_env
):
    """u1 pays 29.00 on 2024-01-05 and moves to 79.00 on 01-20; u2 starts at 49.00 on 02-02.
    January closed (run 01-31): end 79.00. February (run 02-05): start 79.00, new 49.00, end
    128.00. Re-running 2024-01-10 (month-to-date it would say end 29.00) keeps January as it
    closed, commits nothing, and says so; the revenue mart too. An open month does not go
    back either: re-running 02-03 after 02-05 keeps February as of 02-05."""
    from include.table_catalog_finance import MONTHLY_REVENUE
    from include.tables import table_version

    def ev(i, user, when, mrr, kind="plan_change"):
        t = datetime.fromisoformat(when)
        return (f"be_{i}", user, kind, t, "pro", Decimal(mrr), Decimal(0), None, when[:10])

    for landed, rows in {
        "2024-01-05": [ev(1, 1, "2024-01-05T10:00", "29.00")],
        "2024-01-20": [ev(2, 1, "2024-01-20T10:00", "79.00")],
        "2024-02-02": [ev(3, 2, "2024-02-02T10:00", "49.00")],
    }.items():
        df = spark.createDataFrame(rows, SILVER_BILLING_EVENTS.spark_schema())
        write_partition(spark, df, SILVER_BILLING_EVENTS, landed, lakehouse_env)

    from include.table_catalog_sources import SILVER_ORDERS
    from include.tables import ensure_table

    ensure_table(spark, SILVER_ORDERS, lakehouse_env)  # no order: revenue is MRR only
    for ds in ("2024-01-31", "2024-02-05"):
        run("gold.finance.mrr_bridge", ds, spark=spark)
        run("gold.finance.monthly_revenue", ds, spark=spark)

    def bridge():
        return {r.month: r.asDict() for r in read_table(spark, MRR_BRIDGE, lakehouse_env).collect()}

    closed = bridge()
    assert (closed["2024-01"]["end_mrr"], closed["2024-01"]["as_of_ds"]) == (
        Decimal("79.00"), "2024-01-31")  # fmt: skip
    feb = closed["2024-02"]
    assert (feb["start_mrr"], feb["new_mrr"], feb["end_mrr"]) == (
        Decimal("79.00"), Decimal("49.00"), Decimal("128.00"))  # fmt: skip
    versions = {c: table_version(spark, c, lakehouse_env) for c in (MRR_BRIDGE, MONTHLY_REVENUE)}
    def revenue_rows():
        rows = read_table(spark, MONTHLY_REVENUE, lakehouse_env).collect()
        return sorted(repr(sorted(r.asDict().items())) for r in rows)

    revenue_before = revenue_rows()

    again = run("gold.finance.mrr_bridge", "2024-01-10", spark=spark)
    revenue = run("gold.finance.monthly_revenue", "2024-01-10", spark=spark)
    assert again["rows_out"] == 0 and again["extra"]["kept_as_of"] == "2024-01-31"
    assert revenue["extra"]["kept_as_of"] == "2024-01-31"
    assert bridge() == closed  # January's final figures, February untouched
    assert revenue_rows() == revenue_before
    assert {c: table_version(spark, c, lakehouse_env) for c in versions} == versions

    assert run("gold.finance.mrr_bridge", "2024-02-03", spark=spark)["extra"]["kept_as_of"] == (
        "2024-02-05"
    )
    assert bridge()["2024-02"]["as_of_ds"] == "2024-02-05"
    # the month's own last state is re-run as usual (same day: rewritten, same figures)
    assert "kept_as_of" not in run("gold.finance.mrr_bridge", "2024-02-05", spark=spark)["extra"]
    assert bridge() == closed
