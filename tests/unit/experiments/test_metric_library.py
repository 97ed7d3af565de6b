"""The metric library (metrics/metrics.yaml, include.metric_library): each metric defined once,
named by the experiment files, its kind and direction reaching the readout."""

from __future__ import annotations

import pytest

from include.metric_library import library, parse_library

SRC = "metrics.yaml"


def _one(**body) -> dict:
    return {"metrics": {"refunds": {"kind": "binomial", "funnel": "shop", "column": "purchased",
                                    **body}}}  # fmt: skip


def test_the_repository_s_metrics_moved_in_unchanged():
    """Before the library, the experiments' code mapped each name to a column and each file
    gave a type: these are those pairs, written out by hand."""
    expected = {
        "activation": ("saas", "is_activated", "binomial"),
        "conversion": ("saas", "is_converted", "binomial"),
        "new_booking": ("saas", "new_booking_flag", "binomial"),
        "nb_mrr": ("saas", "nb_mrr", "mean"),
        "total_revenue": ("saas", "total_revenue", "mean"),
        "purchase": ("shop", "purchased", "binomial"),
        "revenue": ("shop", "revenue", "mean"),
        "engagement_intensity": ("shop", "engagement_intensity", "mean"),
    }
    lib = library()
    moved = {n: (d.funnel, d.column, d.kind) for n, d in lib.items() if n in expected}
    assert moved == expected
    assert all(lib[n].cap_kind is None and lib[n].denominator is None for n in expected)
    assert all(d.description for d in lib.values())
    lower = {n for n, d in lib.items() if not d.higher_is_better}
    assert lower == {"support_tickets_14d"}


def test_the_demo_s_lower_is_better_guardrail():
    """support_tickets_14d: a count per visitor, counted by the outcomes job within 14 days
    of the exposure date, so its window names the days alone; homepage_cta_test watches it
    as a guardrail."""
    from include.experiments import load_experiment

    tickets = library()["support_tickets_14d"]
    assert (tickets.kind, tickets.funnel, tickets.column, tickets.unit) == (
        "mean", "saas", "support_tickets_14d", "count")  # fmt: skip
    assert (tickets.window_days, tickets.window_date_column, tickets.higher_is_better) == (
        14, None, False)  # fmt: skip
    spec = load_experiment("homepage_cta_test")
    metric = next(m for m in spec.metrics if m.name == "support_tickets_14d")
    assert (metric.role, metric.higher_is_better, metric.window_days) == ("guardrail", False, 14)


def test_the_demo_s_capped_and_ratio_metrics():
    lib = library()
    capped, ratio = lib["revenue_capped"], lib["revenue_per_order"]
    assert (capped.kind, capped.column, capped.cap_kind, capped.cap_value) == (
        "mean", "revenue", "percentile", 0.99)  # fmt: skip
    assert capped.cap_label == "percentile 0.99"
    assert (ratio.kind, ratio.column, ratio.denominator, ratio.stats_type) == (
        "ratio", "revenue", "orders", "ratio")  # fmt: skip


def _mean(**body) -> dict:
    return {"metrics": {"spend": {"kind": "mean", "funnel": "shop", "column": "revenue",
                                  **body}}}  # fmt: skip


def _ratio(**body) -> dict:
    return {"metrics": {"aov": {"kind": "ratio", "funnel": "shop", "numerator": "revenue",
                                "denominator": "orders", **body}}}  # fmt: skip


def _saas(**body) -> dict:
    return {"metrics": {"paid": {"kind": "binomial", "funnel": "saas", "column": "is_converted",
                                 **body}}}  # fmt: skip


def _tickets(**body) -> dict:
    return {"metrics": {"tickets": {"kind": "mean", "funnel": "saas", "unit": "count",
                                    "column": "support_tickets_14d", **body}}}  # fmt: skip


def test_a_window_is_parsed():
    lib = parse_library(_saas(window={"days": 14, "date_column": "conversion_date"}), SRC)
    assert (lib["paid"].window_days, lib["paid"].window_date_column) == (14, "conversion_date")
    assert parse_library(_saas(), SRC)["paid"].window_days is None
    # a column already counted within its days: the window only waits for them
    tickets = parse_library(_tickets(window={"days": 14}), SRC)["tickets"]
    assert (tickets.window_days, tickets.window_date_column) == (14, None)


def test_units():
    assert parse_library(_mean(), SRC)["spend"].unit == "usd"  # the default of a mean
    assert parse_library(_mean(unit="count"), SRC)["spend"].unit == "count"
    assert parse_library(_one(), SRC)["refunds"].unit is None  # a binomial is a share
    assert library()["engagement_intensity"].unit == "count"
    with pytest.raises(ValueError, match=r"metrics.spend.unit must be one of \('usd', 'count'\)"):
        parse_library(_mean(unit="eur"), SRC)
    with pytest.raises(ValueError, match=r"metrics.refunds.unit: a binomial metric is a share"):
        parse_library(_one(unit="count"), SRC)


def test_caps_are_parsed():
    assert parse_library(_mean(cap="none"), SRC)["spend"].cap_kind is None
    absolute = parse_library(_mean(cap={"absolute": 500}), SRC)["spend"]
    assert (absolute.cap_kind, absolute.cap_value, absolute.cap_label) == (
        "absolute", 500.0, "absolute 500")  # fmt: skip
    assert parse_library(_mean(cap={"percentile": 0.95}), SRC)["spend"].cap_value == 0.95


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_mean(cap=0.99), r"metrics.spend.cap must be none, \{absolute: X\} or"),
        (_mean(cap={"percentile": 99}), r"cap.percentile must be inside \(0, 1\)"),
        (_mean(cap={"percentile": 0.9, "absolute": 3}), r"metrics.spend.cap must be none"),
        (_mean(cap={"absolute": -1}), r"cap.absolute must be above 0"),
        (_mean(cap={"absolute": "lots"}), r"cap.absolute must be a number"),
        (_mean(cap={"absolute": float("inf")}), r"cap.absolute must be a number"),
        (_one(cap={"absolute": 1}), r"only a mean metric can be capped \(this one is binomial"),
        (_ratio(cap={"absolute": 1}), r"only a mean metric can be capped \(this one is ratio"),
        (_ratio(denominator=None), r"denominator None is not a column"),
        ({"metrics": {"aov": {"kind": "ratio", "funnel": "shop", "numerator": "revenue"}}},
         r"metrics.aov.denominator is missing \(a ratio metric needs numerator and denominator"),
        (_ratio(column="revenue"), r"metrics.aov.column: a ratio metric takes numerator and "
                                   r"denominator, not column"),
        (_mean(numerator="revenue"), r"metrics.spend.numerator: a mean metric takes column"),
        (_ratio(denominator="sessions"), r"denominator 'sessions' is not a column of "
                                         r"gold.user_outcomes"),
        (_mean(window={"days": 14, "date_column": "x"}), r"metrics.spend.window: a shop metric"),
        (_saas(window={"days": 14}), r"metrics.paid.window has no date_column and "
                                     r"'is_converted' is not counted within a window of its "
                                     r"own \(columns that are: support_tickets_14d\)"),
        (_saas(window={"date_column": "conversion_date"}),
         r"metrics.paid.window must be \{days: N, date_column: C\} or \{days: N\}"),
        (_saas(window={"days": 14, "date_column": "conversion_date", "hours": 3}),
         r"metrics.paid.window must be \{days: N, date_column: C\} or \{days: N\}"),
        (_tickets(window={"days": 7}), r"metrics.tickets.window.days 7 disagrees with "
                                       r"'support_tickets_14d', counted within 14 days"),
        (_tickets(window={"days": 14, "date_column": "conversion_date"}),
         r"metrics.tickets.window.date_column: 'support_tickets_14d' is already counted "
         r"within 14 days of the exposure date; give \{days: 14\} alone"),
        (_saas(window={"days": 0, "date_column": "conversion_date"}),
         r"window.days must be a whole number of days >= 1, got 0"),
        (_saas(window={"days": 7.5, "date_column": "conversion_date"}),
         r"window.days must be a whole number"),
        (_saas(window={"days": 7, "date_column": "nb_mrr"}),
         r"window.date_column 'nb_mrr' is not a DATE column of gold.<experiment>_outcomes"),
    ],
)
def test_a_bad_cap_or_ratio_is_an_error_naming_the_file_and_key(raw, message):
    with pytest.raises(ValueError, match=rf"^{SRC}: .*{message}"):
        parse_library(raw, SRC)


def test_a_definition_is_parsed_with_its_direction():
    lib = parse_library(_one(higher_is_better=False, description="Refunded share"), SRC)
    refunds = lib["refunds"]
    assert (refunds.kind, refunds.stats_type, refunds.higher_is_better) == (
        "binomial", "conversion", False)  # fmt: skip
    assert parse_library(_one(), SRC)["refunds"].higher_is_better  # default: higher is better


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"capping": 0.99}, r"unknown key 'metrics.refunds.capping'"),
        ({"kind": "quantile"}, r"metrics.refunds.kind must be one of"),
        ({"funnel": "web"}, r"metrics.refunds.funnel must be one of"),
        ({"column": "refunded"}, r"column 'refunded' is not a column of gold.user_outcomes"),
        ({"funnel": "saas"}, r"'purchased' is not a column of gold.<experiment>_outcomes"),
        ({"higher_is_better": "no"}, r"higher_is_better must be true or false"),
        ({"description": 3}, r"description must be text"),
    ],
)
def test_a_bad_definition_is_an_error_naming_the_file_and_key(body, message):
    with pytest.raises(ValueError, match=rf"^{SRC}: .*{message}"):
        parse_library(_one(**body), SRC)


def test_a_definition_missing_its_column_or_the_file_missing_its_section_is_refused():
    no_column = {"metrics": {"refunds": {"kind": "binomial", "funnel": "shop"}}}
    with pytest.raises(ValueError, match=r"metrics.refunds.column is missing"):
        parse_library(no_column, SRC)
    with pytest.raises(ValueError, match=r"one mapping, `metrics:`"):
        parse_library({"refunds": {}}, SRC)
    with pytest.raises(ValueError, match=r"metric name"):
        parse_library({"metrics": {"Bad Name": {}}}, SRC)


def _experiment(metrics: list[dict]) -> dict:
    return {
        "name": "shop_x", "funnel": "shop", "control": "a", "start_date": "2024-01-01",
        "end_date": "2024-01-31", "metrics": metrics,
        "variants": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}],
    }  # fmt: skip


def test_an_experiment_names_library_metrics_and_gets_their_kind_and_direction(
    tmp_path, monkeypatch
):
    from include.experiments import parse_experiment
    from spark_jobs.readouts.experiment import stats_config

    lib = tmp_path / "metrics.yaml"
    lib.write_text(
        "metrics:\n"
        "  purchase: {kind: binomial, funnel: shop, column: purchased}\n"
        "  refund_share: {kind: binomial, funnel: shop, column: purchased,\n"
        "                 higher_is_better: false}\n"
    )
    monkeypatch.setenv("LAKEHOUSE_METRICS_FILE", str(lib))
    spec = parse_experiment(_experiment([
        {"name": "purchase", "role": "primary"},
        {"name": "refund_share", "role": "guardrail"}]))  # fmt: skip
    assert [(m.name, m.type, m.higher_is_better) for m in spec.metrics] == [
        ("purchase", "conversion", True), ("refund_share", "conversion", False)]  # fmt: skip
    # what the statistics see: a drop of refund_share is the good direction
    assert stats_config(spec)["metrics"]["refund_share"] == {
        "type": "conversion", "role": "guardrail", "higher_is_better": False,
        "cap": None, "window_days": 7, "unit": None}  # fmt: skip  (shop: the outcome window)
    with pytest.raises(ValueError, match=r"metrics\[0\]: unknown metric 'activation' for funnel"
                                         r" shop"):  # fmt: skip
        parse_experiment(_experiment([{"name": "activation", "role": "primary"}]))
    with pytest.raises(ValueError, match=r"metrics\[0\].type 'revenue' contradicts the library"):
        parse_experiment(_experiment([{"name": "purchase", "type": "revenue", "role": "primary"}]))


def test_a_lower_is_better_guardrail_fires_on_a_rise_and_not_on_a_fall():
    """4,000 users per arm. purchase (primary) 800 vs 900: +2.5 pp, z = 0.025 / 0.00916 =
    2.73, significantly better. refund_share (guardrail, lower is better): 200 vs 300 is a
    rise of 2.5 pp (z = 0.025 / 0.00540 = 4.6): harmful, so do not ship; 300 vs 200 is the
    same size of fall: good, so ship."""
    from include.stats import SufficientStats, build_readout, run_trust_checks
    from include.stats.verdict import decide

    cfg = {
        "experiment": "shop_x", "control": "a", "alpha": 0.05, "correction": "holm",
        "metrics": {"purchase": {"type": "conversion", "role": "primary"},
                    "refund_share": {"type": "conversion", "role": "guardrail",
                                     "higher_is_better": False}},
        "mc_draws": 2_000,
    }  # fmt: skip
    trust = run_trust_checks({"a": 4000, "b": 4000}, {"a": 0.5, "b": 0.5})

    def readout(refunds_a: int, refunds_b: int):
        count = SufficientStats.from_counts
        records = build_readout([
            ("purchase", "a", "overall", count(4000, 800)),
            ("purchase", "b", "overall", count(4000, 900)),
            ("refund_share", "a", "overall", count(4000, refunds_a)),
            ("refund_share", "b", "overall", count(4000, refunds_b)),
        ], cfg)  # fmt: skip
        return records, decide(records, trust, {"window_ended": True})

    records, rise = readout(200, 300)
    guard = next(r for r in records if r["metric"] == "refund_share")
    assert guard["higher_is_better"] is False and guard["significant"]
    assert guard["abs_lift"] == pytest.approx(300 / 4000 - 200 / 4000)
    assert rise.verdict == "do_not_ship"
    assert any("guardrail significantly worse: refund_share" in r for r in rise.reasons)
    _, fall = readout(300, 200)
    assert fall.verdict == "ship" and fall.variant == "b"
    assert not any("refund_share" in r for r in fall.reasons)
