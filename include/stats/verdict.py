"""The verdict: ship / do not ship / keep running / invalid, from explicit rules.

Rules, in order (the first that applies decides, and every rule that was checked leaves a
human-readable reason):

1. ``invalid`` if the trust checks failed (SRM, contamination, duplicates, quality gates).
2. ``keep_running`` if the primary metric has no usable overall result, or any arm has
   fewer than ``min_sample_per_arm`` units (no decision before the minimum sample, even
   when something looks significant: that is peeking).
3. Per treatment variant, on the overall segment:
   * ``do_not_ship`` if a guardrail moved significantly in its harmful direction;
   * ``ship`` if the primary metric is significant after correction and moved in its good
     direction;
   * ``do_not_ship`` if the primary metric is significantly worse;
   * otherwise ``keep_running`` while arms are below ``planned_sample_per_arm``, and
     ``do_not_ship`` (no detectable effect) once the planned sample is reached.
4. Across variants: ``ship`` if any variant ships (the one with the largest primary lift),
   else ``keep_running`` if any variant should keep running, else ``do_not_ship``.

"Significant" is the readout row's ``significant`` flag, i.e. after the multiple-testing
correction the readout was built with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from include.stats.trust import TrustResult

SHIP, DO_NOT_SHIP, KEEP_RUNNING, INVALID = "ship", "do_not_ship", "keep_running", "invalid"

DEFAULT_VERDICT_CONFIG: dict[str, Any] = {
    "min_sample_per_arm": 1000,
    "planned_sample_per_arm": None,  # None: same as min_sample_per_arm
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
    if not trust.passed:
        return Verdict(INVALID, None, ("trust checks failed", *trust.reasons))
    reasons = [f"trust checks: {trust.status}"] + [f"warning: {r}" for r in trust.reasons]
    overall = [r for r in records if r.get("segment") == cfg["overall_segment"]]
    primary = [r for r in overall if r.get("role") == "primary"]
    usable = [r for r in primary if r.get("p_value") is not None]
    if not usable:
        return Verdict(KEEP_RUNNING, None, (*reasons, "no usable primary-metric result yet"))
    short = _below_minimum(usable, int(cfg["min_sample_per_arm"]))
    if short:
        return Verdict(KEEP_RUNNING, None, (*reasons, short))
    planned = cfg["planned_sample_per_arm"] or cfg["min_sample_per_arm"]
    per_variant = {r["variant"]: _variant_verdict(r, overall, int(planned)) for r in usable}
    return _combine(per_variant, {r["variant"]: r for r in usable}, reasons)


def _variant_verdict(
    primary: Mapping[str, Any], overall: Sequence[Mapping[str, Any]], planned: int
) -> tuple[str, list[str]]:
    variant, metric = primary["variant"], primary["metric"]
    harmed = [
        r
        for r in overall
        if r.get("variant") == variant and r.get("role") == "guardrail" and _harmful(r)
    ]
    if harmed:
        names = ", ".join(f"{r['metric']} ({_fmt_lift(r)})" for r in harmed)
        return DO_NOT_SHIP, [f"{variant}: guardrail significantly worse: {names}"]
    lift = _fmt_lift(primary)
    if primary.get("significant") and _good(primary):
        adjusted = primary["p_value_adjusted"]
        why = (
            f"{variant}: primary {metric} significantly better ({lift}, adjusted p={adjusted:.4g})"
        )
        return SHIP, [why]
    if primary.get("significant"):
        return DO_NOT_SHIP, [f"{variant}: primary {metric} significantly worse ({lift})"]
    n_min = min(primary.get("control_n") or 0, primary.get("variant_n") or 0)
    if n_min < planned:
        why = f"{variant}: primary {metric} not significant yet ({int(n_min)} of {planned} units)"
        return KEEP_RUNNING, [why]
    why = f"{variant}: no significant effect on {metric} at the planned sample ({lift})"
    return DO_NOT_SHIP, [why]


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
