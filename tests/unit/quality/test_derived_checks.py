"""Derived quality checks: each rule fails on data breaking exactly it and names the rows.

The derived frames are computed by the real Spark functions of ``include.quality_checks`` on
tiny inputs and judged by the real suites in ``expectations/`` (GX pandas engine, as the
gate does).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from include import quality_checks as qc
from include.quality import QualityGateFailed, enforce, to_pandas, validate

DS = "2024-01-15"


def judge(frame, suite, check, index, settings):
    return validate(
        to_pandas(frame),
        suite,
        DS,
        settings,
        check=check,
        index_columns=index,
        table=f"test.{suite}",
    )


def failed(result):
    return {r.rule: r for r in result.rules if not r.success}


# ------------------------------------------------------------------ gold.agg_website_events
LEVELS = (
    "overall",
    "dim_action_type",
    "dim_country",
    "dim_device_brand",
    "event_hour",
    "dim_action_type__dim_country",
    "dim_action_type__dim_device_brand",
    "dim_action_type__event_hour",
    "dim_country__dim_device_brand",
)
AGG_DDL = (
    "dim_action_type STRING, dim_country STRING, dim_device_brand STRING, event_hour INT, "
    "m_total_events BIGINT, aggregation_level STRING, ds STRING"
)


def agg_rows(total=2400, ds=DS, hours=None):
    """Every level of a day whose events all share one action/country/brand."""
    rows = []
    dims = {"dim_action_type": "page_view", "dim_country": "US", "dim_device_brand": "apple"}
    for level in LEVELS:
        if "event_hour" in level:
            weights = hours or [1] * 24
            for h, w in enumerate(weights):
                n = total * w // sum(weights)
                rows.append(
                    ("page_view" if "action" in level else None, None, None, h, n, level, ds)
                )
        else:
            vals = [dims[d] if d in level.split("__") else None for d in dims]
            rows.append((*vals, None, total, level, ds))
    return rows


RULE_ROLLUP = "overall rollup >= every other row (level max / overall total <= 1)"
RULE_MIN = "minimum events per aggregation level (>= 1000, overall included)"
RULE_HOURLY = (
    "event_hour pattern close to the trailing 7 days (max |hourly share difference| <= 0.03)"
)


def test_agg_rollup_and_minimum_counts_pass_on_a_clean_day(spark, settings):
    agg = spark.createDataFrame(agg_rows(), AGG_DDL)
    rollup = qc.rollup_frame(agg)
    r1 = judge(rollup, "gold_agg_website_events", "rollup", ["aggregation_level"], settings)
    r2 = judge(
        rollup.select("aggregation_level", "level_events"),
        "gold_agg_website_events",
        "minimum_counts",
        ["aggregation_level"],
        settings,
    )
    assert r1.status == "pass" and len(r1.rules) == 3
    assert r2.status == "pass" and len(r2.rules) == 1


def test_a_slice_larger_than_the_overall_rollup_blocks(spark, settings):
    rows = agg_rows()
    rows.append(("page_view", "FR", None, None, 9999, "dim_action_type__dim_country", DS))
    rollup = qc.rollup_frame(spark.createDataFrame(rows, AGG_DDL))
    result = judge(rollup, "gold_agg_website_events", "rollup", ["aggregation_level"], settings)
    assert list(failed(result)) == [RULE_ROLLUP]
    assert failed(result)[RULE_ROLLUP].sample[0]["aggregation_level"] == (
        "dim_action_type__dim_country"
    )
    with pytest.raises(QualityGateFailed, match="overall rollup >= every other row"):
        enforce(result)


def test_too_few_events_blocks_on_minimum_counts(spark, settings):
    rollup = qc.rollup_frame(spark.createDataFrame(agg_rows(total=480), AGG_DDL))
    result = judge(
        rollup.select("aggregation_level", "level_events"),
        "gold_agg_website_events",
        "minimum_counts",
        ["aggregation_level"],
        settings,
    )
    assert list(failed(result)) == [RULE_MIN]
    assert {s["aggregation_level"] for s in failed(result)[RULE_MIN].sample} == set(LEVELS)


def test_hourly_pattern_warns_on_a_shifted_day_and_passes_without_history(spark, settings):
    history = spark.createDataFrame(agg_rows(ds="2024-01-14") + agg_rows(ds="2024-01-13"), AGG_DDL)
    night_heavy = [10 if h < 4 else 1 for h in range(24)]
    today = spark.createDataFrame(agg_rows(hours=night_heavy), AGG_DDL)
    shifted = judge(
        qc.hourly_pattern_frame(today, history),
        "gold_agg_website_events",
        "hourly_pattern",
        ["event_hour"],
        settings,
    )
    assert list(failed(shifted)) == [RULE_HOURLY] and shifted.status == "warn"
    assert {s["event_hour"] for s in failed(shifted)[RULE_HOURLY].sample} >= {0, 1, 2, 3}
    enforce(shifted)  # warn-only: does not raise

    same = spark.createDataFrame(agg_rows(), AGG_DDL)
    no_history = judge(
        qc.hourly_pattern_frame(same, None),
        "gold_agg_website_events",
        "hourly_pattern",
        ["event_hour"],
        settings,
    )
    assert no_history.status == "pass"


# ------------------------------------------------------------------ silver.fct_website_events
RULE_WOW = "week-over-week rows per dim_hostname within [0.5, 2.0] of ds-7"
RULE_WOW_HISTORY = "week-over-week history present (dim_hostname seen at ds-7)"


def hosts(spark, counts):
    rows = [(h,) for h, n in counts.items() for _ in range(n)]
    return spark.createDataFrame(rows, "dim_hostname STRING")


def test_week_over_week_counts_per_hostname(spark, settings):
    week_ago = hosts(spark, {"www.learnlake.io": 300, "www.learnlake.com": 200, "www.tiny.io": 3})
    ok = qc.week_over_week_frame(
        hosts(spark, {"www.learnlake.io": 330, "www.learnlake.com": 150, "www.tiny.io": 12}),
        week_ago,
    )
    assert (
        judge(ok, "silver_fct_website_events", "week_over_week", ["dim_hostname"], settings).status
        == "pass"
    )

    dropped = qc.week_over_week_frame(
        hosts(spark, {"www.learnlake.io": 330, "www.learnlake.com": 60}), week_ago
    )
    result = judge(
        dropped, "silver_fct_website_events", "week_over_week", ["dim_hostname"], settings
    )
    assert list(failed(result)) == [RULE_WOW]
    assert [s["dim_hostname"] for s in failed(result)[RULE_WOW].sample] == ["www.learnlake.com"]
    with pytest.raises(QualityGateFailed, match="www.learnlake.com"):
        enforce(result)


def test_week_over_week_without_history_only_warns(spark, settings):
    frame = qc.week_over_week_frame(hosts(spark, {"www.learnlake.io": 5}), None)
    result = judge(frame, "silver_fct_website_events", "week_over_week", ["dim_hostname"], settings)
    assert result.status == "warn" and list(failed(result)) == [RULE_WOW_HISTORY]
    enforce(result)


# ------------------------------------------------------------------ bronze row accounting
RULE_ACCOUNTING = "row accounting: raw lines = bronze rows + quarantined rows"


def test_bronze_row_accounting(spark, settings):
    ok = qc.accounting_frame(spark, "web_events", 100, 98, 2)
    assert judge(ok, "bronze_web_events", "row_accounting", ["source"], settings).status == "pass"
    lost = judge(
        qc.accounting_frame(spark, "web_events", 100, 98, 1),
        "bronze_web_events",
        "row_accounting",
        ["source"],
        settings,
    )
    assert list(failed(lost)) == [RULE_ACCOUNTING]
    assert failed(lost)[RULE_ACCOUNTING].sample == [
        {"unaccounted_lines": 1, "source": "web_events"}
    ]


RULE_WEB_MOSTLY_QUARANTINED = (
    "quarantine rate <= 50 % (a source whose lines are mostly quarantined fails)"
)
RULE_WEB_QUARANTINE_WARN = "quarantine rate <= 5 %"


def test_web_events_mostly_quarantined_blocks_and_a_few_percent_warns(spark, settings):
    """100 raw lines: 40 loaded + 60 quarantined is a rate of 60/100 = 0.6 > 0.5 (blocks, and
    warns); 90 + 10 is 0.1 (warns only); the accounting holds in both."""
    def judged(bronze, quarantined):
        frame = qc.accounting_frame(spark, "web_events", 100, bronze, quarantined)
        return judge(frame, "bronze_web_events", "row_accounting", ["source"], settings)

    mostly = judged(40, 60)
    assert mostly.status == "fail"
    assert set(failed(mostly)) == {RULE_WEB_MOSTLY_QUARANTINED, RULE_WEB_QUARANTINE_WARN}
    with pytest.raises(QualityGateFailed, match="mostly quarantined"):
        enforce(mostly)
    some = judged(90, 10)
    assert some.status == "warn" and list(failed(some)) == [RULE_WEB_QUARANTINE_WARN]


# ------------------------------------------------------------------ bronze.quarantine rate
RULE_MOSTLY_QUARANTINED = (
    "quarantine rate per non-web bronze source <= 50 % (a source whose lines are mostly "
    "quarantined fails)"
)
RULE_QUARANTINE_WARN = "quarantine rate per non-web bronze source <= 5 %"


def test_a_source_mostly_quarantined_fails_its_gate(spark, settings):
    """Loaded rows and the day's quarantine, worked out by hand:

    - accounts: 90 loaded, 10 quarantined in bronze (3 more in silver do not count) ->
      10 / 100 = 0.10: above 5 % (warns), under 50 %;
    - orders: 10 loaded, 40 quarantined -> 40 / 50 = 0.80: blocks;
    - support_tickets: nothing loaded, 5 quarantined -> 1.0: blocks;
    - products: 0 loaded, nothing quarantined -> no rate (nothing to judge).
    """
    loaded = spark.createDataFrame(
        [("accounts", 90), ("orders", 10), ("products", 0)], "source STRING, loaded_rows BIGINT"
    )
    rows = ([("accounts", "bronze")] * 10 + [("accounts", "silver")] * 3
            + [("orders", "bronze")] * 40 + [("support_tickets", "bronze")] * 5)  # fmt: skip
    quarantine = spark.createDataFrame(rows, "source STRING, layer STRING")
    frame = qc.quarantine_rate_frame(loaded, quarantine)
    got = {r.source: (r.loaded_rows, r.quarantined_rows, r.quarantine_rate)
           for r in frame.collect()}  # fmt: skip
    assert got == {
        "accounts": (90, 10, 0.1),
        "orders": (10, 40, 0.8),
        "support_tickets": (0, 5, 1.0),
        "products": (0, 0, None),
    }
    result = judge(frame, "bronze_quarantine", "quarantine_rate", ["source"], settings)
    assert result.status == "fail"
    blocked = sorted(s["source"] for s in failed(result)[RULE_MOSTLY_QUARANTINED].sample)
    assert blocked == ["orders", "support_tickets"]
    warned = sorted(s["source"] for s in failed(result)[RULE_QUARANTINE_WARN].sample)
    assert warned == ["accounts", "orders", "support_tickets"]
    with pytest.raises(QualityGateFailed, match="orders"):
        enforce(result)
    clean = qc.quarantine_rate_frame(
        loaded, spark.createDataFrame([("accounts", "bronze")], "source STRING, layer STRING")
    )
    assert judge(clean, "bronze_quarantine", "quarantine_rate", ["source"], settings).status == (
        "pass"
    )  # 1 / 91


# ------------------------------------------------------------------ gold.mrr_bridge
BRIDGE_DDL = (
    "start_mrr DECIMAL(14,2), new_mrr DECIMAL(14,2), expansion_mrr DECIMAL(14,2), "
    "contraction_mrr DECIMAL(14,2), churn_mrr DECIMAL(14,2), end_mrr DECIMAL(14,2), "
    "as_of_ds STRING, month STRING"
)
RULE_IDENTITY = "MRR bridge identity: end = start + new + expansion - contraction - churn (exact)"
RULE_CONTINUITY = "start of month m = end of month m-1 (when m-1 is present and complete)"


def bridge(jan_end="150.00", feb_start="150.00", feb_end="175.50", jan_as_of="2024-01-31"):
    d = Decimal
    return [
        (
            d("100.00"),
            d("80.00"),
            d("10.00"),
            d("15.00"),
            d("25.00"),
            d(jan_end),
            jan_as_of,
            "2024-01",
        ),
        (
            d(feb_start),
            d("30.50"),
            d("5.00"),
            d("0.00"),
            d(str(Decimal(feb_start) - d("150.00") + d("10.00"))),
            d(feb_end),
            "2024-02-15",
            "2024-02",
        ),
    ]


@pytest.mark.parametrize(
    "kwargs, broken",
    [
        ({}, []),
        ({"jan_end": "150.01", "feb_start": "150.01", "feb_end": "175.50"}, [RULE_IDENTITY]),
        ({"feb_start": "160.00", "feb_end": "175.50"}, [RULE_CONTINUITY]),
        ({"feb_start": "160.00", "jan_as_of": "2024-01-20"}, []),  # Jan month-to-date only
    ],
    ids=["clean", "identity", "continuity", "open-previous-month"],
)
def test_mrr_bridge_identity_and_continuity(spark, settings, kwargs, broken):
    rows = bridge(**kwargs)
    frame = qc.mrr_bridge_frame(spark.createDataFrame(rows, BRIDGE_DDL))
    result = judge(frame, "gold_mrr_bridge", "bridge_identity", ["month"], settings)
    assert sorted(failed(result)) == broken
    for rule in broken:
        assert failed(result)[rule].sample[0]["month"] == (
            "2024-01" if rule == RULE_IDENTITY else "2024-02"
        )


# ------------------------------------------------------------------ gold.daily_growth guardrails
RULE_GUARDRAIL = (
    "guardrail rate not down day over day (a drop of >= 20 % with one-sided p < 0.01 warns)"
)


def day(host, hits, signups, purchases):
    return {"dim_hostname": host, "website_hits": hits, "signups": signups,
            "purchases": purchases}  # fmt: skip


def test_rate_drop_p_value_by_hand():
    """Equal exposures: today's count of the two days' total is Binomial(total, 1/2), so
    P(X <= 0) = 0.5 ** total and P(X <= 1 | 2) = 3/4."""
    assert qc.rate_drop_p_value(0, 1000, 10, 1000) == pytest.approx(0.5**10, rel=1e-12)
    assert qc.rate_drop_p_value(0, 10, 5, 10) == pytest.approx(1 / 32, rel=1e-12)
    assert qc.rate_drop_p_value(1, 50, 1, 50) == pytest.approx(0.75, rel=1e-12)
    # unequal exposures: today 1/3 of the exposure, 0 of 3 events: (2/3) ** 3
    assert qc.rate_drop_p_value(0, 100, 3, 200) == pytest.approx((2 / 3) ** 3, rel=1e-12)
    assert qc.rate_drop_p_value(0, 0, 3, 10) is None and qc.rate_drop_p_value(0, 5, 0, 5) is None


def test_guardrail_drop_rows_by_hand():
    """- a: signups 10 -> 0 of 1,000 hits: -100 %, p = 0.5**10 < 0.01 -> flagged; its
      purchase rate has no signup today: not judged;
    - b: signup rate flat (10 and 10 of 1,000, p = P(X <= 10 | 20, 1/2) > 0.5); purchases
      5 -> 0 of 10 signups: -100 % but p = 1/32 > 0.01 (noise at this size) -> not flagged;
    - d: signups 10 -> 9 of 1,000: -10 %, under the 20 % drop -> not flagged; purchase rate
      9/10 -> 9/9: up;
    - c: no previous day -> not judged.
    """
    today = [day("a", 1000, 0, 0), day("b", 1000, 10, 0), day("c", 500, 5, 1),
             day("d", 1000, 9, 9)]  # fmt: skip
    before = [day("a", 1000, 10, 5), day("b", 1000, 10, 5), day("d", 1000, 10, 9)]
    got = {
        (host, metric): (change, flagged)
        for host, metric, *_, change, _p, flagged in qc.guardrail_drop_rows(today, before)
    }
    assert got[("a", "signup_conversion_rate")] == (-1.0, True)
    assert got[("a", "purchase_conversion_rate")] == (None, False)
    assert got[("b", "signup_conversion_rate")] == (0.0, False)
    assert got[("b", "purchase_conversion_rate")] == (-1.0, False)
    assert got[("c", "signup_conversion_rate")] == (None, False)
    assert got[("d", "signup_conversion_rate")][0] == pytest.approx(-0.1)
    assert got[("d", "signup_conversion_rate")][1] is False
    assert got[("d", "purchase_conversion_rate")][0] == pytest.approx(1.0 / 0.9 - 1.0)
    assert len(got) == 8


def test_a_guardrail_drop_warns_and_a_steady_day_passes(spark, settings):
    before = spark.createDataFrame(
        [("all", 1000, 10, 5)], "dim_hostname STRING, website_hits BIGINT, signups BIGINT, "
        "purchases BIGINT")  # fmt: skip
    steady = before.selectExpr("dim_hostname", "website_hits", "signups", "purchases")
    dropped = spark.createDataFrame(
        [("all", 1000, 0, 0)], "dim_hostname STRING, website_hits BIGINT, signups BIGINT, "
        "purchases BIGINT")  # fmt: skip
    index = ["dim_hostname", "metric"]
    ok = judge(qc.guardrail_drop_frame(spark, steady, before), "gold_daily_growth",
               "guardrail_drop", index, settings)  # fmt: skip
    assert ok.status == "pass"
    first_day = judge(qc.guardrail_drop_frame(spark, dropped, None), "gold_daily_growth",
                      "guardrail_drop", index, settings)  # fmt: skip
    assert first_day.status == "pass"  # nothing to compare with: not judged
    result = judge(qc.guardrail_drop_frame(spark, dropped, before), "gold_daily_growth",
                   "guardrail_drop", index, settings)  # fmt: skip
    assert result.status == "warn" and list(failed(result)) == [RULE_GUARDRAIL]
    sample = failed(result)[RULE_GUARDRAIL].sample
    assert [(s["dim_hostname"], s["metric"]) for s in sample] == [
        ("all", "signup_conversion_rate")
    ]
    enforce(result)  # a warning never stops the pipeline


def test_the_suite_states_the_thresholds_the_code_applies():
    """The warning's text in expectations/ must not drift from the constants that decide."""
    from include.quality import load_suite_file

    (rule,) = [
        e["meta"]["rule"] for e in load_suite_file("gold_daily_growth")["expectations"]
        if e["meta"].get("check") == "guardrail_drop"
    ]  # fmt: skip
    assert rule == RULE_GUARDRAIL
    assert f"{qc.GUARDRAIL_MAX_DROP:.0%}".replace("%", " %") in rule
    assert f"p < {qc.GUARDRAIL_ALPHA}" in rule
