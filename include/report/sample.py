"""A realistic sample bundle built with ``include.stats`` on seeded synthetic numbers.

Used by ``scripts/render_sample_report.py`` (the sample report and its screenshot) and by
the report tests. Nothing here is read by the pipeline: the readout job builds its bundle
from the gold tables.

Shape: ``homepage_cta_test`` with control and two treatments, two metrics (``activation``
conversion, primary; ``nb_mrr`` revenue, guardrail), two device segments plus overall,
14 days of per-day sufficient statistics merged into cumulative results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from include.report.bundle import DeepDiveDetails, ReadoutBundle
from include.stats import (
    SufficientStats,
    build_readout,
    compare,
    cumulative_by_day,
    cuped,
    decide,
    logistic_regression,
    mrr_impact,
    run_trust_checks,
)

EXPERIMENT = "homepage_cta_test"
DS = "2024-01-14"
CONTROL = "control"
VARIANTS = ("control", "treatment_a", "treatment_b")
SEGMENTS = ("desktop", "mobile")
DAYS = tuple(f"2024-01-{d:02d}" for d in range(1, 15))
# true effects: relative lift of the activation rate and of MRR per booking user
ACTIVATION = {"control": 0.120, "treatment_a": 0.138, "treatment_b": 0.121}
BOOKING_GIVEN_ACTIVATION = {"control": 0.25, "treatment_a": 0.25, "treatment_b": 0.24}
SEGMENT_SHIFT = {"desktop": 1.15, "mobile": 0.85}
USERS_PER_DAY = {"desktop": 420, "mobile": 380}
METRICS = {
    "activation": {"type": "conversion", "role": "primary"},
    "nb_mrr": {"type": "revenue", "role": "guardrail"},
}
CONFIG: dict[str, Any] = {
    "experiment": EXPERIMENT,
    "control": CONTROL,
    "alpha": 0.05,
    "correction": "holm",
    "mc_draws": 50_000,  # credible intervals only; keeps the sample fast
    "metrics": METRICS,
}
LABELS = {"activation": "Activation rate", "nb_mrr": "New-booking MRR / user"}


def _simulate(rng: np.random.Generator, variant: str, segment: str, n: int) -> dict[str, Any]:
    """Unit-level outcomes of one day's users in one arm and segment."""
    p = ACTIVATION[variant] * SEGMENT_SHIFT[segment]
    activated = rng.random(n) < p
    pre_mrr = rng.gamma(2.0, 6.0, n)  # pre-exposure spend: predicts booking and its size
    p_book = np.clip(BOOKING_GIVEN_ACTIVATION[variant] * pre_mrr / 12.0, 0, 1)
    booked = activated & (rng.random(n) < p_book)
    mrr = np.where(booked, rng.lognormal(3.6, 0.4, n) + 2.5 * pre_mrr, 0.0)
    return {"activated": activated, "booked": booked, "mrr": mrr, "pre": pre_mrr}


def sample_bundle(seed: int = 7, empty_arm: str | None = None) -> ReadoutBundle:
    """The sample readout; ``empty_arm`` gives that variant zero users (degenerate input)."""
    rng = np.random.default_rng(seed)
    cells: list[tuple[str, str, str, SufficientStats]] = []
    daily: dict[tuple[str, str], list[SufficientStats]] = {}
    totals = {v: {"visitors": 0, "activated": 0, "booked": 0} for v in VARIANTS}
    logit_rows = []
    for _day in DAYS:
        for variant in VARIANTS:
            day_stats: dict[str, SufficientStats] = {}
            for segment in SEGMENTS:
                n = 0 if variant == empty_arm else int(rng.poisson(USERS_PER_DAY[segment]))
                sim = _simulate(rng, variant, segment, n)
                act = SufficientStats.from_values(sim["activated"].astype(float))
                mrr = SufficientStats.from_values(sim["mrr"], sim["pre"])
                cells += [("activation", variant, segment, act), ("nb_mrr", variant, segment, mrr)]
                day_stats["activation"] = day_stats.get("activation", SufficientStats()) + act
                day_stats["nb_mrr"] = day_stats.get("nb_mrr", SufficientStats()) + mrr
                totals[variant]["visitors"] += n
                totals[variant]["activated"] += int(sim["activated"].sum())
                totals[variant]["booked"] += int(sim["booked"].sum())
                if variant != "treatment_b" and n:
                    engagement = rng.poisson(3 + 4 * sim["activated"], n)
                    logit_rows.append(
                        pd.DataFrame(
                            {
                                "purchase": sim["booked"].astype(int),
                                "treatment": int(variant != CONTROL),
                                "engagement_intensity": engagement,
                            }
                        )
                    )
            for metric, stats in day_stats.items():
                daily.setdefault((metric, variant), []).append(stats)
            for metric in METRICS:
                cells.append((metric, variant, "overall", day_stats[metric]))

    records = build_readout(cells, CONFIG)
    counts = {v: totals[v]["visitors"] for v in VARIANTS}
    weights = {v: 1.0 for v in VARIANTS}
    trust = run_trust_checks(
        counts,
        weights,
        contaminated=int(sum(counts.values()) * 0.004),
        duplicates=int(sum(counts.values()) * 0.024),
        quality_gates={
            "silver_fct_website_events": "pass",
            "gold_experiment_outcomes": "pass",
            "gold_experiment_aggregated": "pass",
            "finance_bookings_freshness": "warn",
        },
    )
    verdict = decide(records, trust, {"min_sample_per_arm": 1000})
    cumulative = {
        metric: {
            v: cumulative_by_day(
                list(zip(DAYS, daily[(metric, CONTROL)], daily[(metric, v)], strict=True)),
                spec["type"],
            )
            for v in VARIANTS
            if v != CONTROL
        }
        for metric, spec in METRICS.items()
    }
    merged = {k: sum(v, SufficientStats()) for k, v in daily.items()}
    n_total = float(sum(counts.values()))
    mrr = {
        v: mrr_impact(merged[("nb_mrr", CONTROL)], merged[("nb_mrr", v)], n_total_users=n_total)
        for v in VARIANTS
        if v != CONTROL
    }
    cuped_results = {
        f"nb_mrr · {v}": cuped(merged[("nb_mrr", CONTROL)], merged[("nb_mrr", v)])
        for v in VARIANTS
        if v != CONTROL
    }
    frame = pd.concat(logit_rows, ignore_index=True) if logit_rows else pd.DataFrame()
    logistic = logistic_regression(frame) if len(frame) else None
    funnel = {
        "visitors": {v: totals[v]["visitors"] for v in VARIANTS},
        "activated": {v: totals[v]["activated"] for v in VARIANTS},
        "new booking": {v: totals[v]["booked"] for v in VARIANTS},
    }
    return ReadoutBundle(
        experiment=EXPERIMENT,
        ds=DS,
        hypothesis=(
            'A clearer "Start your free trial" call to action on the homepage increases '
            "activation without hurting new-booking MRR."
        ),
        variants=VARIANTS,
        control=CONTROL,
        start_date=DAYS[0],
        end_date=DAYS[-1],
        config=CONFIG,
        records=records,
        trust=trust,
        verdict=verdict,
        assignment_counts=counts,
        weights=weights,
        cumulative=cumulative,
        funnel=funnel,
        logistic=logistic,
        cuped=cuped_results,
        mrr=mrr,
        table_versions={
            "gold.homepage_cta_test_outcomes": 42,
            "gold.homepage_cta_test_aggregated": 42,
            "silver.fct_website_events": 117,
        },
        metric_labels=LABELS,
        deep_dive=sample_deep_dive(seed),
    )


def sample_deep_dive(seed: int = 7) -> DeepDiveDetails:
    """Retention, cohorts and segment performance for the deep-dive dashboard."""
    rng = np.random.default_rng(seed + 1)
    base = {"control": 0.0, "treatment_a": 0.015, "treatment_b": -0.005}
    retention = pd.DataFrame(
        [
            {"variant": v, "period": m, "rate": min(1.0, 0.93**m + base[v] * m / 3)}
            for v in VARIANTS
            for m in range(0, 7)
        ]
    )
    cohorts = pd.DataFrame(
        [
            {"variant": v, "cohort": c, "period": m, "rate": 0.92**m + base[v] + shift}
            for v in ("control", "treatment_a")
            for c, shift, max_m in (
                ("2024-01", 0.0, 4),
                ("2024-02", -0.02, 3),
                ("2024-03", 0.01, 2),
                ("2024-04", 0.015, 1),
            )
            for m in range(1, max_m + 1)
        ]
    )
    effects = {
        ("tenure_bucket", "new (<3m)"): 1.16,
        ("tenure_bucket", "3-12m"): 1.08,
        ("tenure_bucket", "12m+"): 0.99,
        ("promo", "none"): 1.06,
        ("promo", "20% off"): 1.14,
        ("usage_level", "low"): 1.02,
        ("usage_level", "medium"): 1.09,
        ("usage_level", "high"): 1.12,
    }
    rows = []
    for (dimension, segment), effect in effects.items():
        n_c = int(rng.integers(2500, 6000))
        p_c = 0.12 * float(rng.uniform(0.8, 1.2))
        c = SufficientStats.from_counts(n_c, rng.binomial(n_c, p_c))
        rows.append(_segment_row(dimension, segment, CONTROL, c, None))
        n_t = int(n_c * rng.uniform(0.97, 1.03))
        t = SufficientStats.from_counts(n_t, rng.binomial(n_t, min(1.0, p_c * effect)))
        rows.append(_segment_row(dimension, segment, "treatment_a", t, compare(c, t, "conversion")))
    return DeepDiveDetails(
        experiment=EXPERIMENT,
        ds=DS,
        control=CONTROL,
        retention=retention,
        cohorts=cohorts,
        segments=pd.DataFrame(rows),
        metric_label="Activation rate",
        metric_type="conversion",
    )


def _segment_row(
    dimension: str, segment: str, variant: str, stats: SufficientStats, res: Any
) -> Mapping[str, Any]:
    row = {
        "dimension": dimension,
        "segment": segment,
        "variant": variant,
        "n": int(stats.n),
        "mean": float(stats.mean),
        "rel_lift": float("nan"),
        "rel_ci_low": float("nan"),
        "rel_ci_high": float("nan"),
    }
    if res is not None:
        row.update(
            rel_lift=float(res.rel_lift),
            rel_ci_low=float(res.rel_ci_low),
            rel_ci_high=float(res.rel_ci_high),
        )
    return row


def with_hypothesis(bundle: ReadoutBundle, hypothesis: str) -> ReadoutBundle:
    """A copy of ``bundle`` with another hypothesis (e.g. to test escaping)."""
    return replace(bundle, hypothesis=hypothesis)
