"""The readout engine recovers the lifts the generator plants (seed 002's shop funnel).

The generator's pdp_redesign cohorts, as the readout sees them: every visitor first exposed
on a product page, per arm, ``purchase`` (bought within the 7-day window: binary) and
``revenue`` (the amount, 0 without a purchase). Three arms with different planted relative
lifts (one of them 0), about 190,000 visitors per arm, cells summed per day the way the gold
aggregated table sums them. For each metric and arm the readout's relative lift lies within
3.3 standard errors (99.9 %) of the planted one, its interval is narrow enough for that to
mean something (half-width below half the smallest non-zero planted lift), and the verdict
flags exactly the arms with a planted effect as significant. No Spark: the pipeline's own
recovery of the per-arm rates is ``tests/unit/experiments/test_pipeline_e2e.py``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from include.generator import GeneratorConfig
from include.generator.config import ExperimentConfig
from include.generator.shop import build_cohort
from include.stats import Cell, SufficientStats, build_readout

START, DAYS = date(2024, 1, 1), 42
PLANTED = {  # arm -> metric -> planted relative lift
    "big": {"purchase": 0.25, "revenue": 0.20},
    "small": {"purchase": 0.12, "revenue": 0.15},
    "null": {"purchase": 0.0, "revenue": 0.0},
}
ARMS = ("control", *PLANTED)
EXPERIMENT = ExperimentConfig(
    name="pdp_redesign",
    kind="shop",
    variants=ARMS,
    weights=(0.25, 0.25, 0.25, 0.25),
    start_date=START.isoformat(),
    end_date=(START + timedelta(days=DAYS - 1)).isoformat(),
    arm_effects=PLANTED,
)
CONFIG = GeneratorConfig(seed=23, events_per_day=900_000, experiments=(EXPERIMENT,))
READOUT = {
    "experiment": "pdp_redesign",
    "control": "control",
    "metrics": {
        "purchase": {"type": "conversion", "role": "primary"},
        "revenue": {"type": "revenue", "role": "primary"},
    },
}


@pytest.fixture(scope="module")
def rows() -> dict[tuple[str, str], dict]:
    cells = []
    for d in range(DAYS):
        cohort = build_cohort(CONFIG, START + timedelta(days=d))
        assert (cohort.variant >= 0).all()  # everyone is in the running experiment
        revenue = np.where(cohort.purchase, cohort.amount, 0.0)
        for i, arm in enumerate(ARMS):
            m = cohort.variant == i
            cells.append(("purchase", arm, "overall",
                          SufficientStats.from_counts(int(m.sum()), int(cohort.purchase[m].sum()))))
            cells.append(("revenue", arm, "overall", SufficientStats.from_values(revenue[m])))
    out = build_readout([Cell(*c) for c in cells], READOUT)
    return {(r["metric"], r["variant"]): r for r in out}


@pytest.mark.parametrize("arm", list(PLANTED))
@pytest.mark.parametrize("metric", ["purchase", "revenue"])
def test_readout_recovers_the_planted_relative_lift(rows, metric, arm):
    row = rows[(metric, arm)]
    planted = PLANTED[arm][metric]
    assert row["status"] == "ok" and row["control_n"] > 150_000 and row["variant_n"] > 150_000
    half_width = (row["rel_ci_high"] - row["rel_ci_low"]) / 2
    se = half_width / 1.959963984540054
    assert half_width < 0.5 * 0.12, row  # sharp enough to tell 0 from +12 %
    assert abs(row["rel_lift"] - planted) <= 3.3 * se, (row["rel_lift"], planted, se)
    # Bayesian side: the posterior agrees on the direction when there is an effect
    if planted:
        assert row["significant"] and row["prob_beat_control"] > 0.99, row
    else:
        assert 0.001 < row["prob_beat_control"] < 0.999, row
    print(f"{metric:>8} {arm:>5}: planted {planted:+.3f}, readout {row['rel_lift']:+.4f} "
          f"[{row['rel_ci_low']:+.4f}, {row['rel_ci_high']:+.4f}]")
