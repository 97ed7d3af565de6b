"""Gold experiment contracts, generated from the experiment configs (``experiments/*.yaml``).

Per SaaS-funnel experiment (seeds 000 / 001): ``{experiment}_base`` (the web-finance join, one
row per id per experiment, with the candidate event times), ``{experiment}_outcomes`` (every
seed 001 rule applied), ``{experiment}_aggregated`` (sufficient statistics by variant and
segment), ``{experiment}_details`` (tenure, cohort, retention, promo, usage). Seed 002's
``user_exposure`` and ``user_outcomes`` are shared tables partitioned by ``ds`` and
``experiment``; a shop-funnel experiment (exposure on product_view) gets its own
``{experiment}_aggregated`` of seed 002 sufficient statistics. Every gold experiment table is
rebuilt as of ``ds``: partition ds holds the cumulative state of the experiment up to and
including ds.
"""

from __future__ import annotations

from include.contracts import TableContract, register, validate_identifier

TS_ARRAY = "ARRAY<TIMESTAMP>"
BOOKINGS = "ARRAY<STRUCT<booked_at: TIMESTAMP, mrr: DECIMAL(12,2)>>"
KINDS = ("base", "outcomes", "aggregated", "details")
# columns of gold.<experiment>_outcomes that count an outcome within their own number of
# days from the unit's exposure date (a metric on one names the same days as its window)
WINDOWED_COLUMNS: dict[str, int] = {"support_tickets_14d": 14}


def base_contract(experiment: str) -> TableContract:
    validate_identifier(experiment, "experiment name")
    return TableContract(
        name=f"{experiment}_base",
        layer="gold",
        ddl=(
            "experiment STRING, unit_id STRING, person_id STRING, user_id BIGINT, "
            "variant STRING, first_exposure_at TIMESTAMP, exposure_count INT, "
            "person_id_count INT, variants_seen INT, contamination_flag STRING, "
            "duplication_rank INT, region STRING, country STRING, device_type STRING, "
            "traffic_source STRING, customer_type STRING, plan STRING, package STRING, "
            "list_size INT, list_size_group STRING, signup_at TIMESTAMP, is_fraud BOOLEAN, "
            "is_closed BOOLEAN, pre_exposure_sessions INT, "
            f"activation_times {TS_ARRAY}, paid_start_times {TS_ARRAY}, bookings {BOOKINGS}, "
            f"onboarding_start_times {TS_ARRAY}, onboarding_complete_times {TS_ARRAY}, "
            f"checkout_start_times {TS_ARRAY}, checkout_complete_times {TS_ARRAY}, "
            "first_paid_at TIMESTAMP, pre_exposure_app_days INT, user_type STRING, "
            f"support_ticket_times {TS_ARRAY}, ds STRING"
        ),
        primary_key=("experiment", "unit_id"),
        description=(
            f"Base web-finance join of {experiment}: one row per exposed id (anonymous_id) as "
            "of ds, with the resolved person, first exposure, attributes, contamination and "
            "duplication, and the person's billing and funnel event times in the read window."
        ),
    )


def outcomes_contract(experiment: str) -> TableContract:
    validate_identifier(experiment, "experiment name")
    return TableContract(
        name=f"{experiment}_outcomes",
        layer="gold",
        ddl=(
            "experiment STRING, unit_id STRING, person_id STRING, user_id BIGINT, "
            "variant STRING, first_exposure_at TIMESTAMP, exposure_date DATE, region STRING, "
            "country STRING, device_type STRING, traffic_source STRING, customer_type STRING, "
            "plan STRING, package STRING, list_size INT, list_size_group STRING, "
            "pre_exposure_sessions INT, is_eligible_visitor INT, is_activated INT, "
            "activation_date DATE, is_hybrid_activation INT, "
            "converted_before_exposure INT, is_converted INT, conversion_date DATE, "
            "new_booking_flag INT, booking_date DATE, nb_mrr DECIMAL(12,2), "
            "total_revenue DECIMAL(12,2), onboarding_start_date DATE, "
            "onboarding_complete_date DATE, checkout_start_date DATE, "
            "checkout_complete_date DATE, is_fraud INT, is_closed INT, "
            "contamination_flag STRING, duplication_rank INT, user_type STRING, "
            "support_tickets_14d INT, ds STRING"
        ),
        primary_key=("experiment", "unit_id"),
        suite="gold_experiment_outcomes",
        description=(
            f"seed 001 outcomes of {experiment} as of ds: eligibility, exposure -> activation "
            "-> conversion -> booking order, hybrid look-back, first-time bookings, optional "
            "onboarding / checkout steps, fraud / closure, contamination and duplication. "
            "Clean cohort: duplication_rank = 1 and contamination_flag = 'Not Contaminated'."
        ),
    )


def metric_stats_ddl(metrics: tuple[str, ...], xy_suffix: str, shop: bool = False) -> str:
    """The per-metric columns of an aggregated table: ``{m}_n / _sum / _sum_sq /
    _{xy_suffix}`` for every metric; a ratio metric (``include.metric_library``) adds its
    denominator's ``{m}_den_sum / _den_sum_sq`` and ``{m}_num_den_sum`` (the delta method's
    sums), a capped one the cap its sums were computed with, ``{m}_cap``, a metric with a
    window (every shop metric: the outcome window) the units still inside it,
    ``{m}_open_units``."""
    from include.metric_library import library

    lib = library()
    parts = []
    for m in metrics:
        parts.append(f"{m}_n BIGINT, {m}_sum DOUBLE, {m}_sum_sq DOUBLE, {m}_{xy_suffix} DOUBLE")
        found = lib.get(m)
        if found is not None and found.kind == "ratio":
            parts.append(f"{m}_den_sum DOUBLE, {m}_den_sum_sq DOUBLE, {m}_num_den_sum DOUBLE")
        if found is not None and found.cap_kind is not None:
            parts.append(f"{m}_cap DOUBLE")
        if shop or (found is not None and found.window_days is not None):
            parts.append(f"{m}_open_units BIGINT")
    return ", ".join(parts)


def aggregated_contract(experiment: str, metrics: tuple[str, ...]) -> TableContract:
    """Counts of seed 000 plus n / sum / sum_sq / CUPED cross-products per configured metric."""
    validate_identifier(experiment, "experiment name")
    stats = metric_stats_ddl(metrics, "sum_xy")
    return TableContract(
        name=f"{experiment}_aggregated",
        suite="gold_experiment_aggregated",
        layer="gold",
        ddl=(
            "experiment STRING, variant STRING, segment STRING, segment_value STRING, "
            "exposed_rows BIGINT, contaminated_rows BIGINT, duplicate_rows BIGINT, "
            "ineligible_rows BIGINT, users BIGINT, activations BIGINT, conversions BIGINT, "
            "new_bookings BIGINT, total_new_mrr DECIMAL(18,2), "
            f"sum_x DOUBLE, sum_x_sq DOUBLE, {stats}, ds STRING"
        ),
        primary_key=("experiment", "variant", "segment", "segment_value"),
        description=(
            f"{experiment} by variant and segment ('overall' or one configured dimension), "
            "cumulative as of ds. Statistics are on the clean cohort of eligible visitors "
            "(duplication_rank = 1, 'Not Contaminated'); x = pre_exposure_sessions is the "
            "CUPED covariate. Sums merge exactly, so a readout never scans user rows."
        ),
    )


def details_contract(experiment: str) -> TableContract:
    validate_identifier(experiment, "experiment name")
    return TableContract(
        name=f"{experiment}_details",
        suite="gold_experiment_details",
        layer="gold",
        ddl=(
            "experiment STRING, unit_id STRING, person_id STRING, user_id BIGINT, "
            "variant STRING, first_exposure_at TIMESTAMP, exposure_date DATE, "
            "signup_at TIMESTAMP, signup_cohort STRING, tenure_days INT, "
            "tenure_bucket STRING, is_converted INT, converted_at TIMESTAMP, "
            "conversion_date DATE, promo_type STRING, m1_retained INT, m2_retained INT, "
            "logins BIGINT, emails_sent BIGINT, features_adopted INT, usage_days INT, "
            "usage_window_complete BOOLEAN, ds STRING"
        ),
        primary_key=("experiment", "unit_id"),
        description=(
            f"Deep-dive rows of {experiment} as of ds, one per clean-cohort eligible visitor "
            "(duplication_rank = 1, 'Not Contaminated'): tenure at exposure and its bucket, "
            "signup cohort month, promo code of the converting paid start, M1/M2 retention "
            "(MRR > 0 one / two calendar months after the conversion instant; null until "
            "that instant has passed as of ds, or when not converted), product usage in the "
            "30 days from the exposure date (logins, emails sent, highest features-adopted "
            "level)."
        ),
    )


def shop_aggregated_contract(experiment: str, metrics: tuple[str, ...]) -> TableContract:
    """Seed 002 sufficient statistics by variant and segment (from ``gold.user_outcomes``).

    No ``sum_x`` / ``{m}_sum_xy`` columns: a shop visitor has no pre-exposure covariate, so
    the readout finds none and does not apply CUPED. Engagement intensity is measured after
    exposure (the treatment can move it), so its cross-products are kept under their own
    names, for diagnostics only.
    """
    validate_identifier(experiment, "experiment name")
    stats = metric_stats_ddl(metrics, "intensity_sum_xy", shop=True)
    return TableContract(
        name=f"{experiment}_aggregated",
        suite="gold_experiment_aggregated",
        layer="gold",
        ddl=(
            "experiment STRING, variant STRING, segment STRING, segment_value STRING, "
            "exposed_rows BIGINT, contaminated_rows BIGINT, open_window_rows BIGINT, "
            "users BIGINT, carts BIGINT, checkouts BIGINT, purchases BIGINT, "
            "total_revenue DECIMAL(18,2), "
            "intensity_sum DOUBLE, intensity_sum_sq DOUBLE, "
            f"{stats}, ds STRING"
        ),
        primary_key=("experiment", "variant", "segment", "segment_value"),
        description=(
            f"{experiment} (seed 002) by variant and segment ('overall' or one configured "
            "dimension), as of ds. Statistics are on the clean cohort of users whose outcome "
            "window has closed ('Not Contaminated', window_complete): the funnel (users, "
            "carts, checkouts, purchases), n / sum / sum_sq per "
            "configured metric, and engagement_intensity sums and cross-products with each "
            "metric (diagnostic; post-exposure, so never a CUPED covariate). Trust counts "
            "(all rows, contaminated, still-open windows) are over every row. Sums merge "
            "exactly, so a readout never scans user rows."
        ),
    )


USER_EXPOSURE = register(
    TableContract(
        name="user_exposure",
        suite="gold_user_exposure",
        layer="gold",
        ddl=(
            "experiment STRING, person_id STRING, user_id BIGINT, unit_id STRING, "
            "unit_ids ARRAY<STRING>, variant STRING, first_exposure_at TIMESTAMP, "
            "exposure_ids INT, variants_seen INT, "
            "contamination_flag STRING, device_type STRING, country STRING, "
            "utm_source STRING, product_id STRING, product_category STRING, ds STRING"
        ),
        primary_key=("experiment", "person_id"),
        partition_by=("ds", "experiment"),
        description=(
            "seed 002 user_exposure: one row per user (person: a user id, or a cookie that "
            "no login links to one) per experiment whose exposure event is product_view, "
            "as of ds: first exposure time over all the person's ids, its variant and id "
            "(unit_id), every exposed id (unit_ids, sorted), how many ids and variants were "
            "seen, and the segment dimensions "
            "(device of the first session, country and UTM source of the exposure event), "
            "the product of the exposure view and its category in silver.products."
        ),
    )
)

USER_OUTCOMES = register(
    TableContract(
        name="user_outcomes",
        suite="gold_user_outcomes",
        layer="gold",
        ddl=(
            "experiment STRING, person_id STRING, variant STRING, "
            "first_exposure_at TIMESTAMP, window_end_at TIMESTAMP, window_complete BOOLEAN, "
            "added_to_cart INT, reached_checkout INT, "
            "purchased INT, orders BIGINT, revenue DECIMAL(12,2), "
            "engagement_intensity BIGINT, browsing_events BIGINT, contamination_flag STRING, "
            "device_type STRING, country STRING, utm_source STRING, product_id STRING, "
            "product_category STRING, ds STRING"
        ),
        primary_key=("experiment", "person_id"),
        partition_by=("ds", "experiment"),
        description=(
            "seed 002 user_outcomes, one row per user_exposure row: window = [first "
            "exposure, first exposure + outcome_window_days) (half-open: an order at exactly "
            "7 days does not count); the funnel steps reached in the window (added_to_cart, "
            "reached_checkout, purchased = a non-failed order), revenue = completed orders' "
            "amount, engagement_intensity = every web event in the window (seed 002), "
            "browsing_events = those other than the add_to_cart / checkout / purchase steps "
            "(the logistic model's engagement: the steps are the outcome); window_complete "
            "says whether the window has closed as of ds."
        ),
    )
)


def experiment_contracts(spec) -> list[TableContract]:
    """Every gold contract of one experiment spec (``include.experiments.ExperimentSpec``)."""
    metrics = tuple(m.name for m in spec.metrics)
    if spec.funnel == "shop":
        return [shop_aggregated_contract(spec.name, metrics)]
    return [
        base_contract(spec.name),
        outcomes_contract(spec.name),
        aggregated_contract(spec.name, metrics),
        details_contract(spec.name),
    ]


def contract_for(experiment: str, kind: str) -> TableContract:
    """The contract of ``{experiment}_{kind}`` from the experiment's validated config."""
    from include.experiments import load_experiment

    if kind not in KINDS:
        raise ValueError(f"unknown experiment table kind {kind!r}; known {KINDS}")
    spec = load_experiment(experiment)
    contracts = {c.name: c for c in experiment_contracts(spec)}
    name = f"{experiment}_{kind}"
    if name not in contracts:
        raise ValueError(f"{experiment} ({spec.funnel} funnel) has no {kind} table")
    return register(contracts[name])


def _register_configured() -> None:
    """Register the contracts of every configured experiment (small YAML reads, no Spark)."""
    from include.experiments import load_all

    for spec in load_all():
        for contract in experiment_contracts(spec):
            register(contract)


_register_configured()
