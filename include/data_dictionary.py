"""The data dictionary: one comment per column of every silver and gold table (the contracts of
``include/table_catalog*.py``), for analysts reading them with ``DESCRIBE TABLE EXTENDED``.

Each comment is one plain ASCII sentence of at most 180 characters, without a newline or a
single quote (so it can go into ``COMMENT '...'`` as is): what the value is, its unit or grain
where it matters, and the seed rule it implements when there is one. Every comment was written
from the job that computes the column (``spark_jobs/silver``, ``spark_jobs/gold``,
``spark_jobs/readouts``, ``spark_jobs/quality``), not from the column name.

Fixed tables are keyed by qualified name (``silver.accounts``); the tables generated per
experiment (``include.table_catalog_experiments``) by kind (``experiment_base``,
``experiment_outcomes``, ``experiment_aggregated``, ``experiment_shop_aggregated``,
``experiment_details``). The per-metric columns of an aggregated table (``activation_sum``,
``revenue_intensity_sum_xy``, ...) come from the experiment's metric names: their comments are
the templates of :data:`METRIC_SUFFIXES`. Importing this module does not import pyspark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from include.contracts import TableContract

MAX_COMMENT_CHARS = 180
SNAPSHOT_NOTE = (
    "Each ds partition holds the state as of that day; query the _current view for the latest "
    "state."
)
# Kinds of the generated experiment tables: name suffix -> dictionary key.
EXPERIMENT_KINDS: dict[str, str] = {
    "_base": "experiment_base",
    "_outcomes": "experiment_outcomes",
    "_aggregated": "experiment_aggregated",
    "_details": "experiment_details",
}
SHOP_AGGREGATED = "experiment_shop_aggregated"
# Shared experiment-to-date tables (partition ds = the cumulative state as of that day).
SNAPSHOT_TABLES = ("gold.user_exposure", "gold.user_outcomes")

# --------------------------------------------------------------------------- shared wording
_LANDED = "Partition: the day the raw file landed (YYYY-MM-DD), not the event day"
_MONTH = "Partition: the calendar month YYYY-MM these figures describe"
_AS_OF_DS = (
    "Last day included (the run ds): month-to-date while the month is open, else its last day"
)
_AS_OF = (
    "Partition: the as-of day (YYYY-MM-DD); the row is the experiment state through the end of "
    "this day (UTC)"
)
_EXPERIMENT = "Experiment name, as in experiments/<name>.yaml"
_UNIT_ID = "Exposed id: the anonymous_id (cookie) of the assignments; one row per exposed id"
_PERSON_ID = (
    "Resolved person: the assignment user id, else the smallest user id a login session or "
    "assignment links to this cookie, as text; else the cookie"
)
_USER_ID = (
    "Account id of the resolved person (person_id when it is a user id); null when no login or "
    "assignment links the cookie"
)
_VARIANT = (
    "Variant of this id at its first exposure (earliest assigned_at, ties: smallest assignment_id)"
)
_FIRST_EXPOSURE = (
    "UTC timestamp of the first exposure of this id (earliest assignment, looked for from 28 days "
    "before the start); one before the start makes the id ineligible"
)
_EXPOSURE_DATE = "UTC date of first_exposure_at; seed 001 rules compare at day granularity"
_USER_TYPE = (
    "Seed 001: hybrid (in-app use of the account in the look-back before the exposure date: "
    "may activate up to the look-back before it) or web_only (activates on/after it)"
)
_CONTAMINATION = (
    "Seed 001: Not Contaminated when the person (all ids) saw one variant, Multiple Variants when "
    "several; clean cohort = Not Contaminated"
)
_DUPLICATION = (
    "Seed 001: rank of this id among the ids of its person, 1 = earliest first exposure (ties: "
    "smallest unit_id); clean cohort = 1"
)
_REGION = (
    "Account region (NA, EMEA, APAC, LATAM) from the latest CRM row as of ds; null without an "
    "account"
)
_COUNTRY = (
    "Country: the account country (ISO alpha-2), else the IP country of the first exposure event "
    "of this id"
)
_DEVICE = (
    "Device type: the account device_type, else the device of the first session of this cookie"
)
_TRAFFIC = (
    "utm_source of the first exposure event of this id, else the account acquisition_channel (two "
    "vocabularies: e.g. linkedin vs social_linkedin)"
)
_CUSTOMER_TYPE = (
    "At exposure: existing if a paid start precedes it, or a CRM row landed on/before that day "
    "says existing (no paid start later that day explains it); else prospect"
)
_PLAN = (
    "Account plan (free, starter, pro, business) from the latest CRM row as of ds, not at exposure"
)
_PACKAGE = "Account price group (package, by list size) from the latest CRM row as of ds"
_LIST_SIZE = (
    "Contacts in the account list, from the latest CRM row as of ds; null without an account"
)
_LIST_SIZE_GROUP = (
    "Bucket of list_size: 0-1k, 1k-5k, 5k-25k, 25k+ (lower bound inclusive), unknown when null"
)
_PRE_SESSIONS = (
    "Sessions of this cookie started before its first exposure (sessions landed from start minus "
    "the look-back); 0 if none; the CUPED covariate x"
)
_SIGNUP_AT = (
    "UTC signup timestamp of the account (latest CRM row as of ds); null without an account"
)
_CLEAN_SAAS = (
    "eligible visitors of the clean cohort (is_eligible_visitor 1, duplication_rank 1, Not "
    "Contaminated)"
)

# --------------------------------------------------------------------------- the comments
# seed 002's product columns of gold.user_exposure and gold.user_outcomes (same rule).
_EXPOSED_PRODUCT = {
    "product_id": (
        "Course (silver.products.product_id) of the exposure view of the person: the "
        "product_view that exposed unit_id; null when the event carries none"
    ),
    "product_category": (
        "Category of product_id in silver.products (latest catalog row landed up to ds); "
        "null when the product is not in the catalog"
    ),
}
# The unit columns the base and outcomes tables start with.
_UNIT = {
    "experiment": _EXPERIMENT,
    "unit_id": _UNIT_ID,
    "person_id": _PERSON_ID,
    "user_id": _USER_ID,
    "variant": _VARIANT,
    "first_exposure_at": _FIRST_EXPOSURE,
}
# The segment attributes the base and outcomes tables share (same columns, same rules).
_ATTRIBUTES = {
    "region": _REGION,
    "country": _COUNTRY,
    "device_type": _DEVICE,
    "traffic_source": _TRAFFIC,
    "customer_type": _CUSTOMER_TYPE,
    "plan": _PLAN,
    "package": _PACKAGE,
    "list_size": _LIST_SIZE,
    "list_size_group": _LIST_SIZE_GROUP,
}

COMMENTS: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------------ silver
    "silver.accounts": {
        "user_id": (
            "Account id (primary key); duplicates of ds keep the latest updated_at, ties: smallest "
            "raw hash"
        ),
        "customer_type": "CRM customer type: prospect or existing (other values are quarantined)",
        "country": "Account country, ISO-3166 alpha-2, as exported by the CRM",
        "region": "Account sales region: NA, EMEA, APAC or LATAM",
        "plan": "CRM plan of the account: free, starter, pro or business",
        "package": "Price group of the account, set by list size (e.g. pg1_up_to_1k)",
        "list_size": "Contacts in the customer list (integer, negative values are quarantined)",
        "acquisition_channel": (
            "How the account was acquired (e.g. organic_search, direct, social_linkedin)"
        ),
        "device_type": "Device type recorded on the account: desktop, mobile or tablet",
        "signup_at": "UTC timestamp of the account signup",
        "is_fraud": "True when the CRM flags the account as fraudulent",
        "is_closed": "True when the account is closed",
        "closed_at": "UTC timestamp of the account closure; null while open",
        "updated_at": "UTC timestamp of this CRM row version; the latest wins per user_id",
        "ds": _LANDED,
    },
    "silver.billing_events": {
        "billing_event_id": "Billing event id (primary key); duplicates keep the latest event_time",
        "user_id": "Account id the event belongs to",
        "event_type": (
            "Lifecycle event: trial_start, activation, paid_start, booking, plan_change or "
            "cancellation"
        ),
        "event_time": "UTC timestamp of the billing event",
        "plan": "Plan the event concerns (starter, pro, business, ...)",
        "mrr": (
            "MRR after the event in USD, DECIMAL(12,2); the MRR state of an account is the mrr of "
            "its latest event"
        ),
        "previous_mrr": "MRR before the event in USD, DECIMAL(12,2)",
        "promo_code": "Promo code applied to the event (e.g. WELCOME10); null when none",
        "ds": _LANDED,
    },
    "silver.experiment_assignments": {
        "assignment_id": (
            "Assignment decision id (primary key); duplicates keep the latest assigned_at"
        ),
        "experiment": (
            "Experiment name (a plain identifier; others are quarantined as bad_experiment)"
        ),
        "variant": "Variant the assignment service chose",
        "user_id": "Logged-in account id carried by the assignment; null for a pseudo-user",
        "anonymous_id": "Pseudo-user (cookie) id of the assignment; always present",
        "person_id": (
            "user_id as text, else the smallest user id a same-ds session links to the cookie, "
            "else anonymous_id; gold re-resolves it over the whole window"
        ),
        "assigned_at": "UTC timestamp of the assignment, which is the exposure time",
        "ds": _LANDED,
    },
    "silver.fct_website_events": {
        "user_id": (
            "Account id of the logged-in user who generated the event; null for logged-out events"
        ),
        "logged_out_user_id": (
            "Seed 003 visitor id: murmur3 hash of SHA-256(secret key, IP, user agent) as BIGINT; "
            "stable while the key is unchanged; the raw IP is not kept"
        ),
        "dim_hostname": (
            "Website host of the event, a well-formed www hostname (e.g. www.learnlake.io)"
        ),
        "dim_country": (
            "Country from the IP (first-octet lookup in conf/reference/ip_country.csv); unknown "
            "when unmapped"
        ),
        "dim_device_brand": (
            "Device brand from the user agent, first match of ipad, iphone, samsung, google, "
            "android, apple, windows, linux; else other"
        ),
        "dim_action_type": (
            "Seed 003 enumerated action (page_view, landing_page, signup, login, product_view, "
            "purchase, ...)"
        ),
        "event_timestamp": "UTC timestamp of the event; with logged_out_user_id the primary key",
        "other_properties": (
            "Raw properties plus event_id, url, referrer, utm_source, session_id; every entry "
            "naming or holding an IP address is dropped"
        ),
        "ds": _LANDED,
    },
    "silver.nps_responses": {
        "response_id": "NPS response id (primary key); duplicates keep the latest responded_at",
        "user_id": "Account id of the respondent",
        "score": "NPS answer, integer 0 to 10 (out-of-range scores are quarantined)",
        "responded_at": "UTC timestamp of the answer",
        "ds": _LANDED,
    },
    "silver.orders": {
        "order_id": "Shop order id (primary key); duplicates keep the latest ordered_at",
        "user_id": "Account id of the buyer; null when the order was placed logged out",
        "session_id": "Session of the order (links it to the cookie through silver.sessions)",
        "product_id": "Ordered product (silver.products.product_id)",
        "quantity": "Units ordered (positive integer)",
        "amount": "Order amount in USD, DECIMAL(12,2), not negative",
        "status": "Order status: completed, refunded or failed",
        "ordered_at": "UTC timestamp of the order",
        "ds": _LANDED,
    },
    "silver.product_usage": {
        "user_id": "Account id; with usage_date the primary key",
        "usage_date": "UTC day the usage was recorded for",
        "logins": (
            "Logins that day; among duplicate rows of one user and day the one with most logins is "
            "kept"
        ),
        "emails_sent": "Emails the account sent that day",
        "features_adopted": (
            "Features the account has adopted so far, a cumulative level reported daily, not new "
            "adoptions"
        ),
        "ds": _LANDED,
    },
    "silver.products": {
        "product_id": (
            "Product id (primary key, e.g. crs_000); duplicates keep the latest updated_at"
        ),
        "name": "Product name",
        "category": "Product category (bootcamp, course, workshop)",
        "base_price": "List price in USD, DECIMAL(12,2), not negative",
        "updated_at": "UTC timestamp of this catalog row version",
        "ds": _LANDED,
    },
    "silver.sessions": {
        "session_id": "Session id (primary key); duplicates keep the latest ended_at",
        "user_id": "Account the session logged into; null for a logged-out session",
        "anonymous_id": (
            "Cookie of the session; a session with a user_id links the cookie to the account"
        ),
        "hostname": "Website host of the session",
        "device_type": "Device type of the session (desktop, mobile, tablet)",
        "started_at": "UTC timestamp the session started",
        "ended_at": (
            "UTC timestamp the session ended (never before started_at; such rows are quarantined)"
        ),
        "ds": _LANDED,
    },
    "silver.support_tickets": {
        "ticket_id": "Helpdesk ticket id (primary key); duplicates keep the latest created_at",
        "user_id": "Account id that opened the ticket",
        "category": "Ticket category (e.g. billing, deliverability, integrations, account, bug)",
        "priority": "Ticket priority (low, normal, high, urgent)",
        "created_at": "UTC timestamp the ticket was opened",
        "resolved_at": "UTC timestamp the ticket was resolved; null while open",
        "satisfaction": "Customer satisfaction score 1 to 5; null when not answered",
        "ds": _LANDED,
    },
    # ------------------------------------------------------------------ gold: growth
    "gold.agg_website_events": {
        "dim_action_type": (
            "Action type of the slice; null when the grouping (aggregation_level) does not include "
            "it"
        ),
        "dim_country": (
            "IP country of the slice; null when the grouping does not include it (unmapped IPs "
            "read unknown)"
        ),
        "dim_device_brand": "Device brand of the slice; null when the grouping does not include it",
        "event_hour": (
            "Hour of day 0-23 (UTC) of event_timestamp; null when the grouping does not include it"
        ),
        "m_total_events": (
            "Seed 003: events of silver.fct_website_events partition ds in this slice (all action "
            "types)"
        ),
        "m_distinct_users": (
            "Seed 003 how many people: distinct logged_out_user_id (hash of IP address and "
            "device) among the slice events; a person on two devices counts twice"
        ),
        "aggregation_level": (
            "Seed 003 GROUPING SETS name: overall, one dimension, or dimensions joined by __ (e.g. "
            "dim_action_type__event_hour)"
        ),
        "ds": "Partition: the landing day of the events aggregated (YYYY-MM-DD)",
    },
    "gold.daily_growth": {
        "dim_hostname": (
            "Website host, or all for the row summed over hosts (rates are recomputed, never "
            "averaged)"
        ),
        "website_hits": "Seed 003 website hits: page_view plus landing_page events of the day",
        "signups": "Signup events of the day (web action signup)",
        "purchases": "Purchase events of the day (web action purchase)",
        "signup_conversion_rate": (
            "Seed 003 guardrail: signups / website_hits of the same day; null when website_hits is "
            "0"
        ),
        "purchase_conversion_rate": (
            "Seed 003 guardrail: purchases / signups of the same day (a ratio of counts, not a "
            "cohort rate); null when signups is 0"
        ),
        "ds": "Partition: the landing day of the events counted (YYYY-MM-DD)",
    },
    "gold.traffic_breakdown": {
        "dim_hostname": "Website host, or all for the row summed over hosts",
        "referrer_domain": (
            "Lower-cased host of the referrer URL (https://t.co/x gives t.co); (direct) when "
            "missing"
        ),
        "utm_source": "Lower-cased, trimmed utm_source of the hit; (none) when missing",
        "website_hits": (
            "Seed 003: page_view plus landing_page events with this referrer and utm_source"
        ),
        "share_of_hits": (
            "website_hits / all website hits of the same dim_hostname that day (0 to 1)"
        ),
        "ds": "Partition: the landing day of the events counted (YYYY-MM-DD)",
    },
    # ------------------------------------------------------------------ gold: finance
    "gold.mrr_snapshot_user_month": {
        "user_id": "Account id; accounts with 0 MRR at both snapshots are left out",
        "start_mrr": (
            "Seed 004 MRR at the first instant of the month (mrr of the latest billing event "
            "before it), USD"
        ),
        "end_mrr": (
            "Seed 004 MRR at the end of the month, or at the end of as_of_ds while it is open "
            "(latest billing event before it), USD"
        ),
        "mrr_category": (
            "Seed 004: new (start 0, end > 0), churn (start > 0, end 0), expansion (end > start > "
            "0), contraction (0 < end < start), flat (equal)"
        ),
        "as_of_ds": _AS_OF_DS,
        "month": _MONTH,
    },
    "gold.mrr_bridge": {
        "start_mrr": "Seed 004: total MRR at the first instant of the month, USD DECIMAL(18,2)",
        "new_mrr": "Seed 004: end MRR of accounts with start 0 and end > 0, USD",
        "expansion_mrr": (
            "Seed 004: end - start MRR of accounts with end > start > 0, USD (positive)"
        ),
        "contraction_mrr": (
            "Seed 004: start - end MRR of accounts with 0 < end < start, USD (positive)"
        ),
        "churn_mrr": "Seed 004: start MRR of accounts with start > 0 and end 0, USD (positive)",
        "end_mrr": (
            "Seed 004: total MRR at month end (end of as_of_ds while open); = start + new + "
            "expansion - contraction - churn"
        ),
        "start_customers": "Accounts with MRR > 0 at the first instant of the month",
        "new_customers": "Accounts in category new (start 0, end > 0)",
        "expansion_customers": "Accounts in category expansion (end > start > 0)",
        "contraction_customers": "Accounts in category contraction (0 < end < start)",
        "churned_customers": "Accounts in category churn (start > 0, end 0)",
        "flat_customers": "Accounts paying the same MRR (> 0) at both snapshots",
        "end_customers": "Accounts with MRR > 0 at the end snapshot",
        "as_of_ds": _AS_OF_DS,
        "month": _MONTH,
    },
    "gold.monthly_revenue": {
        "mrr": (
            "Seed 004: subscription MRR at month end (end of as_of_ds while open), USD "
            "DECIMAL(18,2); mrr_bridge end_mrr"
        ),
        "arr": "Annual run rate: 12 x mrr, USD",
        "paying_customers": "Accounts with MRR > 0 at month end (end_customers of the bridge)",
        "arpu": (
            "Average MRR per paying customer: mrr / paying_customers, USD; null when nobody pays"
        ),
        "new_mrr": "Seed 004 bridge: MRR of accounts going from 0 to > 0 in the month, USD",
        "expansion_mrr": (
            "Seed 004 bridge: MRR gained by accounts paying more at month end than at its start, "
            "USD"
        ),
        "contraction_mrr": (
            "Seed 004 bridge: MRR lost by accounts paying less (but > 0) at month end, USD "
            "(positive)"
        ),
        "churn_mrr": "Seed 004 bridge: start MRR of accounts paying 0 at month end, USD (positive)",
        "customer_churn_rate": (
            "churned_customers / start_customers of the month (0 to 1); null when no customer at "
            "start"
        ),
        "revenue_churn_rate": "churn_mrr / start_mrr (0 to 1); null when start_mrr is 0",
        "net_revenue_retention": (
            "(start + expansion - contraction - churn MRR) / start MRR, new MRR excluded; null "
            "when start is 0"
        ),
        "new_bookings": (
            "Count of booking billing events in the month (every booking, not only first-time ones)"
        ),
        "new_booking_mrr": "Sum of mrr of the booking billing events in the month, USD",
        "shop_orders": "Completed shop orders with ordered_at in the month",
        "shop_revenue": "Amount of completed shop orders in the month, USD",
        "total_revenue": (
            "mrr + shop_revenue, USD (subscription revenue recognised as the month end MRR)"
        ),
        "as_of_ds": _AS_OF_DS,
        "month": _MONTH,
    },
    "gold.cohort_retention": {
        "cohort": (
            "Seed 004 cohort: month YYYY-MM of the first billing event with mrr > 0 of the account"
        ),
        "month_offset": (
            "Months from cohort to the calendar month of this row (month column); 0 = the cohort "
            "month"
        ),
        "cohort_customers": "Accounts of the cohort (first paid before the end of the row month)",
        "retained_customers": (
            "Cohort accounts with MRR > 0 at the end of the row month (a returning customer counts "
            "again)"
        ),
        "retention_rate": "retained_customers / cohort_customers (0 to 1)",
        "retained_mrr": (
            "MRR of the retained cohort accounts at the end of the row month, USD DECIMAL(18,2)"
        ),
        "as_of_ds": _AS_OF_DS,
        "month": "Partition: calendar month YYYY-MM of the cell = cohort + month_offset",
    },
    "gold.user_master": {
        "user_id": "Account id (primary key); accounts without a CRM row are not listed",
        "signup_at": "UTC signup timestamp from the latest CRM row landed by ds",
        "cohort_month": (
            "Signup month YYYY-MM (seed 004 join key to monthly_funnel), not the paid cohort"
        ),
        "customer_type": "CRM customer type (prospect, existing) of the latest CRM row",
        "region": "Account region (NA, EMEA, APAC, LATAM) from the latest CRM row",
        "country": "Account country, ISO-3166 alpha-2, from the latest CRM row",
        "acquisition_channel": "Acquisition channel from the latest CRM row",
        "device_type": "Device type from the latest CRM row (desktop, mobile, tablet)",
        "current_plan": (
            "Plan of the latest billing event while paying, else the CRM plan (free or trial plan)"
        ),
        "package": "Price group (package) from the latest CRM row",
        "list_size": "Contacts in the customer list, from the latest CRM row",
        "is_fraud": "CRM fraud flag of the latest CRM row",
        "is_closed": "CRM closure flag of the latest CRM row",
        "closed_at": "UTC closure timestamp from the latest CRM row; null while open",
        "first_paid_at": (
            "UTC time of the first billing event with mrr > 0 up to the end of ds; null if never "
            "paid"
        ),
        "paid_cohort": (
            "Month YYYY-MM of first_paid_at (the cohort of gold.cohort_retention); null if never "
            "paid"
        ),
        "current_mrr": (
            "MRR at the end of ds: mrr of the latest billing event, 0 without one; USD "
            "DECIMAL(18,2)"
        ),
        "is_paying": "True when current_mrr > 0",
        "churned": "Seed 004: paid once (some mrr > 0) and current_mrr is 0 now",
        "ds": "Partition: the as-of day; the row is the account as of the end of this day (UTC)",
    },
    "gold.churn_flags": {
        "user_id": "Account id (primary key); accounts with billing history landed by ds",
        "ever_paid": "True when any billing event up to the end of ds had mrr > 0",
        "churned": "Seed 004: ever_paid and MRR is 0 now; a customer who came back is not churned",
        "churned_at": (
            "UTC time of the latest drop (event taking MRR from > 0 to 0) when churned; null "
            "otherwise"
        ),
        "churn_month": "Month YYYY-MM of churned_at; null when not churned",
        "times_churned": (
            "Drops of MRR from > 0 to 0 in event order, every one counted (returning customers "
            "included)"
        ),
        "last_nps_score": (
            "Score 0-10 of the latest NPS answer up to the end of ds; null without an answer"
        ),
        "last_nps_at": "UTC time of the latest NPS answer; null without an answer",
        "nps_category": (
            "From last_nps_score: promoter 9-10, passive 7-8, detractor 0-6; null without an answer"
        ),
        "low_nps": (
            "True when last_nps_score is 0-6 (a detractor), the planted churn driver; null without "
            "an answer"
        ),
        "ds": "Partition: the as-of day; the row is the account as of the end of this day (UTC)",
    },
    "gold.monthly_funnel": {
        "signups": (
            "Seed 004: trial_start billing events in the month (every signup starts the 14-day "
            "trial)"
        ),
        "activations": "Activation billing events in the month",
        "paid_conversions": (
            "paid_start billing events in the month (events in the month, not a cohort)"
        ),
        "bookings": "Booking billing events in the month",
        "booking_mrr": "Sum of mrr of the booking events in the month, USD DECIMAL(18,2)",
        "trial_cancellations": (
            "Cancellation events in the month with previous_mrr 0 (a trial ends, not a "
            "subscription)"
        ),
        "as_of_ds": _AS_OF_DS,
        "month": _MONTH,
    },
    "gold.support_summary": {
        "aggregation_level": (
            "CUBE grouping of the row: overall, category, priority or category__priority"
        ),
        "category": "Ticket category, or all when rolled up",
        "priority": "Ticket priority, or all when rolled up",
        "tickets": "Tickets created in the month (up to the end of as_of_ds)",
        "resolved_tickets": "Of those tickets, the ones resolved before the end of as_of_ds",
        "avg_resolution_hours": (
            "Mean hours from created_at to resolved_at over resolved_tickets; null when none"
        ),
        "satisfaction_responses": "Tickets of the row with a satisfaction score",
        "avg_satisfaction": (
            "Mean satisfaction score (1 to 5) over satisfaction_responses; null when none"
        ),
        "nps_responses": "NPS answers in the month; on the overall row only (null elsewhere)",
        "promoters": "NPS answers scoring 9-10 in the month; overall row only",
        "passives": "NPS answers scoring 7-8 in the month; overall row only",
        "detractors": "NPS answers scoring 0-6 in the month; overall row only",
        "nps_score": (
            "Month NPS = 100 x (promoters - detractors) / nps_responses, -100 to 100; overall row "
            "only"
        ),
        "as_of_ds": _AS_OF_DS,
        "month": _MONTH,
    },
    # ------------------------------------------------------------------ gold: readouts, gates
    "gold.readouts": {
        "readout": (
            "Partition: experiment_<name> (the daily deciding readout), experiment_<name>__manual_"
            "<hash> (a run by hand, kept beside it) or web_experiments (daily monitor)"
        ),
        "readout_id": "Result id: <readout>:<ds>, or web_experiments:<experiment>:<ds>",
        "experiment": "Experiment name",
        "metric": (
            "Config metric; diagnostics: sample_ratio, cuped:<metric>, mrr_impact, logit:<term>; "
            "web monitor: signup_rate, purchase_rate, events_after_exposure"
        ),
        "metric_type": (
            "Test family: conversion (0/1 rates, z-test), revenue (means, Welch; also a count "
            "metric) or ratio (sum over sum per arm, e.g. revenue per order; delta method)"
        ),
        "role": (
            "Metric role from the config (primary, guardrail, secondary); diagnostic for the "
            "sample ratio, CUPED, MRR impact and logit rows"
        ),
        "higher_is_better": (
            "Direction of a good move, from the metric library (metrics/metrics.yaml)"
        ),
        "cap": (
            "How a capped mean metric is capped (absolute X, or percentile p of the clean units "
            "of both arms pooled); null for an uncapped metric"
        ),
        "window_days": (
            "The conversion window of the metric in days from exposure (its own, or the shop "
            "outcome window); null when it has none"
        ),
        "open_window_units": (
            "Clean units of the control and this variant whose window is still open as of ds, "
            "left out of this metric until it closes; null without a window"
        ),
        "cap_value": (
            "The cap every unit value was winsorized at for this ds (both arms, every segment); "
            "null for an uncapped metric or when no unit was there to compute it on"
        ),
        "segment": (
            "overall, or dimension=value for a segment cell (exploratory, corrected among segment "
            "cells)"
        ),
        "control_variant": (
            "Configured control variant; null for a web-monitor experiment without a config file"
        ),
        "variant": "Variant compared with control_variant (one row per non-control variant)",
        "control_n": "Units in the control arm (clean cohort) for this metric and segment",
        "control_mean": "Control mean of the metric per unit (a rate for conversion metrics)",
        "variant_n": "Units in the variant arm (clean cohort) for this metric and segment",
        "variant_mean": "Variant mean of the metric per unit (a rate for conversion metrics)",
        "abs_lift": "variant_mean - control_mean, in metric units",
        "abs_ci_low": (
            "Lower bound of the (1 - alpha) confidence interval of abs_lift (unpooled Wald or "
            "Welch), uncorrected"
        ),
        "abs_ci_high": (
            "Upper bound of the (1 - alpha) confidence interval of abs_lift (unpooled Wald or "
            "Welch), uncorrected"
        ),
        "rel_lift": (
            "variant_mean / control_mean - 1 as a fraction (0.05 = +5%); null when control_mean is "
            "0"
        ),
        "rel_ci_low": "Lower bound of the Fieller interval of rel_lift; null when unbounded",
        "rel_ci_high": "Upper bound of the Fieller interval of rel_lift; null when unbounded",
        "test": "Frequentist test: two_proportion_z (conversion) or welch_t (means)",
        "statistic": "Test statistic of variant minus control: z (pooled SE) or Welch t",
        "df": "Welch-Satterthwaite degrees of freedom; null for the z-test",
        "std_error": (
            "Unpooled standard error of abs_lift (the one of its interval; the z-test uses the "
            "pooled one)"
        ),
        "p_value": "Two-sided p-value of the single fixed-horizon test, not adjusted",
        "p_value_holm": (
            "Holm-adjusted p-value within the row family (decision, guardrail, secondary or "
            "segment cells)"
        ),
        "p_value_bh": "Benjamini-Hochberg adjusted p-value within the row family",
        "p_value_adjusted": (
            "p-value adjusted with the configured correction (column correction) within the row "
            "family"
        ),
        "correction": "Multiple-testing correction used for significant: holm, bh or none",
        "alpha": "Significance level of the run (default 0.05)",
        "significant": (
            "p_value_adjusted < alpha; for primary and guardrail rows of the overall segment of an "
            "experiment readout, the group sequential test over all daily looks"
        ),
        "bayes_method": "Bayesian model: beta_binomial (conversion) or normal_means (means)",
        "prob_beat_control": (
            "Posterior probability that the variant beats the control in the good direction "
            "(its mean is higher; lower when higher_is_better is false)"
        ),
        "expected_loss": (
            "Expected loss of shipping the variant in the good direction, E[max(control - "
            "variant, 0)] (flipped when lower is better), in metric units"
        ),
        "expected_loss_control": (
            "Expected loss of keeping control in the good direction, E[max(variant - control, "
            "0)] (flipped when lower is better), in metric units"
        ),
        "credible_low": "Lower bound of the 95% credible interval of the absolute lift",
        "credible_high": "Upper bound of the 95% credible interval of the absolute lift",
        "rel_credible_low": (
            "Lower bound of the 95% credible interval of the relative lift (seeded Monte Carlo)"
        ),
        "rel_credible_high": (
            "Upper bound of the 95% credible interval of the relative lift (seeded Monte Carlo)"
        ),
        "control_posterior_mean": "Posterior mean of the control arm",
        "variant_posterior_mean": "Posterior mean of the variant arm",
        "power": (
            "Power to detect a lift of 5% of control_mean at the family-corrected level (alpha / m "
            "for m corrected tests in the family)"
        ),
        "power_effect_abs": "Absolute lift the power column is computed for: 5% of control_mean",
        "mde_abs": "Minimum detectable absolute lift at 80% power and the family-corrected level",
        "mde_rel": "mde_abs / control_mean (fraction)",
        "status": (
            "ok, zero_variance, insufficient_data, missing_control or invalid_input (why numbers "
            "are null)"
        ),
        "verdict": (
            "Verdict of the whole readout, same on every row: ship, do_not_ship, keep_running, "
            "invalid, blocked; monitor for web_experiments"
        ),
        "verdict_reasons": "JSON array of the human-readable reasons behind the verdict",
        "trust_status": (
            "Worst trust check (SRM, contamination, duplicates, quality gates, coverage): pass, "
            "warn or fail"
        ),
        "input_versions": (
            "Delta version read of each input table (qualified name -> version), to reproduce the "
            "row"
        ),
        "ds": "Partition: the day the readout is as of (YYYY-MM-DD)",
    },
    "gold.quality_results": {
        "suite": (
            "Partition: expectation suite, or suite__table for a shared suite (e.g. every "
            "experiment outcomes)"
        ),
        "table_name": "Qualified name of the gated table (e.g. silver.fct_website_events)",
        "rule": "Rule name from the suite (meta.rule), else the expectation type",
        "expectation": (
            "Great Expectations expectation type (e.g. expect_column_values_to_not_be_null)"
        ),
        "kwargs": "JSON of the expectation arguments (column, thresholds, ...)",
        "severity": (
            "block (a failure stops the pipeline) or warn; a rule that could not be evaluated is "
            "block"
        ),
        "success": "True when the rule passed (false when it failed or could not be evaluated)",
        "observed": (
            "What was measured: N unexpected of M, observed <value>, or the evaluation error"
        ),
        "unexpected_count": "Rows breaking the rule; null for aggregate expectations",
        "sample": "JSON array of up to 20 offending values or row keys",
        "data_docs": (
            "Path of the Great Expectations Data Docs index of the day; null when not rendered"
        ),
        "ds": "Partition: the day gated (for a month-partitioned table, a day of that month)",
    },
    # ------------------------------------------------------------------ gold: shop experiments
    "gold.user_exposure": {
        "experiment": "Partition: shop-funnel experiment name (exposure event product_view)",
        "person_id": (
            "Seed 002 user: assignment user id, else the smallest account a login or assignment "
            "links to the cookie, as text, else the cookie; primary key"
        ),
        "user_id": (
            "Account id of the person (person_id when it is a user id); null when no login or "
            "assignment links the cookie"
        ),
        "unit_id": (
            "Cookie (anonymous_id) of the first exposure of the person (ties: smallest "
            "assignment_id)"
        ),
        "unit_ids": (
            "Every exposed cookie of the person, sorted; user_outcomes attributes their events to "
            "the person"
        ),
        "variant": (
            "Variant of the first exposure of the person over all its ids (ties: smallest "
            "assignment_id)"
        ),
        "first_exposure_at": (
            "Seed 002: UTC time of the first product_view exposure over all ids of the person in "
            "[start, end]"
        ),
        "exposure_ids": (
            "Number of distinct exposed cookies (ids) of the person, not a count of exposures"
        ),
        "variants_seen": "Distinct variants the ids of the person were exposed to",
        "contamination_flag": (
            "Not Contaminated when the person saw one variant, Multiple Variants when several"
        ),
        "device_type": "Device type of the first session of unit_id (earliest started_at)",
        "country": "IP country of the first exposure event of unit_id (silver.fct_website_events)",
        "utm_source": "utm_source of the first exposure event of unit_id; null when none",
        **_EXPOSED_PRODUCT,
        "ds": _AS_OF,
    },
    "gold.user_outcomes": {
        "experiment": "Partition: shop-funnel experiment name",
        "person_id": "Seed 002 user, as in gold.user_exposure (primary key with experiment)",
        "variant": "Variant of the first exposure of the person",
        "first_exposure_at": "UTC time of the first exposure; start of the outcome window",
        "window_end_at": (
            "first_exposure_at + outcome_window_days (7 for pdp_redesign); exclusive end of the "
            "window"
        ),
        "window_complete": (
            "True when window_end_at is at or before the end of ds; open windows are left out of "
            "statistics"
        ),
        "purchased": (
            "Seed 002 0/1 flag: at least one non-failed order (completed or refunded) in the window"
        ),
        "orders": "Orders in the window whose status is not failed (refunded ones included)",
        "revenue": "Amount of completed orders in the window, USD DECIMAL(12,2); 0 when none",
        "added_to_cart": (
            "Seed 002 funnel 0/1 flag: at least one add_to_cart web event of the person in the "
            "window"
        ),
        "reached_checkout": (
            "Seed 002 funnel 0/1 flag: at least one checkout_start web event of the person in "
            "the window"
        ),
        "engagement_intensity": (
            "Seed 002: every web event of the person in the window (event count within the "
            "outcome window); the exposure view counts"
        ),
        "browsing_events": (
            "Web events of the person in the window except add_to_cart, checkout_start, "
            "checkout_complete, purchase (the outcome steps): the logistic model input"
        ),
        "contamination_flag": (
            "Not Contaminated when the person saw one variant, Multiple Variants when several"
        ),
        "device_type": "Device type of the first session of the first exposed cookie",
        "country": "IP country of the first exposure event of the first exposed cookie",
        "utm_source": (
            "utm_source of the first exposure event of the first exposed cookie; null when none"
        ),
        **_EXPOSED_PRODUCT,
        "ds": _AS_OF,
    },
    "silver.person_conversions": {
        "user_id": "Account id with a paid_start billing event that landed on ds",
        "first_paid_at": (
            "UTC time of the earliest paid_start of the account landed that day; the minimum over "
            "days up to a run is its first conversion ever (seed 001 prior activity)"
        ),
        "paid_starts": "Number of paid_start events of the account that landed that day",
        "ds": _LANDED,
    },
    # ------------------------------------------------------------------ gold: SaaS experiments
    "experiment_base": {
        **_UNIT,
        "exposure_count": (
            "Assignment rows of this id dated from 28 days before the start to min(ds, end date)"
        ),
        "person_id_count": "Number of ids (rows) of the same person in this table",
        "variants_seen": "Distinct variants over every exposure of the person (all its ids)",
        "contamination_flag": _CONTAMINATION,
        "duplication_rank": _DUPLICATION,
        **_ATTRIBUTES,
        "signup_at": _SIGNUP_AT,
        "is_fraud": "CRM fraud flag of the latest account row as of ds; false without an account",
        "is_closed": (
            "CRM closure flag of the latest account row as of ds; false without an account"
        ),
        "pre_exposure_sessions": _PRE_SESSIONS,
        "activation_times": (
            "Sorted UTC times of activation billing events of user_id landed from start minus the "
            "look-back to ds; empty when none"
        ),
        "paid_start_times": (
            "Sorted UTC times of paid_start billing events of user_id landed from start minus the "
            "look-back to ds; empty when none"
        ),
        "bookings": (
            "Booking billing events of user_id landed from start minus the look-back to ds, as "
            "(booked_at UTC, mrr USD) structs sorted by time"
        ),
        "onboarding_start_times": (
            "Sorted UTC times of logged-in onboarding_start web events of user_id landed from "
            "start minus the look-back to ds"
        ),
        "onboarding_complete_times": (
            "Sorted UTC times of logged-in onboarding_complete web events of user_id landed from "
            "start minus the look-back to ds"
        ),
        "checkout_start_times": (
            "Sorted UTC times of logged-in checkout_start web events of user_id landed from start "
            "minus the look-back to ds"
        ),
        "checkout_complete_times": (
            "Sorted UTC times of logged-in checkout_complete web events of user_id landed from "
            "start minus the look-back to ds"
        ),
        "first_paid_at": (
            "First paid start ever of user_id landed by ds (silver.person_conversions); before "
            "the start it disqualifies the visitor (seed 001 prior activity)"
        ),
        "pre_exposure_app_days": (
            "Days with in-app use of the account (silver.product_usage, logins > 0) from the "
            "exposure date minus the look-back to the day before the exposure date; 0 without "
            "an account"
        ),
        "user_type": _USER_TYPE,
        "support_ticket_times": (
            "Sorted UTC creation times of the support tickets of user_id (silver.support_tickets) "
            "landed from start minus the look-back to ds; empty without an account"
        ),
        "ds": _AS_OF,
    },
    "experiment_outcomes": {
        **_UNIT,
        "exposure_date": _EXPOSURE_DATE,
        **_ATTRIBUTES,
        "pre_exposure_sessions": _PRE_SESSIONS,
        "is_eligible_visitor": (
            "Seed 001 0/1 flag: exposure date in [start, end] and not a customer who paid before "
            "the start (existing with no paid start from start to exposure)"
        ),
        "is_activated": (
            "Seed 001 0/1 flag: eligible, not converted before exposure, and an activation from "
            "exposure date minus the look-back (hybrid users; 0 = web-only) through the end date"
        ),
        "activation_date": (
            "UTC date of the earliest activation from exposure date minus the look-back "
            "(inclusive) through the end date; null unless activated"
        ),
        "is_hybrid_activation": (
            "Seed 001 0/1 flag: activated with the activation date before the exposure date (a "
            "hybrid activation inside the look-back)"
        ),
        "converted_before_exposure": (
            "0/1 flag: customer_type at exposure is existing (paid before exposure, or CRM says "
            "existing); such a visitor is never an activation"
        ),
        "is_converted": (
            "Seed 001 0/1 flag: activated and a paid start dated on/after activation date, "
            "on/after exposure date and on/before the end date"
        ),
        "conversion_date": (
            "UTC date of the earliest paid start on/after activation and exposure dates, on/before "
            "the end date; null unless converted"
        ),
        "new_booking_flag": (
            "Seed 001 0/1 flag: converted, and the first booking dated on/after the conversion "
            "date has no earlier booking of user_id before it; not bounded by end date"
        ),
        "booking_date": "UTC date of that first-time booking; null unless new_booking_flag is 1",
        "nb_mrr": (
            "Seed 001 new-booking MRR: mrr of the first-time booking, USD DECIMAL(12,2); 0 without "
            "a new booking"
        ),
        "total_revenue": (
            "Sum of mrr of every booking dated on/after the conversion date (up to ds), USD "
            "DECIMAL(12,2); 0 unless converted; booked MRR, not cash"
        ),
        "onboarding_start_date": (
            "Seed 001 optional step: earliest onboarding_start in [exposure date, end date] at or "
            "before the completion; null unless activated or when there is none"
        ),
        "onboarding_complete_date": (
            "Seed 001 optional step: earliest onboarding_complete in [exposure date, end date]; "
            "null unless activated"
        ),
        "checkout_start_date": (
            "Seed 001 optional step: earliest checkout_start in [exposure date, end date] at or "
            "before the completion; null unless activated or when there is none"
        ),
        "checkout_complete_date": (
            "Seed 001 optional step: earliest checkout_complete in [exposure date, end date]; null "
            "unless activated"
        ),
        "is_fraud": "0/1 CRM fraud flag of the latest account row as of ds (0 without an account)",
        "is_closed": (
            "0/1 CRM closure flag of the latest account row as of ds (0 without an account)"
        ),
        "contamination_flag": _CONTAMINATION,
        "duplication_rank": _DUPLICATION,
        "user_type": _USER_TYPE,
        "support_tickets_14d": (
            "Tickets of the account of an eligible visitor dated in [exposure date, + 14 days), "
            "landed by ds; 0 without an account. Complete once exposure date + 13 <= ds"
        ),
        "ds": _AS_OF,
    },
    "experiment_aggregated": {
        "experiment": _EXPERIMENT,
        "variant": "Variant of the units counted (each id in the variant of its first exposure)",
        "segment": "overall, or the name of one configured segment dimension (e.g. region)",
        "segment_value": "all for overall, else the dimension value (unknown when null)",
        "exposed_rows": "Trust count: every outcome row (exposed id) of the cell, clean or not",
        "contaminated_rows": "Trust count: rows whose contamination_flag is not Not Contaminated",
        "duplicate_rows": "Trust count: rows with duplication_rank > 1",
        "ineligible_rows": "Trust count: rows with is_eligible_visitor = 0",
        "users": "Seed 000 users: " + _CLEAN_SAAS,
        "activations": "Seed 000: sum of is_activated over users (the clean cohort)",
        "conversions": "Seed 000: sum of is_converted over users (the clean cohort)",
        "new_bookings": "Seed 000: sum of new_booking_flag over users (the clean cohort)",
        "total_new_mrr": "Seed 000: sum of nb_mrr over users (the clean cohort), USD DECIMAL(18,2)",
        "sum_x": "Sum over users of the CUPED covariate x = pre_exposure_sessions",
        "sum_x_sq": "Sum over users of pre_exposure_sessions squared",
        "ds": _AS_OF,
    },
    SHOP_AGGREGATED: {
        "experiment": "Shop-funnel experiment name, as in experiments/<name>.yaml",
        "variant": "Variant of the persons counted (the variant of their first exposure)",
        "segment": (
            "overall, or the name of one configured segment dimension (device_type, country, "
            "utm_source, product_category)"
        ),
        "segment_value": "all for overall, else the dimension value (unknown when null)",
        "exposed_rows": "Trust count: every gold.user_outcomes row (person) of the cell",
        "contaminated_rows": "Trust count: rows whose contamination_flag is not Not Contaminated",
        "open_window_rows": "Trust count: rows whose outcome window is still open as of ds",
        "users": (
            "Seed 002 clean cohort: persons who saw one variant and whose outcome window has closed"
        ),
        "carts": "Seed 002 funnel: sum of added_to_cart over users (the clean cohort)",
        "checkouts": "Seed 002 funnel: sum of reached_checkout over users (the clean cohort)",
        "purchases": "Sum of purchased over users (the clean cohort)",
        "total_revenue": (
            "Sum of revenue (completed orders in the window) over users, USD DECIMAL(18,2)"
        ),
        "intensity_sum": (
            "Sum of engagement_intensity over users (post-exposure, so never a CUPED covariate)"
        ),
        "intensity_sum_sq": "Sum of engagement_intensity squared over users",
        "ds": _AS_OF,
    },
    "experiment_details": {
        "experiment": _EXPERIMENT,
        "unit_id": "Exposed id (cookie); one row per unit among the " + _CLEAN_SAAS,
        "person_id": _PERSON_ID,
        "user_id": _USER_ID,
        "variant": _VARIANT,
        "first_exposure_at": "UTC timestamp of the first exposure of this id",
        "exposure_date": "UTC date of first_exposure_at",
        "signup_at": _SIGNUP_AT,
        "signup_cohort": "Signup month YYYY-MM of the account; null without an account",
        "tenure_days": (
            "Exposure date minus signup date in days; negative when signed up after exposure; null "
            "without account"
        ),
        "tenure_bucket": (
            "no_account, signed_up_after_exposure, 0-13d (the 14-day trial), 14-29d, 30-89d, "
            "90-179d, 180-364d or 365d+"
        ),
        "is_converted": "Seed 001 conversion flag (0/1), from the outcomes table",
        "converted_at": (
            "UTC time of the paid start behind conversion_date (earliest paid start that day); "
            "null unless converted"
        ),
        "conversion_date": (
            "Seed 001 conversion date, from the outcomes table; null unless converted"
        ),
        "promo_type": (
            "promo_code of the converting paid_start event, none when it had none; null when not "
            "converted"
        ),
        "m1_retained": (
            "1 when MRR (latest billing event at or before converted_at + 1 calendar month) is > "
            "0, else 0; null if not converted or that instant is after the end of ds"
        ),
        "m2_retained": (
            "1 when MRR (latest billing event at or before converted_at + 2 calendar months) is > "
            "0, else 0; null if not converted or that instant is after the end of ds"
        ),
        "logins": (
            "Sum of logins over usage dates in [exposure date, +30 days) up to ds; 0 without "
            "usage, null without user_id"
        ),
        "emails_sent": (
            "Sum of emails_sent over usage dates in [exposure date, +30 days) up to ds; null "
            "without user_id"
        ),
        "features_adopted": (
            "Highest features_adopted level reported in [exposure date, +30 days) up to ds; null "
            "without user_id"
        ),
        "usage_days": (
            "Distinct usage dates with a product_usage row in [exposure date, +30 days) up to ds; "
            "null without user_id"
        ),
        "usage_window_complete": (
            "True when all 30 usage days (exposure date to exposure date + 29) are on/before ds"
        ),
        "ds": _AS_OF,
    },
}

# Per-metric columns of an aggregated table: suffix -> template ({metric}: the metric name,
# {column}: the per-unit outcome column it sums). Longest matching suffix wins.
METRIC_SUFFIXES: dict[str, str] = {
    "_n": (
        "Metric {metric}: number of clean-cohort units it is measured on (the n of its mean; "
        "equals users)"
    ),
    "_sum": (
        "Metric {metric}: sum of the per-unit value {column} over the clean cohort (mean = "
        "{metric}_sum / {metric}_n)"
    ),
    "_sum_sq": (
        "Metric {metric}: sum of squared per-unit {column} over the clean cohort, for its variance"
    ),
    "_sum_xy": (
        "Metric {metric}: sum of pre_exposure_sessions x {column} over the clean cohort, the CUPED "
        "cross-product"
    ),
    "_den_sum": (
        "Ratio metric {metric}: sum of its per-unit denominator {denominator} over the clean "
        "cohort (ratio = {metric}_sum / {metric}_den_sum)"
    ),
    "_den_sum_sq": (
        "Ratio metric {metric}: sum of squared per-unit {denominator}, for the delta method"
    ),
    "_num_den_sum": (
        "Ratio metric {metric}: sum of {column} x {denominator} per unit, the cross-product "
        "the delta method needs"
    ),
    "_cap": (
        "Metric {metric}: the cap ({cap}) its per-unit {column} was winsorized at before the "
        "sums of this ds, the same for every row"
    ),
    "_open_units": (
        "Metric {metric}: clean-cohort units left out of its sums because their window for it "
        "(the outcome window, or one of the metric itself) is still open as of ds"
    ),
    "_intensity_sum_xy": (
        "Metric {metric}: sum of engagement_intensity x {column} over the clean cohort (diagnostic "
        "only, never a CUPED covariate)"
    ),
}


def metric_terms(metric: str) -> dict[str, str]:
    """What a per-metric comment names: the per-unit column a library metric reads (a
    ratio's numerator; the metric's own name when it is not in the library), a ratio's
    denominator, the cap."""
    from include.metric_library import library

    found = library().get(metric)
    if found is None:
        return {"column": metric, "denominator": "-", "cap": "none"}
    return {"column": found.column, "denominator": found.denominator or "-",
            "cap": found.cap_label or "none"}  # fmt: skip


# --------------------------------------------------------------------------- lookups
def table_key(contract: TableContract) -> str:
    """The dictionary key of a contract: its qualified name for a fixed table, else the kind
    of a generated experiment table (from its name suffix; an aggregated table is the shop
    variant when it has ``open_window_rows``). KeyError when it is neither."""
    name = contract.qualified_name
    if name in COMMENTS:
        return name
    if contract.layer == "gold":
        for suffix, kind in EXPERIMENT_KINDS.items():
            if contract.name.endswith(suffix) and len(contract.name) > len(suffix):
                if kind == "experiment_aggregated" and "open_window_rows" in contract.columns:
                    return SHOP_AGGREGATED
                return kind
    raise KeyError(f"no data dictionary entry for table {name}")


def is_snapshot(contract: TableContract) -> bool:
    """True for an experiment-to-date table (partition ds = the state as of that day)."""
    try:
        key = table_key(contract)
    except KeyError:
        return False
    return key in SNAPSHOT_TABLES or not key.startswith(("silver.", "gold."))


def metrics_of(contract: TableContract) -> tuple[str, ...]:
    """The metric names an aggregated contract carries columns for (``{m}_n``, ``{m}_sum``,
    ``{m}_sum_sq`` all present)."""
    cols = set(contract.columns)
    return tuple(
        c[: -len("_n")]
        for c in contract.columns
        if c.endswith("_n") and {c[:-2] + "_sum", c[:-2] + "_sum_sq"} <= cols
    )


def metric_comment(column: str, metrics: tuple[str, ...]) -> str | None:
    """The comment of a per-metric column: the longest suffix of :data:`METRIC_SUFFIXES`
    whose prefix is one of ``metrics``; None when none matches."""
    for suffix in sorted(METRIC_SUFFIXES, key=len, reverse=True):
        metric = column[: -len(suffix)]
        if column.endswith(suffix) and metric in metrics:
            return METRIC_SUFFIXES[suffix].format(metric=metric, **metric_terms(metric))
    return None


def column_comment(contract: TableContract, column: str, metrics: tuple[str, ...] = ()) -> str:
    """The comment of ``column`` of a silver or gold contract (fixed or generated).

    ``metrics``: the experiment's metric names, for the per-metric columns of an aggregated
    table (default: read off the contract's own columns). KeyError naming the table and the
    column when the dictionary has no comment for it.
    """
    try:
        key = table_key(contract)
    except KeyError:
        key = None
    if key is not None:
        comment = COMMENTS[key].get(column)
        if comment is None and key in ("experiment_aggregated", SHOP_AGGREGATED):
            comment = metric_comment(column, tuple(metrics) or metrics_of(contract))
        if comment is not None:
            return comment
    raise KeyError(f"no data dictionary comment for column {column!r} of {contract.qualified_name}")


def find_comment(contract: TableContract, column: str, metrics: tuple[str, ...] = ()) -> str | None:
    """:func:`column_comment`, or None where the dictionary has none (e.g. a bronze table, or
    an ad-hoc contract a test declares), for callers that must not fail on such a table."""
    try:
        return column_comment(contract, column, metrics)
    except KeyError:
        return None


def column_comments(contract: TableContract, metrics: tuple[str, ...] = ()) -> dict[str, str]:
    """``{column: comment}`` of every column of a contract, in schema order."""
    return {c: column_comment(contract, c, metrics) for c in contract.columns}


def table_comment(contract: TableContract) -> str:
    """The contract's description, plus :data:`SNAPSHOT_NOTE` for an experiment-to-date
    table (the generated experiment tables, gold.user_exposure, gold.user_outcomes)."""
    description = contract.description.strip()
    if is_snapshot(contract):
        return f"{description} {SNAPSHOT_NOTE}"
    return description
