"""seed 001's rules, one hand-worked case per rule and edge (outcomes.transform, no Delta)."""

from __future__ import annotations

from decimal import Decimal

from chispa import assert_df_equality

from include.table_catalog_experiments import base_contract
from spark_jobs.gold.experiments import outcomes
from tests.unit.experiments.helpers import base_row, d, spec, ts

COLS = (
    "unit_id", "is_eligible_visitor", "is_activated", "activation_date", "is_hybrid_activation",
    "converted_before_exposure", "is_converted", "conversion_date", "new_booking_flag",
    "booking_date", "nb_mrr", "total_revenue",
)

CASES = [
    # same-day: activation hours *before* the exposure time, same date -> counts
    (
        base_row(
            "same_day", activation_times=["2024-02-01 08:00:00"],
            paid_start_times=["2024-02-15 09:00:00"], bookings=[("2024-02-15 09:00:01", "50.00")],
        ),
        ("same_day", 1, 1, d("2024-02-01"), 0, 0, 1, d("2024-02-15"), 1, d("2024-02-15"),
         "50.00", "50.00"),
    ),
    # hybrid: activated exactly 90 days before the exposure date -> valid
    (
        base_row("hybrid_90", user_type="hybrid", pre_exposure_app_days=3,
                 activation_times=["2023-11-03 12:00:00"]),
        ("hybrid_90", 1, 1, d("2023-11-03"), 1, 0, 0, None, 0, None, "0.00", "0.00"),
    ),
    # 91 days before -> outside the look-back: not an activation
    (
        base_row("hybrid_91", user_type="hybrid", pre_exposure_app_days=3,
                 activation_times=["2023-11-02 23:59:00"]),
        ("hybrid_91", 1, 0, None, 0, 0, 0, None, 0, None, "0.00", "0.00"),
    ),
    # a booking the day before the conversion is not a new booking (and makes later ones repeat)
    (
        base_row(
            "booking_before", activation_times=["2024-02-02 00:00:00"],
            paid_start_times=["2024-02-10 00:00:00"], bookings=[("2024-02-09 00:00:00", "30.00")],
        ),
        ("booking_before", 1, 1, d("2024-02-02"), 0, 0, 1, d("2024-02-10"), 0, None,
         "0.00", "0.00"),
    ),
    # second booking is not counted as new; total revenue sums both
    (
        base_row(
            "two_bookings", activation_times=["2024-02-02 00:00:00"],
            paid_start_times=["2024-02-10 00:00:00"],
            bookings=[("2024-02-10 00:00:01", "40.00"), ("2024-03-10 00:00:00", "45.00")],
        ),
        ("two_bookings", 1, 1, d("2024-02-02"), 0, 0, 1, d("2024-02-10"), 1, d("2024-02-10"),
         "40.00", "85.00"),
    ),
    # converted during the experiment but before exposure: eligible, not an activation
    (
        base_row(
            "conv_before_exposure", customer_type="existing",
            activation_times=["2024-01-10 00:00:00"], paid_start_times=["2024-01-20 00:00:00"],
            bookings=[("2024-01-20 00:00:01", "20.00")],
        ),
        ("conv_before_exposure", 1, 0, None, 0, 1, 0, None, 0, None, "0.00", "0.00"),
    ),
    # paying customer since before the experiment: not an eligible visitor
    (
        base_row("paid_before_start", customer_type="existing",
                 paid_start_times=["2023-12-01 00:00:00"]),
        ("paid_before_start", 0, 0, None, 0, 1, 0, None, 0, None, "0.00", "0.00"),
    ),
    # converted in 2023-06 (the account's first paid start ever, from the per-person state,
    # long before the read window) and paid again in the experiment before exposure: still
    # not eligible (before, the in-experiment paid start "explained" the existing status)
    (
        base_row("paid_2023", customer_type="existing", first_paid_at="2023-06-10 09:00:00",
                 paid_start_times=["2024-01-20 00:00:00"]),
        ("paid_2023", 0, 0, None, 0, 1, 0, None, 0, None, "0.00", "0.00"),
    ),
    # first exposure after the end date: not eligible
    (
        base_row("late_exposure", first_exposure_at=d("2024-04-02"),
                 activation_times=["2024-04-02 00:00:00"]),
        ("late_exposure", 0, 0, None, 0, 0, 0, None, 0, None, "0.00", "0.00"),
    ),
    # conversion after the end date: activated, not converted
    (
        base_row("conv_after_end", activation_times=["2024-02-05 00:00:00"],
                 paid_start_times=["2024-04-05 00:00:00"]),
        ("conv_after_end", 1, 1, d("2024-02-05"), 0, 0, 0, None, 0, None, "0.00", "0.00"),
    ),
    # the end date (2024-03-31) is the experiment's last day: "before the experiment end
    # date" is read as before the experiment ends, so a paid start at 23:59:59 on it counts
    # (the seed lets a visitor be exposed on that day; one exposed then must be able to
    # convert then) and one at 00:00:00 the next day does not
    (
        base_row("conv_last_second", activation_times=["2024-02-05 00:00:00"],
                 paid_start_times=["2024-03-31 23:59:59"]),
        ("conv_last_second", 1, 1, d("2024-02-05"), 0, 0, 1, d("2024-03-31"), 0, None,
         "0.00", "0.00"),
    ),
    (
        base_row("conv_next_midnight", activation_times=["2024-02-05 00:00:00"],
                 paid_start_times=["2024-04-01 00:00:00"]),
        ("conv_next_midnight", 1, 1, d("2024-02-05"), 0, 0, 0, None, 0, None, "0.00", "0.00"),
    ),
    # exposed on the last day and converted that evening: eligible, activated, converted
    (
        base_row("exposed_last_day", first_exposure_at=ts("2024-03-31 09:00:00"),
                 activation_times=["2024-03-31 10:00:00"],
                 paid_start_times=["2024-03-31 20:00:00"]),
        ("exposed_last_day", 1, 1, d("2024-03-31"), 0, 0, 1, d("2024-03-31"), 0, None,
         "0.00", "0.00"),
    ),
    # paid before the activation (same person, later re-activation): conversion needs paid
    # on/after activation -> not converted
    (
        base_row("paid_before_activation", activation_times=["2024-02-10 00:00:00"],
                 paid_start_times=["2024-02-05 00:00:00"]),
        ("paid_before_activation", 1, 1, d("2024-02-10"), 0, 0, 0, None, 0, None,
         "0.00", "0.00"),
    ),
]


def _base(spark, rows):
    from datetime import datetime

    fixed = []
    for r in rows:
        r = dict(r)
        if not isinstance(r["first_exposure_at"], datetime):
            r["first_exposure_at"] = datetime.combine(r["first_exposure_at"], datetime.min.time())
        fixed.append(r)
    return spark.createDataFrame(fixed, base_contract("homepage_cta_test").spark_schema())


def test_funnel_rules(spark):
    result = outcomes.transform(spec(), _base(spark, [c[0] for c in CASES]), "2024-04-30")
    expected_rows = [
        tuple(Decimal(v) if i in (10, 11) else v for i, v in enumerate(c[1])) for c in CASES
    ]
    expected = spark.createDataFrame(
        expected_rows, result.select(*COLS).schema
    )
    assert_df_equality(
        result.select(*COLS), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_optional_steps_missing_start_and_out_of_order(spark):
    rows = [
        # completion without a start: valid, start left null
        base_row("no_start", activation_times=["2024-02-01 11:00:00"],
                 onboarding_complete_times=["2024-02-01 12:00:00"]),
        # checkout start after its completion: completion kept, start null; a normal onboarding
        base_row("ordered", activation_times=["2024-02-01 11:00:00"],
                 onboarding_start_times=["2024-02-01 10:05:00"],
                 onboarding_complete_times=["2024-02-02 10:00:00"],
                 checkout_start_times=["2024-02-03 00:00:00"],
                 checkout_complete_times=["2024-02-02 00:00:00"]),
        # no activation: optional steps do not count
        base_row("not_activated", onboarding_start_times=["2024-02-01 10:05:00"],
                 onboarding_complete_times=["2024-02-01 10:10:00"]),
        # completion after the end date: not valid; a start alone still is
        base_row("after_end", activation_times=["2024-02-01 11:00:00"],
                 onboarding_start_times=["2024-03-30 00:00:00"],
                 onboarding_complete_times=["2024-04-01 00:00:00"]),
        # on the last day (until 23:59:59): valid, like a conversion then
        base_row("on_end_day", activation_times=["2024-02-01 11:00:00"],
                 checkout_start_times=["2024-03-31 23:00:00"],
                 checkout_complete_times=["2024-03-31 23:59:59"]),
    ]
    cols = ("unit_id", "onboarding_start_date", "onboarding_complete_date",
            "checkout_start_date", "checkout_complete_date")
    result = outcomes.transform(spec(), _base(spark, rows), "2024-04-30").select(*cols)
    expected = spark.createDataFrame(
        [
            ("no_start", None, d("2024-02-01"), None, None),
            ("ordered", d("2024-02-01"), d("2024-02-02"), None, d("2024-02-02")),
            ("not_activated", None, None, None, None),
            ("after_end", d("2024-03-30"), None, None, None),
            ("on_end_day", None, None, d("2024-03-31"), d("2024-03-31")),
        ],
        result.schema,
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_web_only_experiment_has_no_lookback(spark):
    """Even a hybrid user gets no look-back in an experiment configured without one."""
    rows = [base_row("before", user_type="hybrid", activation_times=["2024-01-31 23:00:00"])]
    result = outcomes.transform(spec(activation_lookback_days=0), _base(spark, rows), "2024-04-30")
    assert result.select("is_activated").first()[0] == 0


def test_the_look_back_is_per_user(spark):
    """Seed 001: a web-only user activates on/after the exposure date (2024-02-01), a hybrid /
    in-app user up to 90 days before, in the same experiment (look-back 90).

    - web_day_before: web-only, activated 2024-01-31 -> not activated (before: counted);
    - web_same_day: web-only, activated 2024-02-01 08:00 (before the 10:00 exposure, same
      date) -> activated on 2024-02-01, not a hybrid activation;
    - web_later: web-only, activations 2024-01-31 and 2024-02-03 -> the first one on/after
      the exposure date counts: 2024-02-03;
    - hybrid_day_before: hybrid, activated 2024-01-31 -> activated, a hybrid activation.
    """
    rows = [
        base_row("web_day_before", activation_times=["2024-01-31 12:00:00"]),
        base_row("web_same_day", activation_times=["2024-02-01 08:00:00"]),
        base_row("web_later", activation_times=["2024-01-31 12:00:00", "2024-02-03 12:00:00"]),
        base_row("hybrid_day_before", user_type="hybrid", pre_exposure_app_days=1,
                 activation_times=["2024-01-31 12:00:00"]),
    ]  # fmt: skip
    result = outcomes.transform(spec(), _base(spark, rows), "2024-04-30")
    got = {
        r.unit_id: (r.user_type, r.is_activated, r.activation_date, r.is_hybrid_activation)
        for r in result.collect()
    }
    assert got == {
        "web_day_before": ("web_only", 0, None, 0),
        "web_same_day": ("web_only", 1, d("2024-02-01"), 0),
        "web_later": ("web_only", 1, d("2024-02-03"), 0),
        "hybrid_day_before": ("hybrid", 1, d("2024-01-31"), 1),
    }


def test_fraud_closed_flags_carried(spark):
    rows = [base_row("f", is_fraud=True), base_row("c", is_closed=True)]
    result = outcomes.transform(spec(), _base(spark, rows), "2024-04-30")
    got = {r.unit_id: (r.is_fraud, r.is_closed) for r in result.collect()}
    assert got == {"f": (1, 0), "c": (0, 1)}


def test_support_tickets_within_14_days_of_the_exposure_date(spark):
    """Exposure 2024-02-01 10:00: the window is [02-01, 02-15) by date.

        in_window  01-31 23:00 (before), 02-01 08:00 (the exposure date, before the exposure
                   time: dates compare), 02-14 23:59:59 (the last day), 02-15 00:00 (out) -> 2
        three      02-03, 02-03 (two on one day), 02-10                                  -> 3
        no_account no account, no ticket                                                 -> 0
        ineligible paying since 2023-12 (not an eligible visitor), a ticket on 02-02     -> 0
    """
    rows = [
        base_row("in_window", support_ticket_times=[
            "2024-01-31 23:00:00", "2024-02-01 08:00:00", "2024-02-14 23:59:59",
            "2024-02-15 00:00:00"]),
        base_row("three", support_ticket_times=[
            "2024-02-03 09:00:00", "2024-02-03 17:00:00", "2024-02-10 12:00:00"]),
        base_row("no_account", user_id=None),
        base_row("ineligible", customer_type="existing", paid_start_times=["2023-12-01 00:00:00"],
                 support_ticket_times=["2024-02-02 12:00:00"]),
    ]  # fmt: skip
    result = outcomes.transform(spec(), _base(spark, rows), "2024-04-30")
    got = {r.unit_id: r.support_tickets_14d for r in result.collect()}
    assert got == {"in_window": 2, "three": 3, "no_account": 0, "ineligible": 0}
