"""The truth manifest: what was planted on a day, written beside the data.

``{root}/_truth/ds=YYYY-MM-DD/manifest.json`` records the seed and config, the planted
effects and base rates, per-experiment expected and realised outcomes of the users first
exposed that day, the true MRR bridge by month up to ``ds``, the mess rates used and the
count of every kind of mess actually planted. Tests and readouts compare against it.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd

from include.generator.calendar import (
    HOUR_WEIGHT,
    MS_PER_DAY,
    QUARTER_WEIGHT,
    WEEKDAY_WEIGHT,
    day_start_ms,
    day_weight,
)
from include.generator.config import SAAS_METRICS, SHOP_METRICS, GeneratorConfig
from include.generator.shop import Cohort
from include.generator.subscribers import MAX_MONTHS, NEVER, Subscribers

GENERATOR_VERSION = "1.0.0"


def _round(x: float) -> float:
    return float(round(float(x), 6))


def saas_truth(cfg: GeneratorConfig, subs: Subscribers, day: date) -> dict | None:
    """Per-arm outcomes of accounts first exposed to the saas experiment on ``day``.

    ``expected_*`` sums each user's planted probability (its true rate); ``realized_*``
    counts what the lifecycle will actually do (``*_by_end`` = before the experiment ends,
    what a readout after the end can see). Visitors who never sign up count in ``exposed``
    only; non-signing homepage visitors are added by the caller.
    """
    exp = cfg.experiment("saas")
    if exp is None:
        return None
    lo = day_start_ms(day)
    end = day_start_ms(date.fromisoformat(exp.end_date)) + MS_PER_DAY
    rows = np.flatnonzero((subs.exposure_ms >= lo) & (subs.exposure_ms < lo + MS_PER_DAY))
    out = {}
    for i, name in enumerate(exp.variants):
        r = rows[subs.variant[rows] == i]
        paid = subs.paid_ms[r] < NEVER
        mrr0 = np.where(paid, subs.mrr_at_month(np.zeros(len(r), np.int64), r), 0.0)
        by_end = subs.paid_ms[r] < end
        act_ok = subs.act_ms[r] < end
        out[name] = {
            "signup_exposed": int(subs.exp_signup[r].sum()),
            "hybrid_exposed": int(subs.exp_hybrid[r].sum()),
            "expected_activations": _round(subs.p_activation[r].sum()),
            "expected_conversions": _round(subs.p_conversion[r].sum()),
            "realized_activations": int(subs.activated[r].sum()),
            "realized_activations_by_end": int((subs.activated[r] & act_ok).sum()),
            "realized_conversions": int(paid.sum()),
            "realized_conversions_by_end": int(by_end.sum()),
            "realized_nb_mrr": _round(mrr0.sum()),
            "realized_nb_mrr_by_end": _round(mrr0[by_end].sum()),
        }
    return out


def shop_truth(cfg: GeneratorConfig, cohort: Cohort) -> dict | None:
    """Per-arm purchase outcomes (7-day window) of the visitors first exposed on the day."""
    exp = cfg.experiment("shop")
    if exp is None:
        return None
    out = {}
    for i, name in enumerate(exp.variants):
        m = cohort.variant == i
        out[name] = {
            "exposed": int(m.sum()),
            "expected_purchases": _round(cohort.p_purchase[m].sum()),
            "realized_purchases": int(cohort.purchase[m].sum()),
            "expected_revenue": _round((cohort.p_purchase[m] * cohort.amount[m]).sum()),
            "realized_revenue": _round(cohort.amount[m][cohort.purchase[m]].sum()),
            "mean_engagement_intensity": _round(cohort.intensity[m].mean()) if m.any() else 0.0,
        }
    return out


def experiment_section(
    cfg: GeneratorConfig, day: date, saas: dict | None, shop: dict | None, homepage_n: dict
) -> dict:
    """Planted lifts, base rates and today's exposed cohort for every experiment."""
    f = cfg.funnel
    result = {}
    for exp in cfg.experiments:
        metrics = SAAS_METRICS if exp.kind == "saas" else SHOP_METRICS
        section = {
            "kind": exp.kind,
            "variants": list(exp.variants),
            "weights": list(exp.weights),
            "control": exp.control,
            "start_date": exp.start_date,
            "end_date": exp.end_date,
            "running": exp.is_running(day),
            "planted_relative_lift": {
                m: {v: exp.effect(v, m) for v in exp.variants if v != exp.control} for m in metrics
            },
        }
        if exp.kind == "shop":
            # an order's amount is the price x (1 + revenue lift) / (1 + purchase lift)
            # (include.generator.shop.build_cohort), one order per buyer, order statuses
            # alike in every arm: revenue per order moves by that ratio
            section["planted_relative_lift"]["revenue_per_order"] = {
                v: (1 + exp.effect(v, "revenue")) / (1 + exp.effect(v, "purchase")) - 1
                for v in exp.variants
                if v != exp.control
            }
        if exp.kind == "saas":
            section["base_rates"] = {
                "signup_share_of_visitors": f.signup_share,
                "activation_given_signup": f.activation,
                "trial_conversion_given_activation": f.trial_conversion,
                "late_conversion_given_return": f.late_conversion,
                "hybrid_return_given_lapsed": f.hybrid_return,
            }
            arms = saas or {}
            for name, arm in arms.items():
                arm["exposed"] = (
                    arm["signup_exposed"] + arm["hybrid_exposed"] + homepage_n.get(name, 0)
                )
            section["exposed_today"] = arms
        else:
            section["base_rates"] = {
                "purchase_logit_intercept": f.shop_intercept,
                "purchase_logit_engagement_coef": f.shop_engagement_coef,
                "outcome_window_days": 7,
            }
            section["exposed_today"] = shop or {}
        section["true_rates_today"] = _rates(section["exposed_today"], exp.kind)
        result[exp.name] = section
    return result


def _rates(arms: dict, kind: str) -> dict:
    """Expected per-visitor rates per arm from the summed planted probabilities."""
    out = {}
    for name, arm in arms.items():
        n = arm.get("exposed", 0)
        if not n:
            continue
        if kind == "saas":
            out[name] = {
                "activation_rate": _round(arm["expected_activations"] / n),
                "conversion_rate": _round(arm["expected_conversions"] / n),
            }
        else:
            out[name] = {
                "purchase_rate": _round(arm["expected_purchases"] / n),
                "revenue_per_user": _round(arm["expected_revenue"] / n),
            }
    return out


def mrr_by_month(cfg: GeneratorConfig, subs: Subscribers, day: date) -> dict[str, dict]:
    """True MRR bridge per calendar month from the epoch to ``day`` (partial last month).

    Snapshots: MRR at the first instant of the month and at its end (or the end of ``day``);
    New/Expansion/Contraction/Churn are classified per account as in seed 004, so
    ``end = start + new + expansion - contraction - churn`` holds exactly.
    """
    epoch = date.fromisoformat(cfg.epoch)
    months = pd.period_range(epoch.replace(day=1), day.replace(day=1), freq="M")
    stop = day_start_ms(day) + MS_PER_DAY
    out = {}
    for p in months:
        lo = day_start_ms(p.start_time.date())
        hi = min(day_start_ms((p + 1).start_time.date()), stop)
        start, end = _mrr_at(subs, lo), _mrr_at(subs, hi)
        both = (start > 0) & (end > 0)
        row = {
            "start": start.sum(),
            "new": end[(start == 0) & (end > 0)].sum(),
            "expansion": (end - start)[both & (end > start)].sum(),
            "contraction": (start - end)[both & (end < start)].sum(),
            "churn": start[(start > 0) & (end == 0)].sum(),
            "end": end.sum(),
            "paying_accounts_end": int((end > 0).sum()),
        }
        out[str(p)] = {k: (v if isinstance(v, int) else round(float(v), 2)) for k, v in row.items()}
    return out


def _mrr_at(subs: Subscribers, ms: int) -> np.ndarray:
    """Each account's MRR just before time ``ms`` (0 if not paying then)."""
    t = ms - 1
    paying = (subs.paid_ms <= t) & (subs.churn_ms > t)
    month = np.clip(subs.month_of(t), 0, MAX_MONTHS)
    return np.where(paying, subs.mrr_at_month(month), 0.0)


def seasonality_section(day: date) -> dict:
    return {
        "day_weight": _round(day_weight(day)),
        "weekday_weight": list(WEEKDAY_WEIGHT),
        "quarter_weight": {str(k): v for k, v in QUARTER_WEIGHT.items()},
        "hour_weight": list(HOUR_WEIGHT),
    }


def manifest_bytes(manifest: dict) -> bytes:
    """Stable JSON (sorted keys, fixed indentation) so the manifest is byte-deterministic."""
    return (json.dumps(manifest, sort_keys=True, indent=2, default=_json_default) + "\n").encode()


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")
