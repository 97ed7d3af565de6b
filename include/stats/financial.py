"""Financial impact in MRR terms (seed 000's "financial impact analysis").

The metric is new-booking MRR per exposed user (``nb_mrr``, zero for users who did not
book). Its lift ``delta = mean_t - mean_c`` with Welch's interval is the incremental MRR
per exposed user; everything else is that number scaled by a count of users, so each
interval is the per-user interval scaled the same way (the user counts are treated as
known):

* treatment arm: ``delta * n_treatment`` (MRR the treatment actually added);
* full traffic: ``delta * n_total`` (had every exposed user seen the treatment);
* annualised: ``x 12`` of each monthly figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from include.stats.frequentist import welch_ttest
from include.stats.sufficient import SufficientStats

MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval."""

    estimate: float
    low: float
    high: float

    def scaled(self, factor: float) -> Interval:
        """Multiply estimate and bounds by a non-negative constant."""
        return Interval(self.estimate * factor, self.low * factor, self.high * factor)


@dataclass(frozen=True)
class MrrImpact:
    """Incremental MRR per user, per treatment arm and at full traffic, monthly and yearly."""

    per_user: Interval
    treatment_arm_monthly: Interval
    full_traffic_monthly: Interval
    treatment_arm_annual: Interval
    full_traffic_annual: Interval
    n_treatment_users: float
    n_total_users: float
    p_value: float
    alpha: float
    status: str

    def to_dict(self) -> dict[str, Any]:
        """Flat record for the readouts table."""
        out: dict[str, Any] = {
            "n_treatment_users": self.n_treatment_users,
            "n_total_users": self.n_total_users,
            "p_value": self.p_value,
            "alpha": self.alpha,
            "status": self.status,
        }
        for name in (
            "per_user",
            "treatment_arm_monthly",
            "full_traffic_monthly",
            "treatment_arm_annual",
            "full_traffic_annual",
        ):
            iv: Interval = getattr(self, name)
            out.update({name: iv.estimate, f"{name}_low": iv.low, f"{name}_high": iv.high})
        return out


def mrr_impact(
    control: SufficientStats,
    treatment: SufficientStats,
    n_total_users: float | None = None,
    alpha: float = 0.05,
) -> MrrImpact:
    """Incremental new-booking MRR with intervals (see module docstring).

    ``n_total_users`` defaults to the users of both arms; pass the count over all variants
    for a multi-arm test. Insufficient data propagates as NaN with the test's status.
    """
    res = welch_ttest(control, treatment, alpha)
    n_t = float(treatment.n)
    n_all = float(n_total_users) if n_total_users is not None else float(control.n) + n_t
    per_user = Interval(float(res.abs_lift), float(res.abs_ci_low), float(res.abs_ci_high))
    arm, full = per_user.scaled(n_t), per_user.scaled(n_all)
    return MrrImpact(
        per_user=per_user,
        treatment_arm_monthly=arm,
        full_traffic_monthly=full,
        treatment_arm_annual=arm.scaled(MONTHS_PER_YEAR),
        full_traffic_annual=full.scaled(MONTHS_PER_YEAR),
        n_treatment_users=n_t,
        n_total_users=n_all,
        p_value=float(res.p_value),
        alpha=alpha,
        status=str(res.status),
    )
