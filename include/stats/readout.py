"""The readout: every metric x segment x variant cell compared with control, as flat rows.

``build_readout(cells, config)`` is the one entry point the readout job calls. A cell is
``(metric, variant, segment, SufficientStats)`` (a :class:`Cell`, a tuple, or a mapping
with those keys plus the sum fields). For each (metric, segment) the control cell is
compared with every other variant:

* frequentist: z-test (conversion), Welch (revenue) or the delta method (ratio), absolute
  and relative lift + CI;
* multiple testing: Holm and Benjamini-Hochberg within each family (``family_of``): the
  decision family (primary metrics x treatment arms, overall segment), the guardrails, the
  secondary metrics, and the segment cells (exploratory, corrected among themselves);
  ``significant`` uses the configured correction;
* Bayesian: beta-binomial (conversion) or normal approximation (revenue; a ratio with its
  delta-method variance);
* power for the configured effect of interest and the MDE at the configured power, both at
  the family's corrected level (``family_alpha``: alpha / m for m corrected tests).

Every row has the keys of :data:`RECORD_FIELDS` in that order and plain Python values;
anything undefined is ``None`` and ``status`` says why (``ok``, ``zero_variance``,
``insufficient_data``, ``missing_control``, ``invalid_input``: an arm's sums are NaN,
infinite, negative, or their variance is below their rounding error; such a row carries no
statistic at all, and the verdict is blocked on it).
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from include.stats.bayesian import DEFAULT_DRAWS, DEFAULT_SEED, beta_binomial, normal_means
from include.stats.frequentist import (
    CONVERSION,
    RATIO,
    STATUS_INSUFFICIENT,
    STATUS_INVALID,
    compare,
    normalise_metric_type,
)
from include.stats.multiple import adjust, benjamini_hochberg, holm
from include.stats.power import PowerResult, mean_power, proportion_power
from include.stats.sufficient import SufficientStats, invalid_reason

log = logging.getLogger(__name__)

OVERALL = "overall"
STATUS_MISSING_CONTROL = "missing_control"

DEFAULT_CONFIG: dict[str, Any] = {
    "experiment": None,
    "control": "control",
    "alpha": 0.05,
    "correction": "holm",
    "power": 0.8,
    "effect_of_interest_rel": 0.05,
    "prior_alpha": 1.0,
    "prior_beta": 1.0,
    "credibility": 0.95,
    "seed": DEFAULT_SEED,
    "mc_draws": DEFAULT_DRAWS,
    "metrics": {},
}
DEFAULT_METRIC: dict[str, Any] = {
    "type": "conversion",
    "role": "secondary",
    "higher_is_better": True,
}


RECORD_FIELDS: tuple[str, ...] = (
    "experiment",
    "metric",
    "metric_type",
    "role",
    "higher_is_better",
    "cap",
    "cap_value",
    "window_days",
    "open_window_units",
    "segment",
    "control_variant",
    "variant",
    "control_n",
    "control_mean",
    "variant_n",
    "variant_mean",
    "abs_lift",
    "abs_ci_low",
    "abs_ci_high",
    "rel_lift",
    "rel_ci_low",
    "rel_ci_high",
    "test",
    "statistic",
    "df",
    "std_error",
    "p_value",
    "p_value_holm",
    "p_value_bh",
    "p_value_adjusted",
    "correction",
    "alpha",
    "significant",
    "bayes_method",
    "prob_beat_control",
    "expected_loss",
    "expected_loss_control",
    "credible_low",
    "credible_high",
    "rel_credible_low",
    "rel_credible_high",
    "control_posterior_mean",
    "variant_posterior_mean",
    "power",
    "power_effect_abs",
    "mde_abs",
    "mde_rel",
    "status",
)


@dataclass(frozen=True)
class Cell:
    """Sufficient statistics of one metric, for one variant, in one segment."""

    metric: str
    variant: str
    segment: str
    stats: SufficientStats


def resolve_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with ``config``; each metric's settings get defaults too."""
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    cfg["metrics"] = {
        name: {**DEFAULT_METRIC, **spec} for name, spec in (cfg.get("metrics") or {}).items()
    }
    return cfg


def to_cell(item: Cell | tuple | Mapping[str, Any]) -> Cell:
    """Accept a Cell, a ``(metric, variant, segment, stats)`` tuple or a flat mapping."""
    if isinstance(item, Cell):
        return item
    if isinstance(item, Mapping):
        return Cell(
            str(item["metric"]),
            str(item["variant"]),
            str(item.get("segment") or OVERALL),
            SufficientStats.from_mapping(item),
        )
    metric, variant, segment, stats = item
    return Cell(str(metric), str(variant), str(segment), stats)


def build_readout(
    cells: Iterable[Cell | tuple | Mapping[str, Any]], config: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Flat readout rows (one per metric x segment x non-control variant), see module doc."""
    cfg = resolve_config(config)
    grouped = _group(to_cell(c) for c in cells)
    keys = [
        (metric, segment, variant)
        for (metric, segment), arms in sorted(grouped.items())
        for variant in sorted(arms)
        if variant != cfg["control"]
    ]
    sizes = Counter(family_of(cfg["metrics"].get(m, DEFAULT_METRIC)["role"], s) for m, s, _ in keys)
    rows = []
    for metric, segment, variant in keys:
        family = family_of(cfg["metrics"].get(metric, DEFAULT_METRIC)["role"], segment)
        alpha = family_alpha(cfg["alpha"], cfg["correction"], sizes[family])
        rows.append(_row(metric, segment, variant, grouped[(metric, segment)], cfg, alpha))
    _add_corrections(rows, cfg)
    return [{k: _py(row.get(k)) for k in RECORD_FIELDS} for row in rows]


DECISION, GUARDRAIL, SECONDARY, EXPLORATORY = "decision", "guardrail", "secondary", "exploratory"


def family_of(role: str, segment: str) -> str:
    """The multiple-testing family of a readout row. The *decision* family is what a verdict
    rests on: every primary metric x treatment arm on the overall segment. Guardrails and
    secondary metrics of the overall segment are families of their own, and every segment
    cell is *exploratory*: corrected among the segment cells, never mixed into the
    decision family (where 90 segment p-values would drown 4 primary ones)."""
    if segment != OVERALL:
        return EXPLORATORY
    return {"primary": DECISION, "guardrail": GUARDRAIL}.get(role, SECONDARY)


def family_alpha(alpha: float, correction: str, size: int) -> float:
    """The per-test level power and MDE are computed at: ``alpha / m`` in a family of ``m``
    corrected tests (Holm's and Benjamini-Hochberg's strictest threshold, the level the
    smallest p-value must clear), ``alpha`` without a correction. So "powered" means
    powered for the test the verdict actually runs."""
    if correction == "none" or size <= 1:
        return alpha
    return alpha / size


def _group(cells: Iterable[Cell]) -> dict[tuple[str, str], dict[str, SufficientStats]]:
    """(metric, segment) -> variant -> stats, merging duplicate cells (e.g. per-day rows)."""
    grouped: dict[tuple[str, str], dict[str, SufficientStats]] = defaultdict(dict)
    for cell in cells:
        arms = grouped[(cell.metric, cell.segment)]
        arms[cell.variant] = arms[cell.variant] + cell.stats if cell.variant in arms else cell.stats
    return grouped


def _row(
    metric: str,
    segment: str,
    variant: str,
    arms: Mapping[str, SufficientStats],
    cfg: Mapping[str, Any],
    power_alpha: float,
) -> dict[str, Any]:
    spec = cfg["metrics"].get(metric, DEFAULT_METRIC)
    metric_type = normalise_metric_type(spec["type"])
    base = {
        "experiment": cfg["experiment"],
        "metric": metric,
        "metric_type": metric_type,
        "role": spec["role"],
        "higher_is_better": bool(spec["higher_is_better"]),
        # a capped mean: how it is capped and the cap its sums used (metric config)
        "cap": spec.get("cap"),
        "cap_value": spec.get("cap_value"),
        "window_days": spec.get("window_days"),
        "segment": segment,
        "control_variant": cfg["control"],
        "variant": variant,
        "alpha": cfg["alpha"],
        "correction": cfg["correction"],
    }
    treatment = arms[variant]
    control = arms.get(cfg["control"])
    if control is None:
        return {
            **base,
            "variant_n": _count(treatment.n),
            "variant_mean": _py(treatment.mean),
            "status": STATUS_MISSING_CONTROL,
            "p_value": None,
        }
    bad = {v: invalid_reason(arm) for v, arm in ((cfg["control"], control), (variant, treatment))}
    bad = {v: why for v, why in bad.items() if why}
    if bad:
        log.warning(
            "readout %s: metric %s, segment %s: invalid input, not tested: %s",
            cfg["experiment"], metric, segment, "; ".join(f"{v}: {w}" for v, w in bad.items()),
        )  # fmt: skip
        return {
            **base,
            "control_n": _finite_count(control.n),
            "variant_n": _finite_count(treatment.n),
            "status": STATUS_INVALID,
            "p_value": None,
        }
    if metric_type == CONVERSION:
        _check_binary(metric, control, treatment)
    frequentist = _frequentist(control, treatment, metric_type, cfg)
    if frequentist["status"] == STATUS_INSUFFICIENT:
        # no Bayesian or power figures from the prior alone (P(beat) 50 %, an expected
        # loss of a uniform prior): an empty arm has no numbers, its status says why
        return {**base, **frequentist}
    if metric_type == RATIO:
        # the posterior and the power of a mean, on the ratio and its delta-method variance
        control, treatment = control.as_ratio(), treatment.as_ratio()
    return {
        **base,
        **frequentist,
        **_bayesian(control, treatment, metric_type, cfg, base["higher_is_better"]),
        **_power(control, treatment, metric_type, spec, cfg, power_alpha),
    }


def _frequentist(
    control: SufficientStats, treatment: SufficientStats, metric_type: str, cfg: Mapping
) -> dict[str, Any]:
    res = compare(control, treatment, metric_type, cfg["alpha"])
    return {
        "control_n": _count(control.n),
        "control_mean": res.control_mean,
        "variant_n": _count(treatment.n),
        "variant_mean": res.treatment_mean,
        "abs_lift": res.abs_lift,
        "abs_ci_low": res.abs_ci_low,
        "abs_ci_high": res.abs_ci_high,
        "rel_lift": res.rel_lift,
        "rel_ci_low": res.rel_ci_low,
        "rel_ci_high": res.rel_ci_high,
        "test": res.test,
        "statistic": res.statistic,
        "df": res.df,
        "std_error": res.std_error,
        "p_value": res.p_value,
        "status": res.status,
    }


def _bayesian(
    control: SufficientStats,
    treatment: SufficientStats,
    metric_type: str,
    cfg: Mapping,
    higher_is_better: bool = True,
) -> dict[str, Any]:
    """The posterior comparison. ``prob_beat_control`` is the probability that the variant
    beats the control in the metric's good direction, and ``expected_loss`` what choosing
    it costs in that direction: for a lower-is-better metric, P(variant below control) and
    E[max(variant - control, 0)] (the posterior of the difference is the same; the win is
    the other side of it)."""
    common = {"credibility": cfg["credibility"], "seed": cfg["seed"], "draws": cfg["mc_draws"]}
    if metric_type == CONVERSION:
        res = beta_binomial(control, treatment, cfg["prior_alpha"], cfg["prior_beta"], **common)
    else:
        res = normal_means(control, treatment, **common)
    beat, loss, loss_control = (
        res.prob_beat_control, res.expected_loss_treatment, res.expected_loss_control
    )
    if not higher_is_better:
        beat, loss, loss_control = 1.0 - beat, loss_control, loss
    return {
        "bayes_method": res.method,
        "prob_beat_control": beat,
        "expected_loss": loss,
        "expected_loss_control": loss_control,
        "credible_low": res.abs_ci_low,
        "credible_high": res.abs_ci_high,
        "rel_credible_low": res.rel_ci_low,
        "rel_credible_high": res.rel_ci_high,
        "control_posterior_mean": res.control.mean,
        "variant_posterior_mean": res.treatment.mean,
    }


def _power(
    control: SufficientStats,
    treatment: SufficientStats,
    metric_type: str,
    spec: Mapping[str, Any],
    cfg: Mapping[str, Any],
    alpha: float,
) -> dict[str, Any]:
    rel = float(spec.get("effect_of_interest_rel", cfg["effect_of_interest_rel"]))
    n_c, n_t, m_c = float(control.n), float(treatment.n), float(control.mean)
    effect = rel * m_c if not math.isnan(m_c) else math.nan
    res: PowerResult
    if metric_type == CONVERSION:
        res = proportion_power(m_c, n_c, n_t, effect, alpha, cfg["power"])
    else:
        res = mean_power(m_c, _pooled_sd(control, treatment), n_c, n_t, effect, alpha, cfg["power"])
    return {
        "power": res.power,
        "power_effect_abs": res.effect,
        "mde_abs": res.mde_abs,
        "mde_rel": res.mde_rel,
    }


def _pooled_sd(control: SufficientStats, treatment: SufficientStats) -> float:
    """``sqrt(((n_c-1) s_c^2 + (n_t-1) s_t^2) / (n_c + n_t - 2))``; NaN if undefined."""
    n_c, n_t = float(control.n), float(treatment.n)
    if n_c < 2 or n_t < 2:
        return math.nan
    pooled = ((n_c - 1) * control.variance + (n_t - 1) * treatment.variance) / (n_c + n_t - 2)
    return math.sqrt(pooled)


def _add_corrections(rows: list[dict[str, Any]], cfg: Mapping[str, Any]) -> None:
    """Holm and BH within each family (:func:`family_of`); ``significant`` from the chosen
    correction. A row's adjusted p-value depends only on its own family's p-values."""
    families: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        families[family_of(row["role"], row["segment"])].append(row)
    for members in families.values():
        p = np.array([_nan(r.get("p_value")) for r in members], dtype=float)
        p_holm, p_bh = holm(p), benjamini_hochberg(p)
        chosen = adjust(p, cfg["correction"])
        for row, ph, pb, pc in zip(members, p_holm, p_bh, chosen, strict=True):
            row["p_value_holm"], row["p_value_bh"] = ph, pb
            row["p_value_adjusted"] = pc
            row["significant"] = bool(pc < cfg["alpha"]) if not math.isnan(pc) else None


def _check_binary(metric: str, *arms: SufficientStats) -> None:
    for arm in arms:
        n, s = float(arm.n), float(arm.sum)
        if not arm.is_binary_compatible or s < 0 or s > n:
            raise ValueError(f"metric {metric!r} is a conversion metric but its sums are not 0/1")


def _count(n: Any) -> int | float:
    """Unit counts as int when whole (they come from sums of 1s)."""
    value = float(n)
    return int(value) if value.is_integer() else value


def _finite_count(n: Any) -> int | float | None:
    value = float(n)
    return _count(value) if math.isfinite(value) else None


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _py(value: Any) -> Any:
    """numpy scalars to Python; NaN/inf to None so the table gets a null, not a NaN."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
