"""Silver contracts of the non-web sources: typed, deduplicated, conformed (one per source).

Each silver table holds what landed on ``ds`` (partition = landing day), deduplicated on its
primary key (latest ``updated_at`` / event time wins; losers go to quarantine with reason
``duplicate_key``), with types enforced. Money is DECIMAL(12,2) so that finance identities
(the MRR bridge) hold exactly. Identity resolution for experiments lives in
``silver.experiment_assignments.person_id``.
"""

from __future__ import annotations

from include.contracts import TableContract, register

SILVER_EXPERIMENT_ASSIGNMENTS = register(
    TableContract(
        name="experiment_assignments",
        layer="silver",
        ddl=(
            "assignment_id STRING, experiment STRING, variant STRING, user_id BIGINT, "
            "anonymous_id STRING, person_id STRING, assigned_at TIMESTAMP, ds STRING"
        ),
        primary_key=("assignment_id",),
        description=(
            "Assignment decisions, deduplicated; person_id resolves one person's several ids "
            "(user id when known through a session, else the anonymous id)."
        ),
        suite="silver_experiment_assignments",
    )
)

SILVER_ACCOUNTS = register(
    TableContract(
        name="accounts",
        layer="silver",
        ddl=(
            "user_id BIGINT, customer_type STRING, country STRING, region STRING, plan STRING, "
            "package STRING, list_size INT, acquisition_channel STRING, device_type STRING, "
            "signup_at TIMESTAMP, is_fraud BOOLEAN, is_closed BOOLEAN, closed_at TIMESTAMP, "
            "updated_at TIMESTAMP, ds STRING"
        ),
        primary_key=("user_id",),
        description="Account rows created or changed on ds; latest updated_at per user_id.",
        suite="silver_accounts",
    )
)

SILVER_BILLING_EVENTS = register(
    TableContract(
        name="billing_events",
        layer="silver",
        ddl=(
            "billing_event_id STRING, user_id BIGINT, event_type STRING, "
            "event_time TIMESTAMP, plan STRING, mrr DECIMAL(12,2), "
            "previous_mrr DECIMAL(12,2), promo_code STRING, ds STRING"
        ),
        primary_key=("billing_event_id",),
        description=(
            "Subscription lifecycle: trial_start, activation, paid_start (conversion), booking, "
            "plan_change, cancellation; mrr is the MRR after the event."
        ),
        suite="silver_billing_events",
    )
)

SILVER_PRODUCTS = register(
    TableContract(
        name="products",
        layer="silver",
        ddl=(
            "product_id STRING, name STRING, category STRING, base_price DECIMAL(12,2), "
            "updated_at TIMESTAMP, ds STRING"
        ),
        primary_key=("product_id",),
        description="Course catalog rows landed on ds.",
        suite="silver_products",
    )
)

SILVER_SESSIONS = register(
    TableContract(
        name="sessions",
        layer="silver",
        ddl=(
            "session_id STRING, user_id BIGINT, anonymous_id STRING, hostname STRING, "
            "device_type STRING, started_at TIMESTAMP, ended_at TIMESTAMP, ds STRING"
        ),
        primary_key=("session_id",),
        description="Sessions landed on ds (a session links anonymous_id and user_id).",
        suite="silver_sessions",
    )
)

SILVER_ORDERS = register(
    TableContract(
        name="orders",
        layer="silver",
        ddl=(
            "order_id STRING, user_id BIGINT, session_id STRING, product_id STRING, "
            "quantity INT, amount DECIMAL(12,2), status STRING, ordered_at TIMESTAMP, ds STRING"
        ),
        primary_key=("order_id",),
        description="Shop orders for courses and bootcamps.",
        suite="silver_orders",
    )
)

SILVER_PRODUCT_USAGE = register(
    TableContract(
        name="product_usage",
        layer="silver",
        ddl=(
            "user_id BIGINT, usage_date DATE, logins INT, emails_sent INT, "
            "features_adopted INT, ds STRING"
        ),
        primary_key=("user_id", "usage_date"),
        description="Daily product usage per account.",
        suite="silver_product_usage",
    )
)

SILVER_SUPPORT_TICKETS = register(
    TableContract(
        name="support_tickets",
        layer="silver",
        ddl=(
            "ticket_id STRING, user_id BIGINT, category STRING, priority STRING, "
            "created_at TIMESTAMP, resolved_at TIMESTAMP, satisfaction INT, ds STRING"
        ),
        primary_key=("ticket_id",),
        description="Helpdesk tickets.",
        suite="silver_support_tickets",
    )
)

SILVER_NPS_RESPONSES = register(
    TableContract(
        name="nps_responses",
        layer="silver",
        ddl="response_id STRING, user_id BIGINT, score INT, responded_at TIMESTAMP, ds STRING",
        primary_key=("response_id",),
        description="NPS survey responses, score 0..10.",
        suite="silver_nps_responses",
    )
)

SILVER_PERSON_CONVERSIONS = register(
    TableContract(
        name="person_conversions",
        layer="silver",
        ddl="user_id BIGINT, first_paid_at TIMESTAMP, paid_starts INT, ds STRING",
        primary_key=("user_id", "ds"),
        description=(
            "A small per-person state derived from silver.billing_events: per landing day, each "
            "account's earliest paid start that landed that day. The minimum over the days up to "
            "a run's ds is the account's first conversion ever, which disqualifies a later "
            "visitor (seed 001) without reading the whole billing history."
        ),
    )
)
