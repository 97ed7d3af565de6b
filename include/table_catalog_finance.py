"""Gold contracts of the growth (seed 003) and finance (seed 004) marts.

Growth tables are daily (partition ``ds``). Finance tables that describe a calendar month are
partitioned by ``month`` (``YYYY-MM``): a run for ``ds`` rebuilds the month that contains
``ds`` (month-to-date while the month is open), so the last run of a month leaves its final
figures. Per-user snapshots (``user_master``, ``churn_flags``) are partitioned by ``ds``: one
full picture of every account as of the end of that day.

Money is DECIMAL so that the MRR bridge identity
``end = start + new + expansion - contraction - churn`` holds exactly, not to a tolerance.
"""

from __future__ import annotations

from include.contracts import TableContract, register

_MONEY = "DECIMAL(18,2)"

# --------------------------------------------------------------------------- growth (seed 003)
DAILY_GROWTH = register(
    TableContract(
        name="daily_growth",
        layer="gold",
        ddl=(
            "dim_hostname STRING, website_hits BIGINT, signups BIGINT, purchases BIGINT, "
            "signup_conversion_rate DOUBLE, purchase_conversion_rate DOUBLE, ds STRING"
        ),
        primary_key=("dim_hostname",),
        description=(
            "seed 003 guardrails per day and hostname (plus dim_hostname = 'all'): "
            "website_hits = page_view + landing_page events, signups, purchases, "
            "signup_conversion_rate = signups / website_hits, purchase_conversion_rate = "
            "purchases / signups (null when the denominator is 0)."
        ),
        suite="gold_daily_growth",
    )
)

TRAFFIC_BREAKDOWN = register(
    TableContract(
        name="traffic_breakdown",
        layer="gold",
        ddl=(
            "dim_hostname STRING, referrer_domain STRING, utm_source STRING, "
            "website_hits BIGINT, share_of_hits DOUBLE, ds STRING"
        ),
        primary_key=("dim_hostname", "referrer_domain", "utm_source"),
        description=(
            "seed 003 traffic_breakdown: COUNT(website_hits) GROUP BY referrer (its domain) and "
            "utm_source, per hostname and for dim_hostname = 'all'; '(direct)' / '(none)' "
            "stand for a missing referrer / utm_source; share_of_hits is within the hostname."
        ),
    )
)

# --------------------------------------------------------------------------- finance (seed 004)
MRR_SNAPSHOT_USER_MONTH = register(
    TableContract(
        name="mrr_snapshot_user_month",
        suite="gold_mrr_snapshot_user_month",
        layer="gold",
        ddl=(
            f"user_id BIGINT, start_mrr {_MONEY}, end_mrr {_MONEY}, mrr_category STRING, "
            "as_of_ds STRING, month STRING"
        ),
        primary_key=("user_id",),
        partition_by=("month",),
        description=(
            "Per account and month: MRR at the month's first instant and at its end (or the end "
            "of as_of_ds while the month is open), and the seed 004 category (new, expansion, "
            "contraction, churn, flat); accounts with 0 at both snapshots are left out. "
            "gold.mrr_bridge is its sum."
        ),
    )
)

MRR_BRIDGE = register(
    TableContract(
        name="mrr_bridge",
        layer="gold",
        ddl=(
            f"start_mrr {_MONEY}, new_mrr {_MONEY}, expansion_mrr {_MONEY}, "
            f"contraction_mrr {_MONEY}, churn_mrr {_MONEY}, end_mrr {_MONEY}, "
            "start_customers BIGINT, new_customers BIGINT, expansion_customers BIGINT, "
            "contraction_customers BIGINT, churned_customers BIGINT, flat_customers BIGINT, "
            "end_customers BIGINT, as_of_ds STRING, month STRING"
        ),
        primary_key=("month",),
        partition_by=("month",),
        suite="gold_mrr_bridge",
        description=(
            "seed 004 MRR bridge by month with the strict snapshot approach: "
            "end_mrr = start_mrr + new_mrr + expansion_mrr - contraction_mrr - churn_mrr "
            "exactly; as_of_ds is the last day included (month-to-date while open)."
        ),
    )
)

MONTHLY_REVENUE = register(
    TableContract(
        name="monthly_revenue",
        suite="gold_monthly_revenue",
        layer="gold",
        ddl=(
            f"mrr {_MONEY}, arr {_MONEY}, paying_customers BIGINT, arpu {_MONEY}, "
            f"new_mrr {_MONEY}, expansion_mrr {_MONEY}, contraction_mrr {_MONEY}, "
            f"churn_mrr {_MONEY}, customer_churn_rate DOUBLE, revenue_churn_rate DOUBLE, "
            "net_revenue_retention DOUBLE, new_bookings BIGINT, "
            f"new_booking_mrr {_MONEY}, shop_orders BIGINT, shop_revenue {_MONEY}, "
            f"total_revenue {_MONEY}, as_of_ds STRING, month STRING"
        ),
        primary_key=("month",),
        partition_by=("month",),
        description=(
            "seed 004 monthly_revenue (PK month): subscription MRR at month end, ARR, ARPU, the "
            "bridge movements and churn rates, new bookings, completed shop orders, and "
            "total_revenue = mrr + shop_revenue."
        ),
    )
)

COHORT_RETENTION = register(
    TableContract(
        name="cohort_retention",
        suite="gold_cohort_retention",
        layer="gold",
        ddl=(
            "cohort STRING, month_offset INT, cohort_customers BIGINT, "
            f"retained_customers BIGINT, retention_rate DOUBLE, retained_mrr {_MONEY}, "
            "as_of_ds STRING, month STRING"
        ),
        primary_key=("cohort", "month_offset"),
        partition_by=("month",),
        description=(
            "seed 004 cohort_retention (PK cohort, month_offset): cohort = month of an account's "
            "first paid MRR; retained = paying at the end of month = cohort + month_offset. "
            "Partitioned by that calendar month, so a run rewrites the current column of the "
            "heatmap and the table holds each (cohort, month_offset) once."
        ),
    )
)

USER_MASTER = register(
    TableContract(
        name="user_master",
        suite="gold_user_master",
        layer="gold",
        ddl=(
            "user_id BIGINT, signup_at TIMESTAMP, cohort_month STRING, customer_type STRING, "
            "region STRING, country STRING, acquisition_channel STRING, device_type STRING, "
            "current_plan STRING, package STRING, list_size INT, is_fraud BOOLEAN, "
            "is_closed BOOLEAN, closed_at TIMESTAMP, first_paid_at TIMESTAMP, "
            f"paid_cohort STRING, current_mrr {_MONEY}, is_paying BOOLEAN, churned BOOLEAN, "
            "ds STRING"
        ),
        primary_key=("user_id",),
        description=(
            "seed 004 user_master (PK user_id), as of the end of ds: the latest CRM row of every "
            "account with its billing state (current MRR, first paid time, churned)."
        ),
    )
)

CHURN_FLAGS = register(
    TableContract(
        name="churn_flags",
        suite="gold_churn_flags",
        layer="gold",
        ddl=(
            "user_id BIGINT, ever_paid BOOLEAN, churned BOOLEAN, churned_at TIMESTAMP, "
            "churn_month STRING, times_churned INT, last_nps_score INT, "
            "last_nps_at TIMESTAMP, nps_category STRING, low_nps BOOLEAN, ds STRING"
        ),
        primary_key=("user_id",),
        description=(
            "seed 004 churn flags per account as of the end of ds: churned = paid once and MRR 0 "
            "now; churn_month of the latest drop to 0; times_churned counts every drop (a "
            "returning customer is not churned); last NPS answer, low_nps = score 0-6."
        ),
    )
)

MONTHLY_FUNNEL = register(
    TableContract(
        name="monthly_funnel",
        suite="gold_monthly_funnel",
        layer="gold",
        ddl=(
            "signups BIGINT, activations BIGINT, paid_conversions BIGINT, bookings BIGINT, "
            f"booking_mrr {_MONEY}, trial_cancellations BIGINT, as_of_ds STRING, month STRING"
        ),
        primary_key=("month",),
        partition_by=("month",),
        description=(
            "seed 004 monthly_funnel: billing lifecycle events in the month (month-to-date): "
            "signups = trial starts, activations, paid_conversions = paid starts, bookings."
        ),
    )
)

SUPPORT_SUMMARY = register(
    TableContract(
        name="support_summary",
        suite="gold_support_summary",
        layer="gold",
        ddl=(
            "aggregation_level STRING, category STRING, priority STRING, tickets BIGINT, "
            "resolved_tickets BIGINT, avg_resolution_hours DOUBLE, "
            "satisfaction_responses BIGINT, avg_satisfaction DOUBLE, nps_responses BIGINT, "
            "promoters BIGINT, passives BIGINT, detractors BIGINT, nps_score DOUBLE, "
            "as_of_ds STRING, month STRING"
        ),
        primary_key=("aggregation_level", "category", "priority"),
        partition_by=("month",),
        description=(
            "seed 004 support_summary per month: tickets by category and priority (levels "
            "overall, category, priority, category__priority; 'all' where rolled up), "
            "satisfaction, and on the overall row the month's NPS = %promoters - %detractors."
        ),
    )
)

FINANCE_EXPORT_TABLES: tuple[TableContract, ...] = (
    USER_MASTER,
    CHURN_FLAGS,
    MONTHLY_REVENUE,
    MRR_BRIDGE,
    COHORT_RETENTION,
    MONTHLY_FUNNEL,
    SUPPORT_SUMMARY,
)
