"""The raw landing zone's contract: which sources land, in which format, with which fields.

This is the agreement between the synthetic source generator (``include/generator``), which
writes these files, and the bronze jobs (``spark_jobs/bronze``), which read them. Upstream
systems really deliver JSON lines for events and CSV exports for finance and accounts, so
that is what lands here. Layout: ``{raw_root}/{source}/ds={YYYY-MM-DD}/part-NNNNN.{jsonl|csv}``.

Times are ISO-8601 UTC strings (``2024-01-05T13:04:11.123Z``). Money is in USD, as decimals
with two places. Ids of logged-in users are positive integers (``user_id``); logged-out
visitors have ``user_id`` null. Every field listed is present in every well-formed record
(null where unknown); a record missing fields or with unparsable values is *bad input*
that bronze must quarantine with a reason, never drop.
"""

from __future__ import annotations

from dataclasses import dataclass

# Hostnames of the one company's website (seed 003: "xx.com and xxx.com").
HOSTNAMES: tuple[str, ...] = ("www.learnlake.io", "www.learnlake.com")

# seed 003's enumerated dim_action_type; anything else is an unknown action type.
ACTION_TYPES: tuple[str, ...] = (
    "page_view",
    "landing_page",
    "watch_video",
    "experiment_exposure",
    "signup",
    "login",
    "onboarding_start",
    "onboarding_complete",
    "product_view",
    "add_to_cart",
    "checkout_start",
    "checkout_complete",
    "purchase",
)


@dataclass(frozen=True)
class RawSource:
    name: str
    fmt: str  # "jsonl" or "csv"
    fields: tuple[str, ...]
    doc: str


RAW_SOURCES: dict[str, RawSource] = {
    s.name: s
    for s in (
        RawSource(
            "web_events",
            "jsonl",
            (
                "event_id",  # string, unique per real event (a duplicate delivery repeats it)
                "event_time",  # ISO-8601 UTC
                "user_id",  # int or null (logged out)
                "ip",  # IPv4 string; enrichment derives country; never kept past bronze
                "user_agent",  # raw UA string; enrichment derives device brand
                "hostname",  # one of HOSTNAMES when well formed
                "url",
                "referrer",  # full referrer URL or null
                "utm_source",  # e.g. linkedin, substack, google, newsletter, or null
                "session_id",
                "action_type",  # one of ACTION_TYPES when well formed
                "properties",  # JSON object string->string: experiment, variant,
                # product_id, order_id, revenue, ...
            ),
            "Clickstream: page views, exposures, signups, logins, shop funnel events.",
        ),
        RawSource(
            "experiment_assignments",
            "jsonl",
            (
                "assignment_id",
                "experiment",
                "variant",
                "user_id",  # int or null for a pseudo-user
                "anonymous_id",  # pseudo-user id (cookie); always present
                "assigned_at",  # ISO-8601 UTC, the first exposure time
            ),
            "Assignment service log: one line per assignment decision.",
        ),
        RawSource(
            "accounts",
            "csv",
            (
                "user_id",
                "customer_type",  # prospect | existing
                "country",  # ISO-3166 alpha-2
                "region",  # NA | EMEA | APAC | LATAM
                "plan",  # free | starter | pro | business
                "package",  # price group
                "list_size",  # int, contacts in the customer's list
                "acquisition_channel",
                "device_type",  # desktop | mobile | tablet
                "signup_at",
                "is_fraud",  # true | false
                "is_closed",  # true | false
                "closed_at",
                "updated_at",
            ),
            "CRM export: accounts created or changed on ds (latest row per user_id wins).",
        ),
        RawSource(
            "billing_events",
            "csv",
            (
                "billing_event_id",
                "user_id",
                "event_type",  # trial_start | activation | paid_start | booking |
                # plan_change | cancellation
                "event_time",
                "plan",
                "mrr",  # MRR after the event
                "previous_mrr",  # MRR before the event
                "promo_code",
            ),
            "Billing system export: the subscription lifecycle with MRR.",
        ),
        RawSource(
            "products",
            "csv",
            ("product_id", "name", "category", "base_price", "updated_at"),
            "Course catalog.",
        ),
        RawSource(
            "sessions",
            "csv",
            (
                "session_id",
                "user_id",
                "anonymous_id",
                "hostname",
                "device_type",
                "started_at",
                "ended_at",
            ),
            "Sessionisation service output.",
        ),
        RawSource(
            "orders",
            "csv",
            (
                "order_id",
                "user_id",
                "session_id",
                "product_id",
                "quantity",
                "amount",
                "status",  # completed | refunded | failed
                "ordered_at",
            ),
            "Shop orders for courses and bootcamps.",
        ),
        RawSource(
            "product_usage",
            "csv",
            ("user_id", "usage_date", "logins", "emails_sent", "features_adopted"),
            "Daily product usage per account.",
        ),
        RawSource(
            "support_tickets",
            "csv",
            (
                "ticket_id",
                "user_id",
                "category",
                "priority",
                "created_at",
                "resolved_at",
                "satisfaction",  # 1..5 or null
            ),
            "Helpdesk export.",
        ),
        RawSource(
            "nps_responses",
            "csv",
            ("response_id", "user_id", "score", "responded_at"),
            "NPS survey responses (score 0..10).",
        ),
    )
}

# Where the generator writes what it planted; tests and readouts compare against it.
TRUTH_SOURCE = "_truth"
