"""Markdown summary, the atomic writer, the deep dive and the number formats."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from include.report import (
    DeepDiveDetails,
    config_hash,
    render_deep_dive_html,
    render_html,
    render_markdown,
)
from include.report.bundle import ReadoutBundle
from include.report.formatting import (
    fmt_abs_lift,
    fmt_int,
    fmt_money,
    fmt_p,
    fmt_pct,
    fmt_pp,
    fmt_prob,
)
from include.report.writer import safe_name, write_report


def test_markdown_summary(bundle: ReadoutBundle) -> None:
    md = render_markdown(bundle)
    assert md.startswith("# homepage_cta_test")
    assert "**Verdict: SHIP: treatment_a**" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 4  # header + (primary + guardrail) x 2 variants, overall only
    assert "Activation rate" in rows[1] and "primary" in rows[1]
    assert any("guardrail" in r for r in rows)
    assert config_hash(bundle.config) in md


def test_write_report_is_atomic_and_idempotent(bundle: ReadoutBundle, tmp_path: Path) -> None:
    paths = write_report(bundle, tmp_path)
    target = tmp_path / "homepage_cta_test" / "2024-01-14"
    assert paths == {
        "html": target / "readout.html",
        "markdown": target / "readout.md",
        "deep_dive": target / "deep_dive.html",
        "summary": target / "summary.json",
        "index": tmp_path / "index.html",
    }
    first = {k: p.read_bytes() for k, p in paths.items()}
    again = write_report(bundle, tmp_path)
    assert {k: p.read_bytes() for k, p in again.items()} == first
    assert sorted(os.listdir(target)) == [
        "deep_dive.html", "readout.html", "readout.md", "summary.json"]
    assert 'href="deep_dive.html"' in (target / "readout.html").read_text()
    assert 'href="deep_dive.html"' not in render_html(replace(bundle, deep_dive=None))


def test_write_report_keeps_paths_inside_out_dir(bundle: ReadoutBundle, tmp_path: Path) -> None:
    sneaky = replace(bundle, experiment="../../etc", ds="2024/01/14", deep_dive=None)
    paths = write_report(sneaky, tmp_path)
    for path in paths.values():
        assert tmp_path in path.resolve().parents
    assert safe_name("..") == "unnamed"


def test_deep_dive_dashboard(bundle: ReadoutBundle) -> None:
    details = bundle.deep_dive
    assert details is not None
    out = render_deep_dive_html(details)
    assert len(re.findall(r"<svg\b", out)) == 4  # retention, 2 cohort heatmaps, segments
    for name in ("Retention by variant", "Cohort view", "Segment performance"):
        assert name in out
    for segment in details.segments["segment"]:
        assert str(segment).replace("<", "&lt;") in out
    assert "M1" in out and "Tenure bucket" in out and "Usage level" in out
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", out)


def test_deep_dive_without_data_and_with_missing_control_segment() -> None:
    empty = render_deep_dive_html(DeepDiveDetails(experiment="x", ds="2024-01-01"))
    assert "No retention data" in empty and "<svg" not in empty
    segments = pd.DataFrame(
        [
            {"dimension": "promo", "segment": "none", "variant": "control", "n": 100, "mean": 0.1},
            {"dimension": "promo", "segment": "none", "variant": "b", "n": 90, "mean": 0.12},
            {"dimension": "promo", "segment": "vip", "variant": "b", "n": 3, "mean": 0.3},
        ]
    )
    out = render_deep_dive_html(DeepDiveDetails(experiment="x", ds="2024-01-01", segments=segments))
    assert "+20.0%" in out  # lift computed from the means
    assert "insufficient data" in out  # vip has no control cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0004, "<0.001"), (0.0031, "0.003"), (0.042, "0.042"), (0.31, "0.31"), (None, "—")],
)
def test_fmt_p(value: float | None, expected: str) -> None:
    assert fmt_p(value) == expected


def test_number_formats() -> None:
    assert fmt_money(1234567.8) == "$1,234,568"
    assert fmt_money(12.345) == "$12.35"
    assert fmt_money(-2500, signed=True) == "\u2212$2,500"
    assert fmt_pct(0.0321) == "3.2%" and fmt_pct(0.0042) == "0.42%"
    assert fmt_pct(0.0321, signed=True) == "+3.2%" and fmt_pct(-0.5, signed=True) == "\u221250.0%"
    assert fmt_pp(0.0042) == "+0.42 pp"
    assert fmt_abs_lift(1.5, "revenue") == "+$1.50"
    assert fmt_int(12345.0) == "12,345"
    assert fmt_prob(0.99995) == ">99.9%" and fmt_prob(0.5) == "50.0%"
    assert fmt_pct(float("nan")) == "—" and fmt_money(float("inf")) == "—"


def test_config_hash_is_order_independent() -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
