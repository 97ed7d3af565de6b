"""The HTML readout: layout order, content, self-containment, escaping, degenerate input."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from include.report import readout_context, render_html, render_markdown
from include.report.bundle import ReadoutBundle
from include.report.sample import DAYS, SEGMENTS, sample_bundle, with_hypothesis
from include.stats import Verdict, run_trust_checks

EXTERNAL = re.compile(r"""(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def test_sample_bundle_has_the_intended_shape(bundle: ReadoutBundle) -> None:
    metrics = {r["metric"] for r in bundle.records}
    variants = {r["variant"] for r in bundle.records}
    segments = {r["segment"] for r in bundle.records}
    assert metrics == {"activation", "nb_mrr"}
    assert variants == {"treatment_a", "treatment_b"}
    assert segments == {"overall", *SEGMENTS}
    assert len(bundle.records) == 2 * 2 * 3
    for by_variant in bundle.cumulative.values():
        assert {len(days) for days in by_variant.values()} == {len(DAYS)} == {14}
    assert bundle.verdict.verdict == "ship" and bundle.verdict.variant == "treatment_a"


def test_verdict_comes_before_the_first_chart(html: str) -> None:
    verdict_at = html.index("SHIP: treatment_a")
    assert verdict_at < html.index("<svg")
    assert verdict_at < html.index('id="trust"') < html.index('id="lift"')
    assert html.index('id="lift"') < html.index('id="details"') < html.index('id="reproducibility"')


def test_every_metric_variant_and_segment_appears(bundle: ReadoutBundle, html: str) -> None:
    for r in bundle.records:
        assert bundle.label(r["metric"]) in html
        assert r["variant"] in html
        assert f"<td>{r['segment']}</td>" in html
    for table in readout_context(bundle, with_charts=False)["metrics"]:
        assert len(table["rows"]) == 6  # 3 segments x 2 variants


def test_charts_are_inline_svg(html: str) -> None:
    svgs = re.findall(r"<svg\b", html)
    assert len(svgs) == 3  # forest, cumulative, funnel
    assert "<img" not in html
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids must be unique across the inline SVGs"


def test_no_external_resources(html: str) -> None:
    assert not EXTERNAL.search(html)
    assert "@import" not in html and "url(http" not in html
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()


def test_trust_panel_shows_split_rates_and_gates(html: str) -> None:
    assert "Sample ratio" in html and "33.33%" in html  # expected share of a 3-way split
    assert "Contamination rate" in html and "Duplicate rate" in html
    assert "finance_bookings_freshness" in html and "Passed with warnings" in html


def test_detail_and_finance_formatting(bundle: ReadoutBundle, html: str) -> None:
    assert "&lt;0.001" in html  # p-values below 0.001
    assert re.search(r"\+\$\d{1,3},\d{3}", html)  # signed money with thousands separators
    assert " pp" in html  # conversion lifts in percentage points
    assert "Annualised" in html and "Logistic model" in html and "CUPED" in html
    for table, version in bundle.table_versions.items():
        assert table in html and f">{version}<" in html


def test_user_strings_are_escaped(bundle: ReadoutBundle) -> None:
    evil = with_hypothesis(bundle, '<script>alert("x")</script> & <b>bold</b>')
    evil = replace(
        evil,
        experiment="exp<i>",
        metric_labels={"activation": "<img src=x onerror=alert(1)>", "nb_mrr": "MRR $ & co"},
    )
    out = render_html(evil)
    assert "<script" not in out.lower()
    assert "&lt;script&gt;alert" in out
    assert "<img" not in out and "<b>bold" not in out and "exp<i>" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out  # in the tables and the SVG text
    md = render_markdown(evil)
    assert "<script" not in md and "&lt;script&gt;" in md


def test_empty_arm_shows_insufficient_data() -> None:
    degenerate = sample_bundle(empty_arm="treatment_b")
    out = render_html(degenerate)
    assert "insufficient data" in out
    assert "INVALID" in out  # zero units in one arm is a sample ratio mismatch
    assert not re.search(r"\bnan\b", re.sub(r"<svg.*?</svg>", "", out, flags=re.S).lower())
    assert "SHIP" not in render_markdown(degenerate).split("INVALID")[0]


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("ship", "SHIP: treatment_a"),
        ("do_not_ship", "DO NOT SHIP"),
        ("keep_running", "KEEP RUNNING"),
        ("invalid", "INVALID"),
    ],
)
def test_each_verdict_has_its_banner(bundle: ReadoutBundle, code: str, label: str) -> None:
    variant = "treatment_a" if code == "ship" else None
    first = "trust checks failed" if code == "invalid" else "trust checks: pass"
    verdict = Verdict(code, variant, (first, "a reason in plain words"))
    ctx = readout_context(replace(bundle, verdict=verdict), with_charts=False)
    assert ctx["verdict"]["label"] == label
    assert ctx["verdict"]["reasons"] == ["a reason in plain words"]


def test_minimal_bundle_renders_without_optional_parts() -> None:
    trust = run_trust_checks({"control": 0, "treatment": 0}, {"control": 1, "treatment": 1})
    minimal = ReadoutBundle(
        experiment="empty_test",
        ds="2024-02-01",
        records=[],
        trust=trust,
        verdict=Verdict("keep_running", None, ("no usable primary-metric result yet",)),
    )
    out = render_html(minimal)
    assert "KEEP RUNNING" in out and "No results to plot." in out
    assert 'id="cumulative"' not in out and 'id="financial"' not in out
    assert "no versions recorded" in out
    assert "KEEP RUNNING" in render_markdown(minimal)


def test_rendering_is_deterministic(bundle: ReadoutBundle, html: str) -> None:
    assert render_html(bundle) == html


def test_cumulative_section_left_out_when_no_day_has_an_estimate() -> None:
    """Day 1 of a shop test: rows for the day exist but no window has closed (no lift)."""
    trust = run_trust_checks({"control": 0, "treatment": 0}, {"control": 1, "treatment": 1})
    empty_day = {"day": "2024-01-01", "control_n": 0, "treatment_n": 0, "rel_lift": None,
                 "abs_lift": None, "status": "insufficient_data"}
    bundle = ReadoutBundle(
        experiment="empty_test", ds="2024-01-01", records=[], trust=trust,
        verdict=Verdict("keep_running", None, ("no usable primary-metric result yet",)),
        cumulative={"purchase": {"treatment": [empty_day]}},
    )
    assert 'id="cumulative"' not in render_html(bundle)
    with_estimate = {**empty_day, "day": "2024-01-02", "rel_lift": 0.1, "abs_lift": 0.01}
    bundle = replace(bundle, cumulative={"purchase": {"treatment": [empty_day, with_estimate]}})
    assert 'id="cumulative"' in render_html(bundle)


def test_the_header_says_whether_the_readout_is_the_final_one(bundle: ReadoutBundle) -> None:
    before = replace(bundle, ds="2024-06-01", final_day="2024-06-02")
    final = replace(bundle, ds="2024-06-02", final_day="2024-06-02")
    assert "<dt>Final day</dt><dd>2024-06-02 (its tables and this readout change until then)" \
        in render_html(before)
    assert "<dt>Final day</dt><dd>2024-06-02: this is the final readout</dd>" in render_html(final)
    assert "Final day: 2024-06-02: this is the final readout" in render_markdown(final)
    assert "Final day" not in render_html(replace(bundle, final_day=None))
    # a SaaS experiment decides at end + 1 and keeps its follow-up open to its final day
    follow_up = replace(bundle, final_day="2024-06-02", decision_day="2024-04-01")
    assert ("<dd>2024-06-02 (its follow-up tables change until then); decision day "
            "2024-04-01: the verdict is final</dd>") in render_html(replace(follow_up,
                                                                             ds="2024-05-01"))
    assert "decision day 2024-04-01: the verdict is final from then" in render_html(
        replace(follow_up, ds="2024-03-01"))


def test_a_lower_is_better_metric_says_so_and_a_fall_reads_good(bundle: ReadoutBundle) -> None:
    """nb_mrr turned lower-is-better (as a refund metric would be): its table says so, and
    a significant negative lift is coloured good, not bad."""
    records = [
        {**r, "higher_is_better": False} if r.get("metric") == "nb_mrr" else r
        for r in bundle.records
    ]
    out = render_html(replace(bundle, records=records))
    assert out.count("lower is better") == 1  # one table per metric
    assert "lower is better" not in render_html(bundle)
    from include.report.render import _direction

    fall = {"significant": True, "abs_lift": -1.0, "higher_is_better": False}
    assert _direction(fall) == "good" and _direction({**fall, "higher_is_better": True}) == "bad"


def test_a_capped_metric_shows_its_cap_and_a_ratio_its_test(bundle: ReadoutBundle) -> None:
    records = [
        {**r, "cap": "percentile 0.99", "cap_value": 412.5} if r.get("metric") == "nb_mrr"
        else r for r in bundle.records
    ]
    out = render_html(replace(bundle, records=records))
    assert out.count("capped at $412.50 (percentile 0.99)") == 1  # one table per metric
    assert "capped at" not in render_html(bundle)
    ratio = [{**r, "metric_type": "ratio"} if r.get("metric") == "nb_mrr" else r
             for r in bundle.records]  # fmt: skip
    assert render_html(replace(bundle, records=ratio)).count("ratio (delta method)") == 1



def test_each_metric_table_names_its_kind_as_a_reader_knows_it(bundle: ReadoutBundle) -> None:
    """The statistics engine's types (conversion, revenue, ratio) read as rate, mean and
    ratio: a count of support tickets is a mean, not "revenue"."""
    import re

    out = render_html(bundle)
    kinds = re.findall(r'<span class="muted small">(rate|mean|ratio|revenue|conversion)\b', out)
    assert kinds and set(kinds) <= {"rate", "mean"}, kinds
    assert {r["metric_type"] for r in bundle.records} >= {"conversion", "revenue"}


def test_a_count_metric_is_written_as_a_number_not_money(bundle: ReadoutBundle) -> None:
    """nb_mrr declared ``unit: count`` (as engagement_intensity is in the library): its
    means, lift and cap read as plain numbers; without the unit they stay dollars."""
    metrics = dict(bundle.config.get("metrics") or {})
    metrics["nb_mrr"] = {**metrics.get("nb_mrr", {}), "unit": "count"}
    records = [
        {**r, "cap": "absolute 40", "cap_value": 40.0} if r.get("metric") == "nb_mrr" else r
        for r in bundle.records
    ]
    counted = replace(bundle, config={**bundle.config, "metrics": metrics}, records=records)
    row = next(r for r in bundle.records if r.get("metric") == "nb_mrr" and r.get("segment") ==
               "overall")  # fmt: skip
    from include.report.formatting import fmt_money, fmt_num

    out = render_html(counted)
    assert "capped at 40 (absolute 40)" in out
    assert fmt_num(row["control_mean"]) in out
    assert fmt_money(row["control_mean"]) not in out
    assert fmt_money(row["control_mean"]) in render_html(replace(bundle, records=records))
