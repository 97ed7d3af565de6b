"""Trust checks that run before any lift is believed.

* Sample-ratio mismatch (SRM): Pearson chi-square goodness of fit of the observed units
  per variant against the configured traffic weights,
  ``X^2 = sum (O_i - E_i)^2 / E_i``, ``E_i = N w_i / sum(w)``, ``k - 1`` degrees of freedom.
  A p-value below ``srm_alpha`` (0.001 by default: SRM checks run on every readout, so the
  threshold is strict) fails the experiment; below ``srm_warn_alpha`` only warns.
* Contamination rate (units exposed to more than one variant) and duplicate rate (extra
  rows for one unit) against configured maxima: above the maximum fails, above the warning
  level warns.
* Quality-gate results from the pipeline (``{"gate name": "pass" | "warn" | "fail"}``).
* Data coverage (``check_coverage``): every day the readout's data spans passed the daily
  gates of its sources; a missing or rejected day fails, naming the days.

The overall status is the worst of the individual ones; every non-pass carries a reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as st

PASS, WARN, FAIL = "pass", "warn", "fail"
_SEVERITY = {PASS: 0, WARN: 1, FAIL: 2}

DEFAULT_TRUST_CONFIG: dict[str, float] = {
    "srm_alpha": 0.001,
    "srm_warn_alpha": 0.01,
    "max_contamination_rate": 0.05,
    "warn_contamination_rate": 0.02,
    "max_duplicate_rate": 0.05,
    "warn_duplicate_rate": 0.02,
}


@dataclass(frozen=True)
class CheckResult:
    """One check: its status, the measured value, the thresholds and a human reason."""

    name: str
    status: str
    value: float | None
    threshold: float | None
    reason: str


@dataclass(frozen=True)
class TrustResult:
    """All checks plus the worst status and the reasons of everything that did not pass."""

    status: str
    checks: tuple[CheckResult, ...]
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """True unless some check failed (warnings still let a readout be used)."""
        return self.status != FAIL


@dataclass(frozen=True)
class SrmResult:
    """Chi-square goodness-of-fit outcome for the variant split."""

    statistic: float
    p_value: float
    df: int
    observed: tuple[float, ...]
    expected: tuple[float, ...]


def srm_test(observed: Sequence[float], weights: Sequence[float]) -> SrmResult:
    """Chi-square goodness of fit of counts per variant vs configured weights.

    With no units at all the split cannot be judged: ``statistic = 0``, ``p_value = 1``.
    """
    obs = np.asarray(observed, dtype=float)
    w = np.asarray(weights, dtype=float)
    if obs.shape != w.shape or obs.ndim != 1 or obs.size < 2:
        raise ValueError("observed and weights must be 1-D of equal length >= 2")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(obs))):
        raise ValueError("weights and counts must be finite numbers")
    if np.any(w <= 0) or np.any(obs < 0):
        raise ValueError("weights must be positive and counts non-negative")
    total = obs.sum()
    expected = total * w / w.sum()
    if total == 0:
        return SrmResult(0.0, 1.0, obs.size - 1, tuple(obs), tuple(expected))
    stat = float(np.sum((obs - expected) ** 2 / expected))
    p_value = float(st.chi2.sf(stat, obs.size - 1))
    return SrmResult(stat, p_value, obs.size - 1, tuple(obs), tuple(expected))


def check_srm(
    counts: Mapping[str, float], weights: Mapping[str, float], config: Mapping[str, Any]
) -> CheckResult:
    """SRM as a pass/warn/fail check (variants matched by name)."""
    missing = set(weights) ^ set(counts)
    if missing:
        return CheckResult(
            "sample_ratio_mismatch",
            FAIL,
            None,
            None,
            f"variants differ between assignment counts and configured weights: {sorted(missing)}",
        )
    names = sorted(weights)
    bad = _bad_split_input(counts, weights, names)
    if bad:
        return CheckResult("sample_ratio_mismatch", FAIL, None, None, f"invalid input: {bad}")
    if sum(float(counts[v]) for v in names) == 0:
        # nothing to judge: not a pass (a green "p = 1.00" over zero users misleads)
        return CheckResult(
            "sample_ratio_mismatch", WARN, None, float(config["srm_alpha"]),
            "no units in any variant yet: the split cannot be judged",
        )
    res = srm_test([counts[v] for v in names], [weights[v] for v in names])
    fail_at, warn_at = float(config["srm_alpha"]), float(config["srm_warn_alpha"])
    split = ", ".join(f"{v}={int(counts[v])}" for v in names)
    if res.p_value < fail_at:
        status, reason = FAIL, f"sample ratio mismatch: p={res.p_value:.2e} < {fail_at} ({split})"
    elif res.p_value < warn_at:
        status, reason = WARN, f"possible sample ratio mismatch: p={res.p_value:.2e} ({split})"
    else:
        status, reason = PASS, f"split consistent with weights: p={res.p_value:.3f}"
    return CheckResult("sample_ratio_mismatch", status, res.p_value, fail_at, reason)


def _bad_split_input(
    counts: Mapping[str, float], weights: Mapping[str, float], names: Sequence[str]
) -> str | None:
    """Why the split cannot be judged from these inputs, or None. A NaN weight used to pass
    the check (every comparison with NaN is false) and a NaN count crashed it."""
    for v in names:
        try:
            w, n = float(weights[v]), float(counts[v])
        except (TypeError, ValueError):
            return f"variant {v}: weight {weights[v]!r} or count {counts[v]!r} is not a number"
        if not (np.isfinite(w) and w > 0):
            return f"variant {v}: weight {w} is not a positive number"
        if not (np.isfinite(n) and n >= 0 and n.is_integer()):
            return f"variant {v}: unit count {n} is not a count"
    return None


COVERAGE = "data_coverage"
_LISTED_DAYS = 10  # days named in a coverage reason (the count says how many in all)


def check_coverage(
    first_day: str,
    last_day: str,
    statuses_by_day: Mapping[str, Mapping[str, str]],
    suites: Sequence[str],
) -> CheckResult:
    """Which days a readout's data covers: every day of ``[first_day, last_day]`` (ISO
    dates) must hold a result of each of ``suites`` (the daily gates of the sources it
    reads) and none of them ``fail``. A day rejected at a gate (its partition restored) or
    never run is absent from the experiment-to-date tables without a trace there; this
    check fails on it, naming the days, so the verdict cannot decide on incomplete data.
    ``statuses_by_day``: ``{day: {suite: 'pass' | 'warn' | 'fail'}}``."""
    from datetime import date, timedelta

    start, end = date.fromisoformat(first_day), date.fromisoformat(last_day)
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    problems = []
    for day in days:
        got = statuses_by_day.get(day, {})
        missing = [s for s in suites if s not in got]
        failed = [s for s in suites if got.get(s) == FAIL]
        if missing or failed:
            what = [f"failed: {', '.join(failed)}"] if failed else []
            what += [f"no gate result: {', '.join(missing)}"] if missing else []
            problems.append(f"{day} ({'; '.join(what)})")
    span = f"{first_day}..{last_day}" if days else f"{first_day}..{last_day} (no day)"
    if problems:
        listed = ", ".join(problems[:_LISTED_DAYS])
        more = f", and {len(problems) - _LISTED_DAYS} more" if len(problems) > _LISTED_DAYS else ""
        return CheckResult(
            COVERAGE, FAIL, float(len(problems)), 0.0,
            f"incomplete data: {len(problems)} of {len(days)} days of {span} did not pass "
            f"their gates: {listed}{more}",
        )  # fmt: skip
    return CheckResult(
        COVERAGE, PASS, 0.0, 0.0,
        f"data covers {span}: {len(days)} day{'s' if len(days) != 1 else ''}, each passed its "
        f"{len(suites)} source gates "
        f"({', '.join(suites)})",
    )  # fmt: skip


def check_rate(name: str, bad: float, total: float, warn_at: float, fail_at: float) -> CheckResult:
    """A 'bad units / total units' rate against warn and fail maxima (no units: pass)."""
    if total <= 0:
        return CheckResult(name, PASS, None, fail_at, f"{name}: no units to check")
    rate = bad / total
    if rate > fail_at:
        status = FAIL
        reason = f"{name} {rate:.2%} exceeds the maximum {fail_at:.2%}"
    elif rate > warn_at:
        status = WARN
        reason = f"{name} {rate:.2%} above the warning level {warn_at:.2%}"
    else:
        status, reason = PASS, f"{name} {rate:.2%} within limits"
    return CheckResult(name, status, rate, fail_at, reason)


def run_trust_checks(
    counts: Mapping[str, float],
    weights: Mapping[str, float],
    contaminated: float = 0,
    duplicates: float = 0,
    total_rows: float | None = None,
    quality_gates: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    coverage: CheckResult | None = None,
) -> TrustResult:
    """Run every trust check and combine them.

    ``counts``: clean units per variant; ``contaminated``: units seen in several variants;
    ``duplicates``: surplus rows beyond one per unit; ``total_rows``: denominator for both
    rates (defaults to the clean units plus contaminated units plus duplicates).
    """
    cfg = {**DEFAULT_TRUST_CONFIG, **(config or {})}
    clean = float(sum(counts.values()))
    denom = float(total_rows) if total_rows is not None else clean + contaminated + duplicates
    checks = [
        check_srm(counts, weights, cfg),
        check_rate(
            "contamination_rate",
            contaminated,
            denom,
            float(cfg["warn_contamination_rate"]),
            float(cfg["max_contamination_rate"]),
        ),
        check_rate(
            "duplicate_rate",
            duplicates,
            denom,
            float(cfg["warn_duplicate_rate"]),
            float(cfg["max_duplicate_rate"]),
        ),
    ]
    checks += [_gate_check(name, status) for name, status in (quality_gates or {}).items()]
    if coverage is not None:  # check_coverage: the days the data covers
        checks.append(coverage)
    return combine_checks(checks)


def combine_checks(checks: Sequence[CheckResult]) -> TrustResult:
    """Worst status wins; reasons list every check that did not pass."""
    worst = max((c.status for c in checks), key=_SEVERITY.__getitem__, default=PASS)
    reasons = tuple(c.reason for c in checks if c.status != PASS)
    return TrustResult(status=worst, checks=tuple(checks), reasons=reasons)


def _gate_check(name: str, status: str) -> CheckResult:
    normalised = str(status).lower()
    if normalised not in _SEVERITY:
        return CheckResult(
            f"quality_gate:{name}",
            FAIL,
            None,
            None,
            f"quality gate {name} has unknown status {status!r}",
        )
    reason = f"quality gate {name}: {normalised}"
    return CheckResult(f"quality_gate:{name}", normalised, None, None, reason)
