"""Finance marts (seed 004) on one tiny hand-made company, answers worked out by hand.

Customers (MRR): a pays 29 from Jan 5; b pays 49 from Jan 10, cancels Feb 10; c pays 29 on
Jan 20 and cancels Jan 28; d pays 79 from Feb 3; e pays 29 from Jan 15, cancels Feb 5 and
comes back at 29 on Mar 10; f only ever trials.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from chispa import assert_df_equality

from include.table_catalog_sources import (
    SILVER_ACCOUNTS,
    SILVER_BILLING_EVENTS,
    SILVER_NPS_RESPONSES,
    SILVER_ORDERS,
    SILVER_SUPPORT_TICKETS,
)
from spark_jobs.gold.finance import (
    churn_flags,
    cohort_retention,
    monthly_funnel,
    monthly_revenue,
    support_summary,
    user_master,
)

A, B, C, D, E, F_ = 1, 2, 3, 4, 5, 6
EVENTS = [
    (A, "trial_start", "2023-12-22T09:00", 0, "starter"),
    (A, "activation", "2023-12-23T09:00", 0, "starter"),
    (A, "paid_start", "2024-01-05T09:00", 29, "starter"),
    (A, "booking", "2024-01-05T09:00:01", 29, "starter"),
    (B, "paid_start", "2024-01-10T09:00", 49, "starter"),
    (B, "cancellation", "2024-02-10T09:00", 0, "starter"),
    (C, "paid_start", "2024-01-20T09:00", 29, "starter"),
    (C, "cancellation", "2024-01-28T09:00", 0, "starter"),
    (D, "trial_start", "2024-01-20T09:00", 0, "pro"),
    (D, "activation", "2024-01-25T09:00", 0, "pro"),
    (D, "paid_start", "2024-02-03T09:00", 79, "pro"),
    (D, "booking", "2024-02-03T09:00:01", 79, "pro"),
    (E, "paid_start", "2024-01-15T09:00", 29, "starter"),
    (E, "cancellation", "2024-02-05T09:00", 0, "starter"),
    (E, "paid_start", "2024-03-10T09:00", 29, "starter"),
    (F_, "trial_start", "2024-02-01T09:00", 0, "pro"),
    (F_, "cancellation", "2024-02-06T09:00", 0, "pro"),
]


def t(s: str) -> datetime:
    return datetime.fromisoformat(s)


@pytest.fixture(scope="module")
def billing(spark):
    rows, prev = [], {}
    for i, (user, kind, when, mrr, plan) in enumerate(EVENTS):
        rows.append(
            (f"be_{i:03d}", user, kind, t(when), plan, Decimal(mrr), Decimal(prev.get(user, 0)),
             None, when[:10])
        )  # fmt: skip
        prev[user] = mrr
    return spark.createDataFrame(rows, SILVER_BILLING_EVENTS.spark_schema()).cache()


@pytest.fixture(scope="module")
def nps(spark):
    rows = [
        ("n1", E, 3, t("2024-01-20T10:00"), "2024-01-20"),
        ("n2", E, 9, t("2024-03-15T10:00"), "2024-03-15"),
        ("n3", A, 10, t("2024-02-10T10:00"), "2024-02-10"),
        ("n4", B, 7, t("2024-02-11T10:00"), "2024-02-11"),
    ]
    return spark.createDataFrame(rows, SILVER_NPS_RESPONSES.spark_schema())


def test_cohort_retention_by_hand(spark, billing):
    got = (
        cohort_retention.transform(billing, "2024-01-31")
        .unionByName(cohort_retention.transform(billing, "2024-02-29"))
        .unionByName(cohort_retention.transform(billing, "2024-03-31"))
        .select("cohort", "month_offset", "cohort_customers", "retained_customers",
                "retention_rate", "month")
    )  # fmt: skip
    expected = spark.createDataFrame(
        [
            ("2024-01", 0, 4, 3, 0.75, "2024-01"),  # a, b, e of a, b, c, e
            ("2024-01", 1, 4, 1, 0.25, "2024-02"),  # a
            ("2024-02", 0, 1, 1, 1.0, "2024-02"),  # d
            ("2024-01", 2, 4, 2, 0.5, "2024-03"),  # a, e (back)
            ("2024-02", 1, 1, 1, 1.0, "2024-03"),  # d
        ],
        "cohort STRING, month_offset INT, cohort_customers BIGINT, retained_customers BIGINT, "
        "retention_rate DOUBLE, month STRING",
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_churn_flags_churn_and_return(spark, billing, nps):
    feb = {r.user_id: r for r in churn_flags.transform(billing, nps, "2024-02-29").collect()}
    mar = {r.user_id: r for r in churn_flags.transform(billing, nps, "2024-03-31").collect()}
    assert set(feb) == {A, B, C, D, E, F_}
    # e: churned on Feb 5, a detractor then; back in March, a promoter by then
    assert (feb[E].churned, feb[E].churn_month, feb[E].churned_at) == (
        True, "2024-02", t("2024-02-05T09:00"),
    )  # fmt: skip
    assert (feb[E].last_nps_score, feb[E].nps_category, feb[E].low_nps) == (3, "detractor", True)
    assert (mar[E].churned, mar[E].churn_month, mar[E].times_churned) == (False, None, 1)
    assert (mar[E].last_nps_score, mar[E].nps_category, mar[E].low_nps) == (9, "promoter", False)
    assert (mar[C].churned, mar[C].churn_month) == (True, "2024-01")
    assert (mar[B].churned, mar[B].churn_month, mar[B].nps_category) == (True, "2024-02", "passive")
    # a trial that never paid is not a churned customer; no NPS answer -> nulls
    assert (mar[F_].ever_paid, mar[F_].churned, mar[F_].times_churned) == (False, False, 0)
    assert (mar[F_].last_nps_score, mar[F_].low_nps) == (None, None)
    assert (mar[A].churned, mar[A].nps_category) == (False, "promoter")


def test_monthly_funnel_counts(billing):
    feb = monthly_funnel.transform(billing, "2024-02-29").collect()[0].asDict()
    assert feb == {
        "signups": 1,  # f
        "activations": 0,
        "paid_conversions": 1,  # d
        "bookings": 1,
        "booking_mrr": Decimal("79.00"),
        "trial_cancellations": 1,  # f (b's and e's cancellations end subscriptions)
        "as_of_ds": "2024-02-29",
        "month": "2024-02",
    }
    jan = monthly_funnel.transform(billing, "2024-01-31").collect()[0]
    assert (jan.signups, jan.activations, jan.paid_conversions, jan.bookings) == (1, 1, 4, 1)


def test_monthly_revenue(spark, billing):
    orders = spark.createDataFrame(
        [
            (
                "o1",
                A,
                "s1",
                "p1",
                1,
                Decimal("10.50"),
                "completed",
                t("2024-02-02T10:00"),
                "2024-02-01",
            ),
            (
                "o2",
                B,
                "s2",
                "p2",
                1,
                Decimal("20.00"),
                "completed",
                t("2024-02-20T10:00"),
                "2024-02-01",
            ),
            (
                "o3",
                B,
                "s3",
                "p2",
                1,
                Decimal("99.00"),
                "refunded",
                t("2024-02-21T10:00"),
                "2024-02-01",
            ),
            (
                "o4",
                B,
                "s4",
                "p2",
                1,
                Decimal("99.00"),
                "completed",
                t("2024-03-01T10:00"),
                "2024-02-01",
            ),
        ],
        SILVER_ORDERS.spark_schema(),
    )
    feb = monthly_revenue.transform(billing, orders, "2024-02-29").collect()[0].asDict()
    # start a 29 + b 49 + e 29 = 107; new d 79; churn b 49 + e 29 = 78; end a 29 + d 79
    assert feb["mrr"] == Decimal("108.00") and feb["arr"] == Decimal("1296.00")
    assert (feb["paying_customers"], feb["arpu"]) == (2, Decimal("54.00"))
    assert (feb["new_mrr"], feb["churn_mrr"]) == (Decimal("79.00"), Decimal("78.00"))
    assert feb["customer_churn_rate"] == pytest.approx(2 / 3)
    assert feb["revenue_churn_rate"] == pytest.approx(78 / 107)
    assert feb["net_revenue_retention"] == pytest.approx(29 / 107)
    assert (feb["new_bookings"], feb["new_booking_mrr"]) == (1, Decimal("79.00"))
    assert (feb["shop_orders"], feb["shop_revenue"]) == (2, Decimal("30.50"))
    assert feb["total_revenue"] == Decimal("138.50")


def test_user_master_latest_crm_row_and_billing_state(spark, billing):
    def acct(user, plan, updated, ds):
        return (user, "prospect", "US", "NA", plan, "pg1_up_to_1k", 500, "direct", "desktop",
                t("2024-01-01T08:00"), False, False, None, t(updated), ds)  # fmt: skip

    accounts = spark.createDataFrame(
        [
            acct(E, "starter", "2024-01-15T09:00", "2024-01-15"),
            acct(E, "free", "2024-02-05T09:00", "2024-02-05"),
            acct(F_, "pro", "2024-02-01T09:00", "2024-02-01"),
            acct(D, "pro", "2024-03-02T09:00", "2024-03-02"),  # landed after ds: not seen
        ],
        SILVER_ACCOUNTS.spark_schema(),
    )
    got = {r.user_id: r for r in user_master.transform(accounts, billing, "2024-02-29").collect()}
    assert set(got) == {E, F_}
    e, f = got[E], got[F_]
    assert (e.current_plan, e.current_mrr, e.is_paying, e.churned) == (
        "free", Decimal("0.00"), False, True,
    )  # fmt: skip
    assert (e.first_paid_at, e.paid_cohort, e.cohort_month) == (
        t("2024-01-15T09:00"), "2024-01", "2024-01",
    )  # fmt: skip
    assert (f.current_plan, f.is_paying, f.churned, f.paid_cohort) == ("pro", False, False, None)


def test_support_summary_levels_and_nps(spark, nps):
    def ticket(tid, cat, prio, created, resolved, sat):
        return (tid, A, cat, prio, t(created), t(resolved) if resolved else None, sat, created[:10])

    tickets = spark.createDataFrame(
        [
            ticket("k1", "billing", "high", "2024-02-01T00:00", "2024-02-01T10:00", 4),
            ticket("k2", "billing", "low", "2024-02-03T00:00", "2024-02-03T02:00", None),
            ticket("k3", "bug", "high", "2024-02-05T00:00", None, 2),
            ticket("k4", "bug", "high", "2024-03-05T00:00", None, 5),  # March
        ],
        SILVER_SUPPORT_TICKETS.spark_schema(),
    )
    rows = support_summary.transform(tickets, nps, "2024-02-29").collect()
    got = {(r.aggregation_level, r.category, r.priority): r for r in rows}
    assert set(got) == {
        ("overall", "all", "all"),
        ("category", "billing", "all"),
        ("category", "bug", "all"),
        ("priority", "all", "high"),
        ("priority", "all", "low"),
        ("category__priority", "billing", "high"),
        ("category__priority", "billing", "low"),
        ("category__priority", "bug", "high"),
    }
    overall = got[("overall", "all", "all")]
    assert (overall.tickets, overall.resolved_tickets) == (3, 2)
    assert overall.avg_resolution_hours == pytest.approx(6.0)  # (10 + 2) / 2
    assert (overall.satisfaction_responses, overall.avg_satisfaction) == (2, 3.0)
    # February answers: a 10 (promoter), b 7 (passive): NPS = 50 - 0
    assert (overall.nps_responses, overall.promoters, overall.detractors) == (2, 1, 0)
    assert overall.nps_score == pytest.approx(50.0)
    assert got[("priority", "all", "high")].tickets == 2
    assert got[("category", "bug", "all")].nps_score is None
