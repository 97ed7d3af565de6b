"""Capped means and ratio metrics through the shop aggregate, on users written out by hand.

A metric library of four metrics (``LAKEHOUSE_METRICS_FILE``): purchase, revenue capped at
its pooled 80th percentile, revenue capped at 45 USD, and revenue per order (a ratio).
Ten clean users whose windows have closed, plus one contaminated and one still-open user
whose values must reach neither the sums nor the percentile:

    control:   revenue 0, 20, 30, 50, 400   orders 0, 1, 1, 2, 3
    treatment: revenue 0,  0, 40, 60, 100   orders 0, 1, 1, 2, 1   (one pending order: 0 USD)
    contaminated control user: 1,000 USD, 5 orders; open-window treatment user: 900 USD, 3

Pooled clean revenue sorted: 0 0 0 20 30 40 50 60 100 400. The 80th percentile (linear, as
Spark's ``percentile`` and numpy's default): rank 0.8 x 9 = 7.2, so 60 + 0.2 x (100 - 60) = 68.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from include.experiments import parse_experiment
from include.table_catalog_experiments import USER_OUTCOMES
from spark_jobs.gold.experiments import aggregated

DS = "2024-01-25"
LIBRARY = """\
metrics:
  purchase: {kind: binomial, funnel: shop, column: purchased}
  spend_p80: {kind: mean, funnel: shop, column: revenue, cap: {percentile: 0.8}}
  spend_abs45: {kind: mean, funnel: shop, column: revenue, cap: {absolute: 45}}
  aov: {kind: ratio, funnel: shop, numerator: revenue, denominator: orders}
"""


@pytest.fixture
def spec(tmp_path, monkeypatch):
    lib = tmp_path / "metrics.yaml"
    lib.write_text(LIBRARY)
    monkeypatch.setenv("LAKEHOUSE_METRICS_FILE", str(lib))
    return parse_experiment({
        "name": "shop_kinds", "funnel": "shop", "control": "control",
        "variants": [{"name": "control", "weight": 0.5}, {"name": "treatment", "weight": 0.5}],
        "start_date": "2024-01-01", "end_date": "2024-02-29", "outcome_window_days": 7,
        "metrics": [{"name": "purchase", "role": "primary"},
                    {"name": "spend_p80", "role": "secondary"},
                    {"name": "spend_abs45", "role": "secondary"},
                    {"name": "aov", "role": "secondary"}],
    })  # fmt: skip


def _outcomes(spark):
    rows = []
    users = [("control", r, o) for r, o in ((0, 0), (20, 1), (30, 1), (50, 2), (400, 3))]
    users += [("treatment", r, o) for r, o in ((0, 0), (0, 1), (40, 1), (60, 2), (100, 1))]
    users += [("control", 1000, 5, "Multiple Variants"), ("treatment", 900, 3, "open")]
    for i, user in enumerate(users):
        variant, revenue, orders = user[:3]
        flag = user[3] if len(user) > 3 else "Not Contaminated"
        rows.append({
            "experiment": "shop_kinds", "person_id": f"p{i}", "variant": variant,
            "first_exposure_at": datetime(2024, 1, 10), "window_end_at": datetime(2024, 1, 17),
            "window_complete": flag != "open", "added_to_cart": int(orders > 0),
            "reached_checkout": int(orders > 0), "purchased": int(orders > 0),
            "orders": orders, "revenue": Decimal(revenue).quantize(Decimal("0.01")),
            "engagement_intensity": 3, "browsing_events": 2,
            "contamination_flag": "Not Contaminated" if flag == "open" else flag,
            "device_type": "desktop", "country": "US", "utm_source": "google",
            "product_id": "c1", "product_category": "data", "ds": DS,
        })  # fmt: skip
    return spark.createDataFrame(rows, USER_OUTCOMES.spark_schema())


def _aggregate(spec, outcomes, ds):
    """What the job does: the caps on the clean cohort, then the aggregate with them."""
    rows = aggregated.experiment_rows(spec, outcomes).where(aggregated.clean_cohort(spec))
    return aggregated.transform(spec, outcomes, ds, aggregated.metric_caps(spec, rows, ds))


def test_a_capped_metric_without_its_cap_is_refused(spark, spec):
    with pytest.raises(ValueError, match=r"no cap given for the capped metrics "
                                         r"\['spend_p80', 'spend_abs45'\]"):  # fmt: skip
        aggregated.transform(spec, _outcomes(spark), DS)


def test_caps_and_ratio_sums_by_hand(spark, spec):
    agg = _aggregate(spec, _outcomes(spark), DS).where("segment = 'overall'")
    got = {r.variant: r.asDict() for r in agg.collect()}
    control, treatment = got["control"], got["treatment"]
    # the pooled 80th percentile of the clean users, the same on every row
    assert control["spend_p80_cap"] == treatment["spend_p80_cap"] == pytest.approx(68.0)
    assert control["spend_abs45_cap"] == treatment["spend_abs45_cap"] == 45.0
    # capped at 68: control 0 20 30 50 68, treatment 0 0 40 60 68
    assert control["spend_p80_n"] == treatment["spend_p80_n"] == 5
    assert control["spend_p80_sum"] == pytest.approx(168.0)
    assert control["spend_p80_sum_sq"] == pytest.approx(400 + 900 + 2500 + 68**2)
    assert treatment["spend_p80_sum"] == pytest.approx(168.0)
    assert treatment["spend_p80_sum_sq"] == pytest.approx(1600 + 3600 + 68**2)
    # capped at 45: control 0 20 30 45 45, treatment 0 0 40 45 45
    assert (control["spend_abs45_sum"], control["spend_abs45_sum_sq"]) == (
        140.0, 400 + 900 + 2 * 45**2)  # fmt: skip
    assert (treatment["spend_abs45_sum"], treatment["spend_abs45_sum_sq"]) == (
        130.0, 1600 + 2 * 45**2)  # fmt: skip
    # the ratio: uncapped numerator, the denominator's sums and the cross-product
    assert (control["aov_sum"], control["aov_sum_sq"]) == (500.0, 400 + 900 + 2500 + 160_000)
    assert (control["aov_den_sum"], control["aov_den_sum_sq"], control["aov_num_den_sum"]) == (
        7.0, 1 + 1 + 4 + 9, 20 + 30 + 100 + 1200)  # fmt: skip
    assert (treatment["aov_sum"], treatment["aov_den_sum"]) == (200.0, 5.0)
    assert treatment["aov_den_sum_sq"] == 1 + 1 + 4 + 1
    assert treatment["aov_num_den_sum"] == 0 + 40 + 120 + 100
    # the uncapped metric columns of a binomial metric carry no cap or denominator
    assert "purchase_cap" not in control and "purchase_den_sum" not in control


def test_the_readout_reads_the_cap_and_the_ratio(spark, spec):
    from spark_jobs.readouts import experiment as job

    rows = [r.asDict() for r in _aggregate(spec, _outcomes(spark), DS).collect()]
    assert job.metric_cap_values(rows, spec) == {"spend_p80": pytest.approx(68.0),
                                                 "spend_abs45": 45.0}  # fmt: skip
    run = job.parse_params({"experiment": spec.name}, spec)
    result = job.build_result(spec, run, rows, {})
    by_metric = {r["metric"]: r for r in result["records"] if r["segment"] == "overall"}
    p80, aov = by_metric["spend_p80"], by_metric["aov"]
    assert (p80["cap"], p80["cap_value"]) == ("percentile 0.8", pytest.approx(68.0))
    assert (p80["control_mean"], p80["variant_mean"]) == (pytest.approx(33.6), pytest.approx(33.6))
    assert by_metric["spend_abs45"]["cap"] == "absolute 45"
    assert (aov["metric_type"], aov["test"], aov["cap"]) == ("ratio", "delta_method_z", None)
    # 500 USD over 7 orders against 200 USD over 5 orders
    assert (aov["control_mean"], aov["variant_mean"]) == (pytest.approx(500 / 7), 40.0)


def _saas_case(spark, tmp_path, monkeypatch, library, name, metrics, units):
    """A SaaS experiment on ``library`` (control / treatment, 2024 Q1) and its overall
    aggregate as of 2024-01-20 from outcome rows ``units`` ({column: value} over a clean,
    eligible, first-of-person default): the control's and the treatment's aggregate rows
    and the readout's overall records by metric."""
    from include.table_catalog_experiments import outcomes_contract

    lib = tmp_path / "metrics.yaml"
    lib.write_text(library)
    monkeypatch.setenv("LAKEHOUSE_METRICS_FILE", str(lib))
    spec = parse_experiment({
        "name": name, "funnel": "saas", "control": "control",
        "variants": [{"name": "control", "weight": 0.5}, {"name": "treatment", "weight": 0.5}],
        "start_date": "2024-01-01", "end_date": "2024-03-31", "metrics": metrics,
    })  # fmt: skip
    contract = outcomes_contract(name)
    rows = [
        {c: None for c in contract.columns}
        | {"experiment": name, "unit_id": f"u{i}", "contamination_flag": "Not Contaminated",
           "is_eligible_visitor": 1, "duplication_rank": 1, "pre_exposure_sessions": 0,
           "is_converted": 0, "is_activated": 0, "new_booking_flag": 0, "nb_mrr": Decimal("0"),
           "ds": "2024-01-20"}
        | unit
        for i, unit in enumerate(units)
    ]  # fmt: skip
    outcomes = spark.createDataFrame(rows, contract.spark_schema())
    agg = _aggregate(spec, outcomes, "2024-01-20").where("segment = 'overall'").collect()
    from spark_jobs.readouts import experiment as job

    records = job.build_result(spec, job.parse_params({"experiment": spec.name}, spec),
                               [r.asDict() for r in agg], {})["records"]  # fmt: skip
    got = {r.variant: r.asDict() for r in agg}
    return got["control"], got["treatment"], {r["metric"]: r for r in records}


WINDOW_LIBRARY = """\
metrics:
  conversion: {kind: binomial, funnel: saas, column: is_converted}
  conv14:
    kind: binomial
    funnel: saas
    column: is_converted
    window: {days: 14, date_column: conversion_date}
"""


def test_a_metric_window_of_its_own(spark, tmp_path, monkeypatch):
    """ds 2024-01-20, a 14-day window: [exposure date, + 14 days), closed once its last day
    (exposure + 13) is on or before ds.

        control   exposed 01-01, converted 01-10: closed (last day 01-14), inside   -> 1
        control   exposed 01-02, converted 01-16: closed (01-15), outside (01-16)   -> 0
        control   exposed 01-07, not converted:   closed (01-20 = ds)               -> 0
        control   exposed 01-08, converted 01-09: open (01-21)     -> left out, open
        treatment exposed 01-03, converted 01-16: closed (01-16), inside (< 01-17)  -> 1
        treatment exposed 01-10, not converted:   open             -> left out, open
        control   contaminated, exposed 01-01, converted 01-02: in nothing
    The unwindowed conversion counts every clean unit as of ds: control 3 of 4, treatment
    1 of 2."""
    from datetime import date

    units = [
        ("control", date(2024, 1, 1), 1, date(2024, 1, 10), "Not Contaminated"),
        ("control", date(2024, 1, 2), 1, date(2024, 1, 16), "Not Contaminated"),
        ("control", date(2024, 1, 7), 0, None, "Not Contaminated"),
        ("control", date(2024, 1, 8), 1, date(2024, 1, 9), "Not Contaminated"),
        ("treatment", date(2024, 1, 3), 1, date(2024, 1, 16), "Not Contaminated"),
        ("treatment", date(2024, 1, 10), 0, None, "Not Contaminated"),
        ("control", date(2024, 1, 1), 1, date(2024, 1, 2), "Multiple Variants"),
    ]
    control, treatment, records = _saas_case(
        spark, tmp_path, monkeypatch, WINDOW_LIBRARY, "saas_window",
        [{"name": "conversion", "role": "primary"}, {"name": "conv14", "role": "secondary"}],
        [{"variant": v, "exposure_date": e, "is_converted": conv, "conversion_date": when,
          "contamination_flag": flag} for v, e, conv, when, flag in units],
    )  # fmt: skip
    assert (control["conv14_n"], control["conv14_sum"], control["conv14_open_units"]) == (3, 1, 1)
    assert (treatment["conv14_n"], treatment["conv14_sum"], treatment["conv14_open_units"]) == (
        1, 1, 1)  # fmt: skip
    assert (control["conversion_n"], control["conversion_sum"]) == (4, 3)
    assert (treatment["conversion_n"], treatment["conversion_sum"]) == (2, 1)
    assert "conversion_open_units" not in control  # no window of its own on the SaaS funnel

    conv14 = records["conv14"]
    assert (conv14["window_days"], conv14["open_window_units"]) == (14, 2)
    assert (conv14["control_n"], conv14["variant_n"]) == (3, 1)
    conversion = records["conversion"]
    assert (conversion["window_days"], conversion["open_window_units"]) == (None, None)


TICKETS_LIBRARY = """\
metrics:
  conversion: {kind: binomial, funnel: saas, column: is_converted}
  tickets:
    kind: mean
    funnel: saas
    column: support_tickets_14d
    unit: count
    window: {days: 14}
    higher_is_better: false
"""


def test_a_column_counted_in_its_window_waits_for_the_window(spark, tmp_path, monkeypatch):
    """support_tickets_14d is counted within [exposure date, + 14 days) by the outcomes job;
    the metric (window {days: 14}, no date column) takes it as it is, from the units whose
    14 days have passed as of ds 2024-01-20 (last day exposure + 13 <= ds):

        control   exposed 01-01, 2 tickets: closed (last day 01-14)
        control   exposed 01-07, 0 tickets: closed (01-20 = ds)
        control   exposed 01-08, 1 ticket:  open (01-21)              -> left out, open
        treatment exposed 01-03, 1 ticket:  closed (01-16)
        treatment exposed 01-06, 3 tickets: closed (01-19)
        treatment exposed 01-10, 5 tickets: open                      -> left out, open
    control: n 2, sum 2, sum of squares 4; treatment: n 2, sum 4, sum of squares 1 + 9 = 10.
    The readout's row is a lower-is-better count with a 14-day window and 2 open units."""
    from datetime import date

    units = [
        ("control", date(2024, 1, 1), 2), ("control", date(2024, 1, 7), 0),
        ("control", date(2024, 1, 8), 1), ("treatment", date(2024, 1, 3), 1),
        ("treatment", date(2024, 1, 6), 3), ("treatment", date(2024, 1, 10), 5),
    ]  # fmt: skip
    control, treatment, records = _saas_case(
        spark, tmp_path, monkeypatch, TICKETS_LIBRARY, "saas_tickets",
        [{"name": "conversion", "role": "primary"}, {"name": "tickets", "role": "guardrail"}],
        [{"variant": v, "exposure_date": e, "support_tickets_14d": n} for v, e, n in units],
    )  # fmt: skip
    assert (control["tickets_n"], control["tickets_sum"], control["tickets_sum_sq"]) == (2, 2, 4)
    assert (treatment["tickets_n"], treatment["tickets_sum"], treatment["tickets_sum_sq"]) == (
        2, 4, 10)  # fmt: skip
    assert (control["tickets_open_units"], treatment["tickets_open_units"]) == (1, 1)
    assert (control["conversion_n"], treatment["conversion_n"]) == (3, 3)

    tickets = records["tickets"]
    assert (tickets["window_days"], tickets["open_window_units"]) == (14, 2)
    assert (tickets["higher_is_better"], tickets["role"]) == (False, "guardrail")
    assert (tickets["control_mean"], tickets["variant_mean"]) == (1.0, 2.0)
