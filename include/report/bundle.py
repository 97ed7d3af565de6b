"""The renderer's input: everything a readout report shows, as plain data.

:class:`ReadoutBundle` is what the readout job assembles from ``include.stats`` results
(no Spark objects, no I/O); :class:`DeepDiveDetails` feeds the deep-dive dashboard.
Both are frozen dataclasses; optional parts may be left empty and their section is
replaced by a short "not available" note instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from include.stats import CupedResult, LogitResult, MrrImpact, TrustResult, Verdict

if TYPE_CHECKING:
    import pandas as pd

OVERALL = "overall"


@dataclass(frozen=True)
class ReadoutBundle:
    """One experiment's readout for one ``ds``.

    Fields (types are what ``include.stats`` returns unless stated):

    * ``experiment``, ``ds`` (``YYYY-MM-DD``), ``hypothesis``: shown in the header; every
      string is HTML-escaped, so free text is safe here.
    * ``variants``: all variant names in display order, control included; ``control``.
    * ``start_date``/``end_date``: the experiment window (strings), optional.
    * ``final_day``: the last ds whose readout can change (``ExperimentSpec.final_day``),
      optional; the header says whether this readout is the final one.
    * ``decision_day``: the sequential test's last look (``ExperimentSpec.decision_day``):
      from it on the verdict is final, optional.
    * ``config``: the readout configuration (what ``build_readout``/``decide`` were given);
      hashed into the reproducibility footer (:func:`config_hash`).
    * ``records``: the flat rows of ``build_readout`` (keys of ``RECORD_FIELDS``).
    * ``trust``: ``run_trust_checks(...)``; ``verdict``: ``decide(...)``.
    * ``assignment_counts``/``weights``: units per variant and configured traffic weights,
      for the SRM panel's observed-vs-expected split (optional; the p-value itself comes
      from ``trust``).
    * ``cumulative``: ``{metric: {variant: cumulative_by_day(...) rows}}`` (day order).
    * ``funnel``: ``{stage: {variant: count}}`` with stages in funnel order.
    * ``logistic``: ``logistic_regression(...)`` (optional).
    * ``cuped``: ``{label: cuped(...)}``, e.g. ``{"nb_mrr · treatment": result}`` (optional).
    * ``mrr``: ``{variant: mrr_impact(...)}`` (optional).
    * ``table_versions``: ``{delta table name: version read}``.
    * ``metric_labels``: optional display names, ``{"nb_mrr": "New-booking MRR / user"}``.
    * ``empty_state``: set when no arm has a unit yet: one sentence saying when the first
      units are due and why; the page then shows it instead of any table, tile or chart
      (every number would come from nothing, or from a prior alone).
    * ``generated_at``: optional timestamp string supplied by the caller (the renderer never
      reads the clock, so the same bundle always renders the same bytes).
    """

    experiment: str
    ds: str
    records: Sequence[Mapping[str, Any]]
    trust: TrustResult
    verdict: Verdict
    variants: Sequence[str] = ()
    control: str = "control"
    hypothesis: str = ""
    start_date: str | None = None
    end_date: str | None = None
    final_day: str | None = None
    decision_day: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    assignment_counts: Mapping[str, float] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    cumulative: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]] = field(
        default_factory=dict
    )
    funnel: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    logistic: LogitResult | None = None
    cuped: Mapping[str, CupedResult] = field(default_factory=dict)
    mrr: Mapping[str, MrrImpact] = field(default_factory=dict)
    table_versions: Mapping[str, int] = field(default_factory=dict)
    metric_labels: Mapping[str, str] = field(default_factory=dict)
    generated_at: str | None = None
    deep_dive: DeepDiveDetails | None = None
    empty_state: str | None = None

    def all_variants(self) -> list[str]:
        """Control first, then the other variants in the given (or record) order."""
        names = list(self.variants)
        for r in self.records:
            for v in (r.get("control_variant"), r.get("variant")):
                if v and v not in names:
                    names.append(str(v))
        ordered = [self.control] + [v for v in names if v != self.control]
        return ordered

    def label(self, metric: str) -> str:
        """Display name of a metric (its own name unless a label is given)."""
        return self.metric_labels.get(metric, metric)

    def unit(self, metric: str) -> str | None:
        """What a mean or ratio metric counts in (``usd``, ``count``), from the readout's
        metric config (the metric library); None when the config does not say."""
        return ((self.config or {}).get("metrics") or {}).get(metric, {}).get("unit")


@dataclass(frozen=True)
class DeepDiveDetails:
    """Input of the deep-dive dashboard (seed 000's ``{experiment}_details``), all optional.

    * ``retention``: DataFrame ``variant, period, rate`` (+ optional ``users``): share of a
      variant's converted users still retained at each period; ``period`` is a month offset
      (``1`` = M1) or a label (``"M1"``), plotted in the order given.
    * ``cohorts``: DataFrame ``cohort, period, rate`` (+ optional ``variant``, ``users``):
      retention by acquisition cohort (``"2024-01"``) and month offset -> heatmaps, one per
      variant.
    * ``segments``: DataFrame ``dimension, segment, variant, n, mean`` (+ optional
      ``metric``, ``metric_type``, ``rel_lift``, ``rel_ci_low``, ``rel_ci_high``): the
      metric by segment of a dimension (``tenure_bucket``, ``promo``, ``usage_level``).
      Without ``rel_lift`` the lift vs control is computed from the means (no interval).
    * ``metric_label``: name of the segment metric when the frame has no ``metric`` column.
    """

    experiment: str
    ds: str
    control: str = "control"
    retention: pd.DataFrame | None = None
    cohorts: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    metric_label: str = "conversion"
    metric_type: str = "conversion"
    notes: Sequence[str] = ()


def config_hash(config: Mapping[str, Any]) -> str:
    """Short SHA-256 of the configuration as canonical JSON (sorted keys)."""
    text = json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
