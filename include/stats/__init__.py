"""Pure statistics for experiment readouts: no Spark, no I/O.

Everything starts from :class:`SufficientStats` (n, sum, sum of squares and covariate
cross-products per arm and metric), which merge exactly across days. See each module's
docstring for the formulas and for what degenerate inputs return.
"""

from include.stats.bayesian import ArmPosterior, BayesResult, beta_binomial, normal_means
from include.stats.cumulative import cumulative_by_day
from include.stats.financial import Interval, MrrImpact, mrr_impact
from include.stats.frequentist import (
    TestResult,
    compare,
    relative_lift_ci,
    two_proportion_ztest,
    welch_from_moments,
    welch_ttest,
)
from include.stats.multiple import adjust, benjamini_hochberg, holm
from include.stats.power import PowerResult, mde_for_se, mean_power, power_for_se, proportion_power
from include.stats.readout import RECORD_FIELDS, Cell, build_readout
from include.stats.regression import (
    CupedResult,
    LogitResult,
    cuped,
    logistic_regression,
    logistic_regression_grouped,
)
from include.stats.sufficient import SufficientStats, merge_all
from include.stats.trust import (
    CheckResult,
    SrmResult,
    TrustResult,
    check_coverage,
    check_rate,
    check_srm,
    run_trust_checks,
    srm_test,
)
from include.stats.verdict import Verdict, decide

__all__ = [
    "RECORD_FIELDS",
    "ArmPosterior",
    "BayesResult",
    "Cell",
    "CheckResult",
    "CupedResult",
    "Interval",
    "LogitResult",
    "MrrImpact",
    "PowerResult",
    "SrmResult",
    "SufficientStats",
    "TestResult",
    "TrustResult",
    "Verdict",
    "adjust",
    "benjamini_hochberg",
    "beta_binomial",
    "build_readout",
    "check_coverage",
    "check_rate",
    "check_srm",
    "compare",
    "cumulative_by_day",
    "cuped",
    "decide",
    "holm",
    "logistic_regression",
    "logistic_regression_grouped",
    "mde_for_se",
    "mean_power",
    "merge_all",
    "mrr_impact",
    "normal_means",
    "power_for_se",
    "proportion_power",
    "relative_lift_ci",
    "run_trust_checks",
    "srm_test",
    "two_proportion_ztest",
    "welch_from_moments",
    "welch_ttest",
]
