"""readouts.experiment: the authoritative readout of one configured experiment for ``ds``.

Params: ``{"experiment": name}`` plus optional ``"alpha"`` (0 < alpha <= 0.2, default 0.05)
and ``"segments"`` (a subset of the config's segments, list or comma-separated; default all).

Reads ``gold.{experiment}_aggregated`` (sufficient statistics by variant and segment) and
``gold.quality_results``, plus, for the logistic model and the deep-dive page below, Spark
aggregates of ``gold.user_outcomes`` (shop) or ``gold.{experiment}_details`` (saas); every
table is pinned to the Delta version recorded in ``input_versions``, and no user row reaches
the driver:

* partition ``ds`` -> one cell per metric x variant x segment (an empty arm is a zero cell,
  so it shows up as ``insufficient_data`` instead of disappearing) -> ``build_readout`` with
  the config's metrics, roles, control and correction; CUPED on ``pre_exposure_sessions``
  where the covariate sums exist; MRR impact when the experiment measures ``nb_mrr``;
* trust checks first: SRM of the clean users per variant against the configured weights,
  contamination and duplicate rates from the aggregated trust counts, the day's
  quality-gate statuses, and the data coverage: every day from the start to ds passed the
  daily gates of its sources (``coverage_suites``), else the verdict is ``blocked`` naming
  the days (a day rejected at a gate is otherwise silently absent from the
  experiment-to-date tables); the verdict comes from ``decide`` with the config's rules;
* seed 002's logistic model for a shop (PDP) experiment: ``purchased ~ treatment +
  browsing_events`` on the clean cohort of ``gold.user_outcomes`` (pinned too; engagement
  without the cart / checkout / purchase steps, which are the outcome), fitted from a Spark
  GROUP BY of its covariate patterns (variant x browsing events: a few hundred rows
  reach the driver, never the users), which gives exactly the per-user estimates;
* the deep-dive page (seed 000's second dashboard) of a saas experiment from
  ``gold.{experiment}_details`` (pinned): M1/M2 retention of converted users per variant,
  the same by signup cohort, and the conversion rate by tenure bucket and by usage level
  (usage days in the 30-day window, complete windows only) with each segment's lift and
  interval; Spark aggregates, only counts reach the driver;
* partitions ``start_date .. ds``: every partition is the cumulative state as of its day, so
  the overall rows of each day, differenced, give the per-day increments that
  ``cumulative_by_day`` turns into the cumulative-lift chart (bounded by the experiment
  window, never "all history").

Writes ``gold.readouts`` slice ``{ds, readout = experiment_<name>}`` (one commit, re-runs
replace it) and the report under ``{reports_dir}/experiments/<name>/<ds>/``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from include.contracts import validate_identifier
from include.engine import keep
from include.experiments import ExperimentSpec, load_experiment
from spark_jobs.common import JobResult

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

JOB = "readouts.experiment"
OVERALL = "overall"
DEFAULT_ALPHA = 0.05
MAX_ALPHA = 0.2
MRR_METRIC = "nb_mrr"
DAILY = "daily"  # the run key of the automatic readout of a day
_RUN = re.compile(r"^(daily|manual_[0-9a-f]{10})$")
# Stats engine type per config metric type ("count" metrics are compared as means).
STATS_TYPES = {"conversion": "conversion", "revenue": "revenue", "count": "revenue",
               "ratio": "ratio"}  # fmt: skip
# Funnel stages per funnel from the aggregated counts, first = denominator (clean users).
FUNNEL_STAGES = {
    "saas": (
        ("exposed", "users"),
        ("activated", "activations"),
        ("converted", "conversions"),
        ("booked", "new_bookings"),
    ),
    # seed 002: product view (the exposure) -> add to cart -> checkout -> purchase
    "shop": (
        ("exposed (product view)", "users"),
        ("added to cart", "carts"),
        ("checkout", "checkouts"),
        ("purchased", "purchases"),
    ),
}
SUM_FIELDS = ("n", "sum", "sum_sq", "sum_x", "sum_x_sq", "sum_xy", "sum_d", "sum_d_sq", "sum_yd")


# --------------------------------------------------------------------------- params
@dataclass(frozen=True)
class ReadoutParams:
    experiment: str
    alpha: float
    segments: tuple[str, ...]
    run: str = DAILY


def readout_name(experiment: str, run: str = DAILY) -> str:
    """The readouts table slice of a run (a validated identifier): ``experiment_<name>`` for
    the daily (automatic) readout, which a re-run of the day replaces, and
    ``experiment_<name>__<run>`` for a run by hand (other parameters), kept beside it."""
    suffix = "" if run == DAILY else f"__{run}"
    return validate_identifier(f"experiment_{experiment}{suffix}", "readout name")


def parse_params(params: Mapping[str, Any] | None, spec: ExperimentSpec) -> ReadoutParams:
    """Validate the job params against the experiment's config; errors name the bad value."""
    params = dict(params or {})
    unknown = sorted(set(params) - {"experiment", "alpha", "segments", "run"})
    if unknown:
        raise ValueError(f"{JOB}: unknown params {unknown}")
    if params.get("experiment") != spec.name:
        raise ValueError(f"{JOB}: params name {params.get('experiment')!r}, config {spec.name!r}")
    raw_alpha = params.get("alpha")
    try:
        alpha = DEFAULT_ALPHA if raw_alpha in (None, "") else float(raw_alpha)
    except (TypeError, ValueError):
        raise ValueError(f"{JOB}: alpha must be a number, got {raw_alpha!r}") from None
    if not (0 < alpha <= MAX_ALPHA) or math.isnan(alpha):
        raise ValueError(f"{JOB}: alpha must be in (0, {MAX_ALPHA}], got {alpha!r}")
    raw_segments = params.get("segments")
    if raw_segments in (None, ""):
        segments = spec.segments
    elif isinstance(raw_segments, str):
        segments = tuple(s.strip() for s in raw_segments.split(",") if s.strip())
    elif isinstance(raw_segments, list | tuple):
        segments = tuple(raw_segments)
    else:
        raise ValueError(f"{JOB}: segments must be a list of names, got {raw_segments!r}")
    bad = [s for s in segments if s not in spec.segments]
    if bad:
        raise ValueError(f"{JOB}: unknown segments {bad} for {spec.name}; known {spec.segments}")
    run = params.get("run") or DAILY
    if not isinstance(run, str) or not _RUN.fullmatch(run):
        raise ValueError(f"{JOB}: run must be 'daily' or manual_<10 hex>, got {run!r}")
    return ReadoutParams(spec.name, alpha, tuple(dict.fromkeys(segments)), run)


def stats_config(spec: ExperimentSpec, alpha: float = DEFAULT_ALPHA) -> dict[str, Any]:
    """The ``build_readout`` config of an experiment: its metrics, roles, control, correction,
    each metric's cap (``cap_value`` is the data's: :func:`metric_cap_values`)."""
    from include.metric_library import definition

    return {
        "experiment": spec.name,
        "control": spec.control,
        "alpha": alpha,
        "correction": spec.readout.correction,
        "metrics": {
            m.name: {"type": STATS_TYPES[m.type], "role": m.role,
                     "higher_is_better": m.higher_is_better,
                     "cap": definition(m.name, spec.funnel).cap_label,
                     "window_days": metric_window(spec, m.name),
                     "unit": definition(m.name, spec.funnel).unit}
            for m in spec.metrics
        },  # fmt: skip
    }


def verdict_rules(spec: ExperimentSpec, ds: str | None = None) -> dict[str, Any]:
    """The ``decide`` config: minimum and planned sample per arm from the config, and
    whether ``ds`` is the planned end: the decision day (``ExperimentSpec.decision_day``),
    the last look of the sequential test (``information_time`` 1), where a flat result is
    final. Before it, outcomes of the exposed units still mature (activations, conversions,
    windows) and alpha is left."""
    return {
        "min_sample_per_arm": spec.readout.min_sample_per_arm,
        "planned_sample_per_arm": spec.readout.planned_sample_per_arm,
        "window_ended": ds is not None and ds >= spec.decision_day.isoformat(),
    }


# --------------------------------------------------------------------------- cells
def segment_label(row: Mapping[str, Any]) -> str:
    """'overall' or 'dimension=value' (the readouts table's ``segment``)."""
    if row.get("segment") in (None, OVERALL):
        return OVERALL
    return f"{row['segment']}={row.get('segment_value')}"


def _num(value: Any) -> float:
    return 0.0 if value is None else float(value)


def metric_sums(row: Mapping[str, Any], metric: str) -> dict[str, float]:
    """One metric's sufficient statistics from an aggregated row (covariate sums shared).

    A metric with a window of its own is summed over the units whose window has closed,
    while the shared covariate sums cover every clean unit: they do not describe the same
    units, so such a metric gets no covariate (CUPED skips it) rather than a wrong one."""
    from include.metric_library import library

    found = library().get(metric)
    own_units = found is not None and found.window_days is not None
    return {
        "n": _num(row.get(f"{metric}_n")),
        "sum": _num(row.get(f"{metric}_sum")),
        "sum_sq": _num(row.get(f"{metric}_sum_sq")),
        "sum_x": 0.0 if own_units else _num(row.get("sum_x")),
        "sum_x_sq": 0.0 if own_units else _num(row.get("sum_x_sq")),
        "sum_xy": 0.0 if own_units else _num(row.get(f"{metric}_sum_xy")),
        # a ratio metric's denominator (0 for the others: no such columns)
        "sum_d": _num(row.get(f"{metric}_den_sum")),
        "sum_d_sq": _num(row.get(f"{metric}_den_sum_sq")),
        "sum_yd": _num(row.get(f"{metric}_num_den_sum")),
    }


def metric_window(spec: ExperimentSpec, metric: str) -> int | None:
    """The metric's window in days: its own (library ``window``), else the shop experiment's
    outcome window; None for a SaaS metric without one."""
    from include.metric_library import definition

    own = definition(metric, spec.funnel).window_days
    if own is not None:
        return own
    return spec.outcome_window_days if spec.funnel == "shop" else None


def with_open_units(records: list[dict[str, Any]], rows: Iterable[Mapping[str, Any]],
                    spec: ExperimentSpec) -> None:  # fmt: skip
    """``open_window_units`` of each record with a window: the clean units of its control
    and its variant, in its segment, whose window had not closed as of ds (the aggregate's
    ``{metric}_open_units``)."""
    by_key = {(segment_label(r), r["variant"]): r for r in rows}
    for rec in records:
        if rec.get("window_days") is None:
            continue
        total = 0
        for variant in (rec["control_variant"], rec["variant"]):
            row = by_key.get((rec["segment"], variant), {})
            total += int(row.get(f"{rec['metric']}_open_units") or 0)
        rec["open_window_units"] = total


def metric_cap_values(rows: Iterable[Mapping[str, Any]], spec: ExperimentSpec) -> dict:
    """``{metric: cap}`` of the capped metrics, from the aggregate (``{metric}_cap``, one
    value per ds for every row); None where no row carries one."""
    from include.metric_library import definition

    capped = [m.name for m in spec.metrics if definition(m.name, spec.funnel).cap_kind]
    out: dict[str, float | None] = {}
    for name in capped:
        values = {r.get(f"{name}_cap") for r in rows} - {None}
        if len(values) > 1:
            raise ValueError(f"{spec.name}: metric {name} has several caps in one ds: {values}")
        out[name] = float(values.pop()) if values else None
    return out


def cells_from_rows(
    rows: Iterable[Mapping[str, Any]],
    spec: ExperimentSpec,
    segments: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Aggregated rows -> cells for every metric x configured variant x segment.

    Only the overall segment and the requested dimensions are kept. A configured variant
    with no row in a segment gets a zero cell (an empty arm is a result, not a gap); rows of
    variants that are not configured are kept too, so the readout shows them.
    """
    keep = set(spec.segments if segments is None else segments)
    by_key: dict[tuple[str, str], Mapping[str, Any]] = {}
    labels: list[str] = [OVERALL]
    variants = list(spec.variant_names)
    for row in rows:
        if row.get("segment") not in (None, OVERALL) and row.get("segment") not in keep:
            continue
        label = segment_label(row)
        if label not in labels:
            labels.append(label)
        if row["variant"] not in variants:
            variants.append(row["variant"])
        by_key[(label, row["variant"])] = row
    cells = []
    for label in [OVERALL, *sorted(labels[1:])]:
        for variant in variants:
            row = by_key.get((label, variant), {})
            for m in spec.metrics:
                cells.append(
                    {
                        "metric": m.name,
                        "variant": variant,
                        "segment": label,
                        **metric_sums(row, m.name),
                    }
                )
    return cells


def overall_rows(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in rows if r.get("segment") in (None, OVERALL)]


def trust_inputs(rows: Iterable[Mapping[str, Any]], spec: ExperimentSpec) -> dict[str, Any]:
    """SRM counts (clean users per configured variant), weights and trust counts (overall)."""
    overall = overall_rows(rows)
    counts = {v: 0.0 for v in spec.variant_names}
    for r in overall:
        counts[r["variant"]] = counts.get(r["variant"], 0.0) + _num(r.get("users"))
    return {
        "counts": counts,
        "weights": {v.name: v.weight for v in spec.variants},
        "contaminated": sum(_num(r.get("contaminated_rows")) for r in overall),
        "duplicates": sum(_num(r.get("duplicate_rows")) for r in overall),
        "total_rows": sum(_num(r.get("exposed_rows")) for r in overall),
    }


def gate_suites(spec: ExperimentSpec) -> list[str]:
    """The gates of the tables this readout depends on: web events and, for the SaaS
    funnel, the assignments and the experiment's own outcomes (quality_results slices)."""
    suites = ["bronze_web_events", "silver_fct_website_events"]
    if spec.funnel == "saas":
        suites += ["silver_experiment_assignments",
                   f"gold_experiment_outcomes__{spec.name}_outcomes"]
    return suites


def coverage_suites(spec: ExperimentSpec) -> list[str]:
    """The daily gates of the sources an experiment's tables are rebuilt from, each day:
    web events, assignments and sessions (identity, attribution), and for the SaaS funnel
    accounts and billing (activation, conversion and bookings come from them), for the shop
    funnel orders (purchases and revenue)."""
    suites = [
        "bronze_web_events",
        "silver_fct_website_events",
        "silver_experiment_assignments",
        "silver_sessions",
    ]
    if spec.funnel == "saas":
        suites += ["silver_accounts", "silver_billing_events"]
    else:
        suites += ["silver_orders"]
    return suites


def coverage_check(spec: ExperimentSpec, ds: str, rows: Iterable[Mapping[str, Any]]):
    """The data-coverage trust check of the readout of ``ds`` from ``gold.quality_results``
    rows: every day from the start to ds passed the daily gates of ``coverage_suites``
    (None before the start: there is nothing to cover yet)."""
    from include.stats import check_coverage

    first = window_start(spec, ds)
    if first is None:
        return None
    suites = coverage_suites(spec)
    by_day: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if first <= r["ds"] <= ds:
            by_day.setdefault(r["ds"], []).append(r)
    statuses = {day: gate_statuses(day_rows, suites) for day, day_rows in by_day.items()}
    return check_coverage(first, ds, statuses, suites)


def gate_statuses(rows, suites=None) -> dict[str, str]:
    from include.quality import gate_statuses as statuses

    return statuses(rows, suites)


def funnel_from_rows(
    rows: Iterable[Mapping[str, Any]], spec: ExperimentSpec
) -> dict[str, dict[str, float]]:
    """{stage: {variant: users}} from the overall counts (exposed -> ... in funnel order)."""
    overall = overall_rows(rows)
    if not overall:
        return {}
    return {
        stage: {r["variant"]: _num(r.get(column)) for r in overall}
        for stage, column in FUNNEL_STAGES[spec.funnel]
    }


# --------------------------------------------------------------------------- statistics
def _stats(cell: Mapping[str, Any]):
    from include.stats import SufficientStats

    return SufficientStats(**{f: cell[f] for f in SUM_FIELDS})


def _overall_cell(cells: Sequence[Mapping[str, Any]], metric: str, variant: str):
    for c in cells:
        if c["segment"] == OVERALL and c["metric"] == metric and c["variant"] == variant:
            return _stats(c)
    from include.stats import SufficientStats

    return SufficientStats()


def cuped_results(cells: Sequence[Mapping[str, Any]], spec: ExperimentSpec, alpha: float) -> dict:
    """CUPED per metric x treatment (overall) where the covariate sums exist."""
    from include.stats import cuped

    out = {}
    for m in spec.metrics:
        if STATS_TYPES[m.type] == "ratio":
            continue  # CUPED here adjusts a per-unit mean; a ratio's is not one
        control = _overall_cell(cells, m.name, spec.control)
        for variant in spec.variant_names:
            if variant == spec.control:
                continue
            treatment = _overall_cell(cells, m.name, variant)
            if control.sum_x_sq == 0 and treatment.sum_x_sq == 0:
                continue  # no covariate recorded: nothing to adjust with
            out[f"{m.name} · {variant}"] = cuped(control, treatment, alpha)
    return out


def mrr_results(cells: Sequence[Mapping[str, Any]], spec: ExperimentSpec, alpha: float) -> dict:
    """MRR impact per treatment when the experiment measures new-booking MRR per user."""
    from include.stats import mrr_impact

    if MRR_METRIC not in {m.name for m in spec.metrics}:
        return {}
    arms = {v: _overall_cell(cells, MRR_METRIC, v) for v in spec.variant_names}
    total = sum(float(s.n) for s in arms.values())
    return {
        v: mrr_impact(arms[spec.control], s, n_total_users=total, alpha=alpha)
        for v, s in arms.items()
        if v != spec.control
    }


def daily_increments(
    days: Mapping[str, Sequence[Mapping[str, Any]]], spec: ExperimentSpec, metric: str
) -> dict[str, list[tuple[str, Any]]]:
    """{variant: [(day, stats added that day)]} from as-of-day cumulative overall rows.

    Each partition is the cumulative state as of its day, so the increment of a day is its
    state minus the previous available day's; the running sums of the increments reproduce
    every day's state exactly (even when a day revises an earlier classification).
    """
    from include.stats import SufficientStats

    out: dict[str, list[tuple[str, Any]]] = {v: [] for v in spec.variant_names}
    previous = {v: SufficientStats() for v in spec.variant_names}
    for day in sorted(days):
        rows = {r["variant"]: r for r in overall_rows(days[day])}
        for v in spec.variant_names:
            sums = metric_sums(rows.get(v, {}), metric)
            state = SufficientStats(**sums)
            out[v].append(
                (day, SufficientStats(**{f: sums[f] - getattr(previous[v], f) for f in SUM_FIELDS}))
            )
            previous[v] = state
    return out


def cumulative_series(
    days: Mapping[str, Sequence[Mapping[str, Any]]], spec: ExperimentSpec, alpha: float
) -> dict[str, dict[str, list[dict]]]:
    """{metric: {variant: cumulative_by_day rows}} for the cumulative-lift chart."""
    from include.stats import cumulative_by_day

    out: dict[str, dict[str, list[dict]]] = {}
    for m in spec.metrics:
        inc = daily_increments(days, spec, m.name)
        control = inc[spec.control]
        out[m.name] = {
            v: cumulative_by_day(
                [(d, c, t) for (d, c), (_, t) in zip(control, inc[v], strict=True)],
                STATS_TYPES[m.type],
                alpha,
            )
            for v in spec.variant_names
            if v != spec.control
        }
    return out


def build_result(
    spec: ExperimentSpec,
    run: ReadoutParams,
    rows: Sequence[Mapping[str, Any]],
    gates: Mapping[str, str],
    ds: str | None = None,
    coverage=None,
    series: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]] | None = None,
) -> dict[str, Any]:
    """Pure: aggregated rows of ds -> records, trust, verdict, CUPED and MRR.

    ``coverage``: :func:`coverage_check`'s result (None: not judged, e.g. before the start).
    ``series``: :func:`cumulative_series` (every look up to ds); with ``ds``, the decision
    rows' ``significant`` comes from the group sequential test (:func:`sequential_decisions`),
    without a series from the one look of ds.
    """
    from include.stats import build_readout, decide, run_trust_checks

    config = stats_config(spec, run.alpha)
    for name, cap in metric_cap_values(rows, spec).items():
        config["metrics"][name]["cap_value"] = cap
    cells = cells_from_rows(rows, spec, run.segments)
    records = build_readout(cells, config)
    with_open_units(records, rows, spec)
    if ds is not None:
        sequential_decisions(records, spec, ds, series, run.alpha)
    t = trust_inputs(rows, spec)
    trust = run_trust_checks(
        t["counts"],
        t["weights"],
        contaminated=t["contaminated"],
        duplicates=t["duplicates"],
        total_rows=t["total_rows"] or None,
        quality_gates=dict(gates),
        coverage=coverage,
    )
    verdict = decide(records, trust, verdict_rules(spec, ds))
    return {
        "config": config,
        "records": records,
        "trust": trust,
        "verdict": verdict,
        "counts": t["counts"],
        "weights": t["weights"],
        "cells": cells,
        "cuped": cuped_results(cells, spec, run.alpha),
        "mrr": mrr_results(cells, spec, run.alpha),
        "funnel": funnel_from_rows(rows, spec),
        "empty_state": empty_state(spec, ds, t["counts"], t["total_rows"]),
    }


def information_time(spec: ExperimentSpec, day: str) -> float:
    """The share of the planned experiment seen as of ``day``: calendar days from the start
    over the days to the decision day (the last look), so the decision day's readout spends
    the rest of alpha (``include.stats.sequential``); 1 on any later day."""
    total = (spec.decision_day - spec.start_date).days + 1
    seen = (date.fromisoformat(day) - spec.start_date).days + 1
    return min(max(seen, 1), total) / total


def sequential_decisions(
    records: list[dict[str, Any]],
    spec: ExperimentSpec,
    ds: str,
    series: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]] | None,
    alpha: float,
) -> None:
    """Make ``significant`` of the decision rows (primary and guardrail metrics of the
    overall segment) the group sequential test over every daily look up to ds (at most the
    decision day), at the family's Bonferroni level ``alpha / m``: valid however often the
    readout is read. A look
    counts once both arms reached ``min_sample_per_arm`` and its test ran (status ok).
    The fixed-horizon p-values and intervals stay in the row (what one look at this sample
    says, e.g. at the planned end). Adds ``row["sequential"]`` (look, information time, z,
    boundary, alpha spent, first look crossed) for the verdict's reasons and the page."""
    from collections import Counter

    from include.stats.readout import DECISION, GUARDRAIL, family_alpha, family_of
    from include.stats.sequential import sequential_test

    minimum = spec.readout.min_sample_per_arm
    # the last look is the decision day: after it the decision metrics no longer change (a
    # SaaS experiment's follow-up still runs), and the decision made there stands
    last = min(ds, spec.decision_day.isoformat())
    sizes = Counter(family_of(r["role"], r["segment"]) for r in records)
    for r in records:
        family = family_of(r["role"], r["segment"])
        if family not in (DECISION, GUARDRAIL) or r.get("p_value") is None:
            continue
        path = (series or {}).get(r["metric"], {}).get(r["variant"])
        if path is None:  # no history given: the one look of ds
            path = [{"day": last, "status": "ok", "statistic": r.get("statistic"),
                     "control_n": r["control_n"], "treatment_n": r["variant_n"]}]  # fmt: skip
        looks = [
            (p["day"], p["statistic"])
            for p in path
            if p["day"] <= last
            and p.get("status") == "ok"
            and p.get("statistic") is not None
            and min(p["control_n"] or 0, p["treatment_n"] or 0) >= minimum
        ]
        level = family_alpha(alpha, r["correction"], sizes[family])
        if not looks or looks[-1][0] != last:  # ds itself is no look: nothing to decide on
            r["significant"] = False
            continue
        res = sequential_test([information_time(spec, d) for d, _ in looks],
                              [z for _, z in looks], level)  # fmt: skip
        r["significant"] = res.significant
        r["sequential"] = {
            "look": res.looks, "time": res.time, "z": res.z, "boundary": res.boundary,
            "alpha": level, "alpha_spent": res.alpha_spent, "crossed_at": res.crossed_at,
        }  # fmt: skip


def empty_state(
    spec: ExperimentSpec, ds: str | None, counts: Mapping[str, float], exposed: float
) -> str | None:
    """One sentence for a readout without any unit in any arm (None once there is one):
    when the first units are due, and why. The page shows it instead of numbers."""
    from datetime import timedelta

    if ds is None or any(_num(n) > 0 for n in counts.values()):
        return None
    start = spec.start_date.isoformat()
    if ds < start:
        return f"The experiment starts on {start}; its first exposures are due that day."
    if spec.funnel == "shop":
        due = (spec.start_date + timedelta(days=spec.outcome_window_days - 1)).isoformat()
        seen = f"{int(exposed)} exposed visitors so far, none" if exposed else "No visitor yet"
        return (
            f"{seen} with a closed outcome window. A shop visitor counts once the "
            f"{spec.outcome_window_days}-day window after their first product view has "
            f"closed (seed 002), so the first units are due from {due} (exposures of "
            f"{start}, the start date, close then at the earliest)."
        )
    seen = f"{int(exposed)} exposed ids so far, none" if exposed else "No exposed id yet"
    return (
        f"{seen} an eligible visitor of the clean cohort (first exposure from {start}, "
        f"one variant, first id of the person). Units count from their exposure day, so "
        f"the next daily readout shows them as soon as one is exposed."
    )


# The logistic model's engagement predictor (gold.user_outcomes): browsing events in the
# window, not seed 002's engagement_intensity, which also counts the purchase's own steps.
ENGAGEMENT = "browsing_events"


def logit_design(patterns: Iterable[Mapping[str, Any]], spec: ExperimentSpec):
    """Covariate patterns -> the model's frame: ``treatment`` (two arms) or one
    ``treatment_<arm>`` indicator per non-control arm, ``browsing_events``, ``n`` and
    ``purchases``. Variants outside the config are left out."""
    import pandas as pd

    arms = [v for v in spec.variant_names if v != spec.control]
    columns = ["treatment"] if len(arms) == 1 else [f"treatment_{a}" for a in arms]
    rows = []
    for p in patterns:
        if p["variant"] not in spec.variant_names or p[ENGAGEMENT] is None:
            continue
        row = {c: float(p["variant"] == a) for c, a in zip(columns, arms, strict=True)}
        row.update({ENGAGEMENT: float(p[ENGAGEMENT]), "n": int(p["n"]),
                    "purchases": int(p["purchases"])})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*columns, ENGAGEMENT, "n", "purchases"])
    return frame, (*columns, ENGAGEMENT)


def logistic_result(patterns: Iterable[Mapping[str, Any]], spec: ExperimentSpec, alpha: float):
    """Seed 002's logistic model from covariate patterns (None for a non-shop funnel)."""
    from include.stats import logistic_regression_grouped

    if spec.funnel != "shop":
        return None
    frame, predictors = logit_design(patterns, spec)
    return logistic_regression_grouped(frame, predictors=predictors, alpha=alpha)


USAGE_LEVELS = ((0, 0, "none (0 days)"), (1, 4, "light (1-4 days)"),
                (5, 14, "regular (5-14 days)"), (15, 31, "heavy (15+ days)"))


def deep_dive_details(spec: ExperimentSpec, ds: str, agg: Mapping[str, Sequence[Mapping]],
                      alpha: float):
    """Pure: the details table's aggregates -> DeepDiveDetails (None without any row).

    ``agg`` holds lists of dicts: ``retention`` (variant, m1_n, m1_k, m2_n, m2_k),
    ``cohorts`` (the same plus signup_cohort), ``segments`` (dimension, segment, variant, n,
    conversions) and ``promo`` (promo_type, converted users).
    """
    import pandas as pd

    from include.report import DeepDiveDetails
    from include.stats import SufficientStats, compare

    def rates(rows, keys):
        out = []
        for r in rows:
            for period in (1, 2):
                n, k = int(r[f"m{period}_n"] or 0), int(r[f"m{period}_k"] or 0)
                if n:
                    out.append({**{key: r[key] for key in keys}, "period": period,
                                "rate": k / n, "users": n})
        return out

    variants = set(spec.variant_names)
    retention = [r for r in rates(agg.get("retention", []), ("variant",))
                 if r["variant"] in variants]
    cohorts = [{**r, "cohort": r.pop("signup_cohort")}
               for r in rates(agg.get("cohorts", []), ("variant", "signup_cohort"))
               if r["variant"] in variants and r["signup_cohort"]]
    by_key = {(r["dimension"], r["segment"], r["variant"]): r for r in agg.get("segments", [])
              if r["variant"] in variants and r["segment"] is not None}
    segments = []
    for (dimension, segment, variant), r in sorted(by_key.items()):
        n, k = int(r["n"]), int(r["conversions"] or 0)
        row = {"dimension": dimension, "segment": segment, "variant": variant, "n": n,
               "mean": k / n if n else math.nan, "rel_lift": math.nan,
               "rel_ci_low": math.nan, "rel_ci_high": math.nan}
        c = by_key.get((dimension, segment, spec.control))
        if variant != spec.control and c is not None and n and int(c["n"]):
            res = compare(SufficientStats.from_counts(int(c["n"]), int(c["conversions"] or 0)),
                          SufficientStats.from_counts(n, k), "conversion", alpha)
            row.update(rel_lift=_finite(res.rel_lift), rel_ci_low=_finite(res.rel_ci_low),
                       rel_ci_high=_finite(res.rel_ci_high))
        segments.append(row)
    promo = sorted(agg.get("promo", []), key=lambda r: -int(r["users"]))
    total = sum(int(r["users"]) for r in promo)
    notes = [f"Retention counts converted users whose M1 / M2 instant has passed as of {ds}."]
    if total:
        mix = ", ".join(f"{r['promo_type'] or 'no promo'} {int(r['users']) / total:.0%}"
                        for r in promo)
        notes.append(f"Promo type of the {total} converting paid starts: {mix}.")
    if not (retention or cohorts or segments):
        return None
    return DeepDiveDetails(
        experiment=spec.name, ds=ds, control=spec.control,
        retention=pd.DataFrame(retention) if retention else None,
        cohorts=pd.DataFrame(cohorts) if cohorts else None,
        segments=pd.DataFrame(segments) if segments else None,
        metric_label="Conversion rate (eligible visitors)", metric_type="conversion",
        notes=tuple(notes),
    )


def _finite(value) -> float:
    value = float(value) if value is not None else math.nan
    return value if math.isfinite(value) else math.nan


def readout_rows(
    spec: ExperimentSpec,
    ds: str,
    result: Mapping[str, Any],
    versions: Mapping[str, int],
    run: str = DAILY,
    logistic=None,
) -> list[dict[str, Any]]:
    """gold.readouts rows of one run: every record, then the diagnostics the page shows
    (:func:`diagnostic_rows`: sample ratio, CUPED, MRR impact, the logistic model), each
    with the verdict, trust status and input versions. ``readout_id``: slice and ds."""
    name = readout_name(spec.name, run)
    verdict, trust = result["verdict"], result["trust"]
    return [
        {
            "readout": name,
            "readout_id": f"{name}:{ds}",
            **r,
            "verdict": verdict.verdict,
            "verdict_reasons": json.dumps(list(verdict.reasons)),
            "trust_status": trust.status,
            "input_versions": dict(versions),
            "ds": ds,
        }
        for r in [*record_fields(result["records"]), *diagnostic_rows(spec, result, logistic)]
    ]


def record_fields(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The records as table rows: the columns of RECORD_FIELDS only."""
    from include.stats import RECORD_FIELDS

    return [{k: r.get(k) for k in RECORD_FIELDS} for r in records]


def diagnostic_rows(spec: ExperimentSpec, result: Mapping[str, Any], logistic=None) -> list:
    """The page's other results as gold.readouts rows (role ``diagnostic``, segment overall),
    so a query finds them without the HTML: ``metric`` says which, ``test`` how.

    * ``sample_ratio``: variant ``all``; ``statistic`` = chi-square against the configured
      weights, ``df``, ``p_value``; ``status`` = the check's pass / warn / fail.
    * ``cuped:<metric>``: per treatment arm, the CUPED-adjusted Welch test (lift, interval,
      p-value); ``control_mean`` / ``variant_mean`` the adjusted means.
    * ``mrr_impact``: per treatment arm, new-booking MRR per exposed user (``abs_lift`` and
      interval) and, in ``rel_*``, nothing (MRR has no relative form here); the monthly and
      annual scalings stay on the page.
    * ``logit:<term>``: seed 002's model, one row per treatment term and for
      browsing_events: ``abs_lift`` = the coefficient (log-odds), its interval,
      ``statistic`` = z, ``rel_lift`` = the odds ratio - 1.
    """
    from include.stats import RECORD_FIELDS, srm_test

    base = {k: None for k in RECORD_FIELDS} | {
        "experiment": spec.name, "role": "diagnostic", "segment": OVERALL,
        "control_variant": spec.control, "alpha": result["config"]["alpha"],
    }  # fmt: skip
    rows = []
    counts, weights = result["counts"], result["weights"]
    srm = next((c for c in result["trust"].checks if c.name == "sample_ratio_mismatch"), None)
    if srm is not None and srm.value is not None:
        names = sorted(weights)
        res = srm_test([counts.get(v, 0) for v in names], [weights[v] for v in names])
        rows.append(base | {
            "metric": "sample_ratio", "metric_type": "trust", "variant": "all",
            "test": "chi2_goodness_of_fit", "statistic": res.statistic, "df": float(res.df),
            "p_value": res.p_value, "control_n": _count_or_none(counts.get(spec.control)),
            "status": srm.status,
        })  # fmt: skip
    for label, res in result["cuped"].items():
        metric, variant = label.split(" · ")
        adj = res.adjusted
        rows.append(base | {
            "metric": f"cuped:{metric}", "metric_type": "mean", "variant": variant,
            "test": "cuped_welch", "control_n": _count_or_none(adj.control_n),
            "variant_n": _count_or_none(adj.treatment_n),
            "control_mean": _or_null(adj.control_mean),
            "variant_mean": _or_null(adj.treatment_mean), "abs_lift": _or_null(adj.abs_lift),
            "abs_ci_low": _or_null(adj.abs_ci_low), "abs_ci_high": _or_null(adj.abs_ci_high),
            "statistic": _or_null(adj.statistic), "df": _or_null(adj.df),
            "std_error": _or_null(adj.std_error), "p_value": _or_null(adj.p_value),
            "status": str(res.status),
        })  # fmt: skip
    for variant, res in result["mrr"].items():
        rows.append(base | {
            "metric": "mrr_impact", "metric_type": "revenue", "variant": variant,
            "test": "welch_t", "abs_lift": _or_null(res.per_user.estimate),
            "abs_ci_low": _or_null(res.per_user.low), "abs_ci_high": _or_null(res.per_user.high),
            "variant_n": _count_or_none(res.n_treatment_users), "p_value": _or_null(res.p_value),
            "status": res.status,
        })  # fmt: skip
    if logistic is not None and logistic.status == "ok":
        for c in logistic.coefficients:
            if c.name == "const":
                continue
            variant = c.name.removeprefix("treatment_") if c.name.startswith("treatment") else "all"
            rows.append(base | {
                "metric": f"logit:{c.name}", "metric_type": "logistic", "variant": variant,
                "test": "logistic_regression", "abs_lift": c.coef, "abs_ci_low": c.ci_low,
                "abs_ci_high": c.ci_high, "statistic": c.z, "std_error": c.std_err,
                "p_value": c.p_value, "rel_lift": c.odds_ratio - 1, "status": logistic.status,
                "control_n": int(logistic.n_obs),
            })  # fmt: skip
    return rows


def _count_or_none(value: Any) -> int | None:
    number = _or_null(value)
    return None if number is None else int(number)


def _or_null(value: Any) -> float | None:
    """A plain float, or None for NaN / inf / None (the table gets a null, never a NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def bundle_for(spec, ds: str, result: Mapping[str, Any], cumulative: Mapping, versions,
               logistic=None, deep_dive=None):
    from include.report import ReadoutBundle

    return ReadoutBundle(
        experiment=spec.name,
        ds=ds,
        records=result["records"],
        trust=result["trust"],
        verdict=result["verdict"],
        variants=list(spec.variant_names),
        control=spec.control,
        hypothesis=spec.hypothesis,
        start_date=spec.start_date.isoformat(),
        end_date=spec.end_date.isoformat(),
        final_day=spec.final_day.isoformat(),
        decision_day=spec.decision_day.isoformat(),
        config=result["config"],
        assignment_counts=result["counts"],
        weights=result["weights"],
        cumulative=cumulative,
        funnel=result["funnel"],
        cuped=result["cuped"],
        mrr=result["mrr"],
        table_versions=dict(versions),
        logistic=logistic,
        deep_dive=deep_dive,
        empty_state=result.get("empty_state"),
    )


# --------------------------------------------------------------------------- I/O edge
def window_start(spec: ExperimentSpec, ds: str) -> str | None:
    """First partition of the cumulative chart (None if ds is before the experiment)."""
    day = date.fromisoformat(ds)
    return None if day < spec.start_date else spec.start_date.isoformat()


def _pinned(spark, contract, settings) -> tuple[DataFrame | None, int | None]:
    """The table at its current Delta version, and that version (None if no table yet)."""
    from include.tables import table_exists, table_location, table_version

    if not table_exists(spark, contract, settings):
        return None, None
    version = table_version(spark, contract, settings)
    df = (
        spark.read.format("delta")
        .option("versionAsOf", version)
        .load(table_location(contract, settings))
    )
    return df, version


def _details_aggregates(spark, spec, ds: str, settings, versions: dict) -> dict | None:
    """Counts for the deep-dive page from gold.{experiment}_details (pinned) as of ds."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import contract_for

    if spec.funnel != "saas":
        return None
    contract = contract_for(spec.name, "details")
    df, version = _pinned(spark, contract, settings)
    if df is None:
        return None
    versions[contract.qualified_name] = version
    part = keep(df.where((F.col("ds") == ds) & (F.col("experiment") == spec.name)))
    try:
        retained = [F.count(f"m{p}_retained").alias(f"m{p}_n") for p in (1, 2)] + [
            F.sum(f"m{p}_retained").alias(f"m{p}_k") for p in (1, 2)
        ]
        converted = part.where(F.col("is_converted") == 1)
        level = F.lit(None).cast("string")
        for lo, hi, label in USAGE_LEVELS:
            level = F.when(F.col("usage_days").between(lo, hi), label).otherwise(level)
        usage = part.where(F.col("usage_window_complete")).withColumn("segment", level)
        seg = [F.count(F.lit(1)).alias("n"), F.sum("is_converted").alias("conversions")]
        segments = [
            r.asDict() for frame, dim in (
                (part.withColumn("segment", F.col("tenure_bucket")), "tenure_bucket"),
                (usage, "usage_level"),
            ) for r in frame.groupBy("variant", "segment").agg(*seg)
            .withColumn("dimension", F.lit(dim)).collect()
        ]
        return {
            "retention": [r.asDict() for r in converted.groupBy("variant").agg(*retained)
                          .collect()],
            "cohorts": [r.asDict() for r in converted.groupBy("variant", "signup_cohort")
                        .agg(*retained).collect()],
            "segments": segments,
            "promo": [r.asDict() for r in converted.groupBy("promo_type")
                      .agg(F.count(F.lit(1)).alias("users")).collect()],
        }
    finally:
        part.unpersist()


def _logit_patterns(spark, spec, ds: str, settings, versions: dict) -> list[dict]:
    """Covariate patterns of the clean cohort in gold.user_outcomes (pinned) as of ds."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_OUTCOMES

    df, version = _pinned(spark, USER_OUTCOMES, settings)
    if df is None:
        return []
    versions[USER_OUTCOMES.qualified_name] = version
    clean = df.where(
        (F.col("ds") == ds) & (F.col("experiment") == spec.name)
        & (F.col("contamination_flag") == "Not Contaminated") & F.col("window_complete")
    )
    grouped = clean.groupBy("variant", ENGAGEMENT).agg(
        F.count(F.lit(1)).alias("n"), F.sum("purchased").alias("purchases")
    )
    return [r.asDict() for r in grouped.collect()]


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from pyspark.sql import functions as F

    from include.report import write_report
    from include.table_catalog import QUALITY_RESULTS, READOUTS
    from include.table_catalog_experiments import contract_for
    from include.tables import validate_ds, write_partition

    validate_ds(ds)
    name = (params or {}).get("experiment")
    if not name:
        raise ValueError(f'{JOB}: params must name the experiment: {{"experiment": "<name>"}}')
    spec = load_experiment(name)
    spec.require_open(ds)
    run = parse_params(params, spec)
    readout = readout_name(spec.name, run.run)
    aggregated = contract_for(spec.name, "aggregated")

    versions: dict[str, int] = {}
    agg_df, agg_version = _pinned(spark, aggregated, settings)
    rows: list[dict] = []
    days: dict[str, list[dict]] = {}
    lo = window_start(spec, ds)
    if agg_df is not None:
        versions[aggregated.qualified_name] = agg_version
        rows = [r.asDict() for r in agg_df.where(F.col("ds") == ds).collect()]
        if lo is not None:
            history = agg_df.where(F.col("ds").between(lo, ds) & (F.col("segment") == OVERALL))
            for r in history.collect():
                days.setdefault(r["ds"], []).append(r.asDict())
    qr_df, qr_version = _pinned(spark, QUALITY_RESULTS, settings)
    gates: dict[str, str] = {}
    gate_rows: list[dict] = []
    if qr_df is not None:
        versions[QUALITY_RESULTS.qualified_name] = qr_version
        wanted = sorted(set(gate_suites(spec)) | set(coverage_suites(spec)))
        gate_rows = [
            r.asDict()
            for r in qr_df.where(
                F.col("ds").between(lo or ds, ds) & F.col("suite").isin(*wanted)
            )
            .select("ds", "suite", "success", "severity")
            .collect()
        ]
        gates = gate_statuses((r for r in gate_rows if r["ds"] == ds), gate_suites(spec))
    coverage = coverage_check(spec, ds, gate_rows)

    logistic = None
    if spec.funnel == "shop":
        logistic = logistic_result(
            _logit_patterns(spark, spec, ds, settings, versions), spec, run.alpha
        )
    details = _details_aggregates(spark, spec, ds, settings, versions)
    deep_dive = deep_dive_details(spec, ds, details, run.alpha) if details else None
    cumulative = cumulative_series(days, spec, run.alpha)
    result = build_result(spec, run, rows, gates, ds, coverage, cumulative)
    out_rows = readout_rows(spec, ds, result, versions, run.run, logistic)
    df = spark.createDataFrame(out_rows, READOUTS.spark_schema())
    out = write_partition(spark, df, READOUTS, ds, settings, {"readout": readout})
    bundle = bundle_for(spec, ds, result, cumulative, versions, logistic, deep_dive)
    reports = settings.reports_dir / "experiments"
    # a run by hand: its own page (reports/experiments/runs/<run>/<name>/<ds>/)
    paths = write_report(bundle, reports if run.run == DAILY else reports / "runs" / run.run)
    return JobResult(
        job=JOB,
        ds=ds,
        rows_in=len(rows),
        rows_out=out["rows"],
        versions={**versions, READOUTS.qualified_name: out["version"]},
        extra={
            "experiment": spec.name,
            "readout": readout,
            "verdict": result["verdict"].verdict,
            "trust": result["trust"].status,
            "alpha": run.alpha,
            "segments": list(run.segments),
            "reports": {k: str(v) for k, v in paths.items()},
            **({"logistic": _logit_summary(logistic)} if logistic is not None else {}),
        },
    )


def _logit_summary(res) -> dict[str, Any]:
    out: dict[str, Any] = {"status": res.status, "n": res.n_obs}
    for c in res.coefficients:
        if c.name.startswith("treatment"):
            out[c.name] = {"odds_ratio": round(c.odds_ratio, 4), "p_value": c.p_value}
    return out
