"""The verdict: ship / do not ship / keep running / invalid, from explicit rules.

Rules, in order (the first that applies decides, and every rule that was checked leaves a
human-readable reason):

0. ``blocked`` if the data coverage check failed (``trust.check_coverage``: a day of the
   experiment's span is missing or was rejected at a gate): the reason names the days.
1. ``invalid`` if the trust checks failed (SRM, contamination, duplicates, quality gates),
   or if any readout row has ``status = "invalid_input"`` (NaN, infinite or negative sums,
   or a variance below their rounding error): the reason names each such metric, variant
   and segment. Garbage in one cell blocks the whole decision.
2. ``keep_running`` if the primary metric has no usable overall result, or any arm has
   fewer than ``min_sample_per_arm`` units (no decision before the minimum sample, even
   when something looks significant: that is peeking).
3. Per treatment variant, on the overall segment, over *every* primary metric:
   * ``do_not_ship`` if a guardrail moved significantly in its harmful direction;
   * ``do_not_ship`` if any primary metric is significantly worse;
   * ``ship`` if a primary metric is significant after correction and moved in its good
     direction (and none is significantly worse);
   * otherwise ``keep_running`` while some primary metric is not yet *conclusive*, and
     ``do_not_ship`` (no detectable effect) once all are. A flat primary result is
     conclusive when the arms reached ``planned_sample_per_arm`` (if the config sets
     one), else when the test had the target power (``power``, 80 %) to detect the
     metric's effect of interest (the row's ``power``), or in any case once the
     experiment reached its planned end (``window_ended``: the experiment readout sets it
     on the final day, the sequential test's last look). So a test on 1,000 users with a
     131 % MDE does not call a 90-day experiment flat on its third day.
4. Across variants: ``ship`` if any variant ships (the one with the largest primary lift),
   else ``keep_running`` if any variant should keep running, else ``do_not_ship``.

"Significant" is the readout row's ``significant`` flag. The experiment readout sets it for
primary and guardrail metrics from the group sequential test over every daily look
(``readouts.experiment.sequential_decisions``, ``include.stats.sequential``), so a daily
verdict keeps its error rate however often it is read; otherwise it is the flag after the
multiple-testing correction the readout was built with, within the row's family
(``readout.family_of``: primaries of the overall segment form the decision family), and a
row's ``power`` is at that family's corrected level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from include.stats.frequentist import STATUS_INVALID
from include.stats.trust import COVERAGE, FAIL, TrustResult

SHIP, DO_NOT_SHIP, KEEP_RUNNING, INVALID = "ship", "do_not_ship", "keep_running", "invalid"
BLOCKED = "blocked"  # the data does not cover every day it should (trust.check_coverage)

DEFAULT_VERDICT_CONFIG: dict[str, Any] = {
    "min_sample_per_arm": 1000,
    "planned_sample_per_arm": None,  # None: conclusive when powered (see the rules above)
    "power": 0.8,
    "window_ended": False,
    "overall_segment": "overall",
}


@dataclass(frozen=True)
class Verdict:
    """The decision, the variant it refers to (if any) and why."""

    verdict: str
    variant: str | None
    reasons: tuple[str, ...] = field(default_factory=tuple)


def decide(
    records: Sequence[Mapping[str, Any]],
    trust: TrustResult,
    config: Mapping[str, Any] | None = None,
) -> Verdict:
    """Apply the rules above to readout rows (from ``build_readout``) and trust checks."""
    cfg = {**DEFAULT_VERDICT_CONFIG, **(config or {})}
    coverage = next((c for c in trust.checks if c.name == COVERAGE), None)
    if coverage is not None and coverage.status == FAIL:
        others = tuple(c.reason for c in trust.checks if c.status == FAIL and c is not coverage)
        return Verdict(BLOCKED, None, (coverage.reason, *others))
    if not trust.passed:
        return Verdict(INVALID, None, ("trust checks failed", *trust.reasons))
    garbage = [r for r in records if r.get("status") == STATUS_INVALID]
    if garbage:
        cells = ", ".join(
            f"{r.get('metric')} ({r.get('variant')}, {r.get('segment')})" for r in garbage
        )
        return Verdict(INVALID, None, (f"invalid input, not tested: {cells}",))
    reasons = [f"trust checks: {trust.status}"] + [f"warning: {r}" for r in trust.reasons]
    if coverage is not None:
        reasons.append(coverage.reason)  # what the data covers, in every verdict
    overall = [r for r in records if r.get("segment") == cfg["overall_segment"]]
    primary = [r for r in overall if r.get("role") == "primary"]
    usable = [r for r in primary if r.get("p_value") is not None]
    if not usable:
        return Verdict(KEEP_RUNNING, None, (*reasons, "no usable primary-metric result yet"))
    short = _below_minimum(usable, int(cfg["min_sample_per_arm"]))
    if short:
        return Verdict(KEEP_RUNNING, None, (*reasons, short))
    by_variant: dict[str, list[Mapping[str, Any]]] = {}
    for r in usable:
        by_variant.setdefault(r["variant"], []).append(r)
    per_variant = {v: _variant_verdict(rows, overall, cfg) for v, rows in by_variant.items()}
    # several variants ship: the largest lift on the first primary metric (config order)
    return _combine(per_variant, {v: rows[0] for v, rows in by_variant.items()}, reasons)


def _variant_verdict(
    primaries: Sequence[Mapping[str, Any]],
    overall: Sequence[Mapping[str, Any]],
    cfg: Mapping[str, Any],
) -> tuple[str, list[str]]:
    variant = primaries[0]["variant"]
    harmed = [
        r
        for r in overall
        if r.get("variant") == variant and r.get("role") == "guardrail" and _harmful(r)
    ]
    if harmed:
        names = ", ".join(f"{r['metric']} ({_fmt_lift(r)}, {_evidence(r)})" for r in harmed)
        return DO_NOT_SHIP, [f"{variant}: guardrail significantly worse: {names}"]
    worse = [r for r in primaries if r.get("significant") and not _good(r)]
    if worse:
        names = ", ".join(f"{r['metric']} ({_fmt_lift(r)}, {_evidence(r)})" for r in worse)
        return DO_NOT_SHIP, [f"{variant}: primary significantly worse: {names}"]
    better = [r for r in primaries if r.get("significant") and _good(r)]
    if better:
        return SHIP, [
            f"{variant}: primary {r['metric']} significantly better ({_fmt_lift(r)}, "
            f"{_evidence(r)})"
            for r in better
        ]
    pending = [r for r in primaries if not _conclusive(r, cfg)]
    if pending:
        return KEEP_RUNNING, [f"{variant}: {_pending_reason(r, cfg)}" for r in pending]
    why = "at the planned end" if cfg["window_ended"] else "with the test powered"
    names = ", ".join(f"{r['metric']} ({_fmt_lift(r)})" for r in primaries)
    return DO_NOT_SHIP, [f"{variant}: no significant effect {why}: {names}"]


def _evidence(row: Mapping[str, Any]) -> str:
    """Why a row counts as significant: its sequential test when the readout ran one
    (``readouts.experiment.sequential_decisions``), else its adjusted p-value."""
    seq = row.get("sequential")
    if seq and seq.get("crossed_at"):
        return (
            f"sequential test: |z| reached the boundary at look {seq['crossed_at']} of "
            f"{seq['look']}; now z={seq['z']:.2f} vs {seq['boundary']:.2f} at information "
            f"{seq['time']:.0%}, alpha {seq['alpha']:.3g}"
        )
    return f"adjusted p={row['p_value_adjusted']:.4g}"


def _n_min(row: Mapping[str, Any]) -> int:
    return int(min(row.get("control_n") or 0, row.get("variant_n") or 0))


def _conclusive(row: Mapping[str, Any], cfg: Mapping[str, Any]) -> bool:
    """A flat primary result that settles the question (see rule 3)."""
    if cfg["window_ended"]:
        return True
    if cfg["planned_sample_per_arm"]:
        return _n_min(row) >= int(cfg["planned_sample_per_arm"])
    power = row.get("power")
    return power is not None and not math.isnan(power) and power >= cfg["power"]


def _pending_reason(row: Mapping[str, Any], cfg: Mapping[str, Any]) -> str:
    metric, n = row["metric"], _n_min(row)
    seq = row.get("sequential")
    if seq:
        return (
            f"primary {metric} not significant yet: sequential test z={seq['z']:.2f} within "
            f"the boundary {seq['boundary']:.2f} at information {seq['time']:.0%} ({n} units "
            "per arm)"
        )
    if cfg["planned_sample_per_arm"]:
        planned = int(cfg["planned_sample_per_arm"])
        return f"primary {metric} not significant yet ({n} of {planned} units)"
    power = row.get("power")
    shown = "undefined" if power is None or math.isnan(power) else f"{power:.0%}"
    return (
        f"primary {metric} not significant yet and underpowered ({n} units per arm, power "
        f"{shown} < {cfg['power']:.0%} for its effect of interest)"
    )


def _combine(
    per_variant: Mapping[str, tuple[str, list[str]]],
    primary: Mapping[str, Mapping[str, Any]],
    reasons: list[str],
) -> Verdict:
    for _, why in per_variant.values():
        reasons.extend(why)
    shipping = [v for v, (verdict, _) in per_variant.items() if verdict == SHIP]
    if shipping:
        best = max(shipping, key=lambda v: _signed_lift(primary[v]))
        return Verdict(SHIP, best, tuple(reasons))
    if any(verdict == KEEP_RUNNING for verdict, _ in per_variant.values()):
        return Verdict(KEEP_RUNNING, None, tuple(reasons))
    return Verdict(DO_NOT_SHIP, None, tuple(reasons))


def _below_minimum(rows: Sequence[Mapping[str, Any]], minimum: int) -> str | None:
    smallest = min(min(r.get("control_n") or 0, r.get("variant_n") or 0) for r in rows)
    if smallest < minimum:
        return f"minimum sample not reached: {int(smallest)} of {minimum} units per arm"
    return None


def _signed_lift(row: Mapping[str, Any]) -> float:
    """Lift oriented so that positive is good for the metric."""
    lift = float(row.get("abs_lift") or 0.0)
    return lift if row.get("higher_is_better", True) else -lift


def _good(row: Mapping[str, Any]) -> bool:
    return _signed_lift(row) > 0


def _harmful(row: Mapping[str, Any]) -> bool:
    return bool(row.get("significant")) and _signed_lift(row) < 0


def _fmt_lift(row: Mapping[str, Any]) -> str:
    rel = row.get("rel_lift")
    if rel is not None:
        return f"relative lift {rel:+.2%}"
    return f"absolute lift {float(row.get('abs_lift') or 0.0):+.4g}"
