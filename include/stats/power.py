"""Power and minimum detectable effect (MDE) for the sample in hand.

Two-sided test of a difference ``delta`` with standard error ``se`` of the estimated
difference, normal approximation (the same as ``statsmodels`` ``NormalIndPower``):

``power(delta) = Phi(delta/se - z_{1-alpha/2}) + Phi(-delta/se - z_{1-alpha/2})``

(the second term is the small chance of rejecting in the wrong direction). The MDE is the
``delta > 0`` with ``power(delta) = target``, solved by bracketing root search; its
classic approximation is ``(z_{1-alpha/2} + z_{power}) se``.

* Proportions: ``se = sqrt(p (1 - p) (1/n_c + 1/n_t))`` with ``p`` the control (baseline)
  rate, i.e. effect size ``delta / sqrt(p(1-p))`` in ``NormalIndPower``.
* Means: ``se = sd sqrt(1/n_c + 1/n_t)`` with ``sd`` the (pooled) unit standard deviation.

Undefined inputs (an empty arm, zero or NaN spread) give NaN with ``defined = False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize
from scipy import stats as st


@dataclass(frozen=True)
class PowerResult:
    """Power for ``effect`` and the MDE (absolute and relative to the baseline)."""

    power: float
    effect: float
    mde_abs: float
    mde_rel: float
    std_error: float
    defined: bool


def power_for_se(delta: float, se: float, alpha: float = 0.05) -> float:
    """Two-sided power to detect ``delta`` when the difference has standard error ``se``."""
    if not (se > 0) or math.isnan(delta):
        return math.nan
    crit = st.norm.ppf(1 - alpha / 2)
    shift = abs(delta) / se
    return float(st.norm.cdf(shift - crit) + st.norm.cdf(-shift - crit))


def mde_for_se(se: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest ``delta > 0`` detected with probability ``power`` (two-sided)."""
    if not (se > 0):
        return math.nan
    if not alpha < power < 1:
        raise ValueError("power must lie in (alpha, 1)")
    guess = (st.norm.ppf(1 - alpha / 2) + st.norm.ppf(power)) * se
    return float(
        optimize.brentq(
            lambda d: power_for_se(d, se, alpha) - power, 0.0, 2 * guess, xtol=1e-14, rtol=1e-15
        )
    )


def proportion_power(
    p_control: float,
    n_control: float,
    n_treatment: float,
    effect_abs: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> PowerResult:
    """Power to detect ``effect_abs`` and the MDE, for conversion rates."""
    if n_control <= 0 or n_treatment <= 0 or math.isnan(p_control):
        se = math.nan
    else:
        se = math.sqrt(p_control * (1 - p_control) * (1 / n_control + 1 / n_treatment))
    return _result(se, p_control, effect_abs, alpha, power)


def mean_power(
    mean_control: float,
    sd: float,
    n_control: float,
    n_treatment: float,
    effect_abs: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> PowerResult:
    """Power to detect ``effect_abs`` and the MDE, for means with unit s.d. ``sd``."""
    if n_control <= 0 or n_treatment <= 0 or math.isnan(sd):
        se = math.nan
    else:
        se = sd * math.sqrt(1 / n_control + 1 / n_treatment)
    return _result(se, mean_control, effect_abs, alpha, power)


def _result(se: float, baseline: float, effect: float, alpha: float, power: float) -> PowerResult:
    defined = se > 0
    mde = mde_for_se(se, alpha, power) if defined else math.nan
    mde_rel = mde / abs(baseline) if defined and baseline not in (0, 0.0) else math.nan
    return PowerResult(
        power=power_for_se(effect, se, alpha) if defined else math.nan,
        effect=effect,
        mde_abs=mde,
        mde_rel=mde_rel,
        std_error=se,
        defined=bool(defined),
    )
