"""The SaaS side of the company: who signs up when, and each account's whole lifecycle.

Design for incremental generation: the number of signups on a day comes from a stream
seeded by (seed, day), user ids encode their signup day, and every other attribute and
lifecycle date of a user is a counter hash of (seed, user_id). So the full population up to
any ``ds`` is recomputed from scratch in milliseconds, with no state carried between days,
and generating day N alone gives the same bytes as generating days 1..N in order.

Lifecycle (seed 004's strict 14-day trial): signup = trial_start; activation within the
trial; paid_start exactly when the trial ends (plus minutes of billing lag) for activated
converters, or later for "hybrid" users who activated, lapsed to free and came back; booking
with MRR at paid_start; a monthly plan up/down step; churn with a monthly hazard that is
higher for low latent NPS. Experiments change the probabilities of exposed users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from include.generator import catalog
from include.generator.calendar import (
    HOUR_WEIGHT,
    MS_PER_DAY,
    MS_PER_HOUR,
    day_start_ms,
    day_weight,
)
from include.generator.config import ExperimentConfig, GeneratorConfig
from include.generator.randomness import hash64, hash_uniform, pick_weighted, stream

NEVER = np.int64(2**62)
TRIAL_DAYS = 14
MONTH_DAYS = 30
MAX_MONTHS = 36
IDS_PER_DAY = 1_000_000
_NPS_WEIGHTS = (2, 1, 1, 2, 3, 4, 6, 10, 14, 16, 12)


def mean_signups(cfg: GeneratorConfig) -> float:
    """Mean signups on an average day: a share of the homepage visitors (~2.7% of events)."""
    return homepage_visitors(cfg) * cfg.funnel.signup_share


def homepage_visitors(cfg: GeneratorConfig) -> float:
    """Mean homepage visitors on an average day, scaled with ``events_per_day``."""
    return cfg.events_per_day * 0.027


def signup_counts(cfg: GeneratorConfig, upto: date) -> tuple[list[date], np.ndarray]:
    """Signups per day from the epoch to ``upto`` inclusive (one tiny stream per day)."""
    epoch = date.fromisoformat(cfg.epoch)
    days = [epoch + timedelta(days=i) for i in range((upto - epoch).days + 1)]
    base = mean_signups(cfg)
    counts = np.array(
        [stream(cfg.seed, d, "signup_count").poisson(base * day_weight(d)) for d in days],
        dtype=np.int64,
    )
    return days, counts


def user_ids_for(cfg: GeneratorConfig, day_index: np.ndarray, k: np.ndarray) -> np.ndarray:
    """User id of the k-th signup on day ``day_index`` (days since epoch): readable, unique."""
    return (day_index.astype(np.int64) + 1) * IDS_PER_DAY + k.astype(np.int64)


def anon_of_user(seed: int, user_ids: np.ndarray) -> np.ndarray:
    """The cookie a user signed up with (and keeps on their main device)."""
    return hash64(user_ids, seed, "anon_of_user")


def variant_of(seed: int, exp: ExperimentConfig, unit: np.ndarray) -> np.ndarray:
    """Assignment service: variant index from a hash of the randomisation unit."""
    return pick_weighted(hash_uniform(unit, seed, f"variant:{exp.name}"), exp.weights)


def times_in_days(seed: int, keys: np.ndarray, salt: str, day_ms: np.ndarray) -> np.ndarray:
    """A time on the day starting at ``day_ms`` following the hourly profile, per key."""
    hour = pick_weighted(hash_uniform(keys, seed, salt + ":h"), HOUR_WEIGHT)
    within = (hash_uniform(keys, seed, salt + ":m") * MS_PER_HOUR).astype(np.int64)
    return day_ms + hour.astype(np.int64) * MS_PER_HOUR + within


@dataclass
class Subscribers:
    """Every account signed up from the epoch to a day, with its whole lifecycle (unix ms)."""

    user_id: np.ndarray
    person: np.ndarray  # user id of the real person (differs for duplicate accounts)
    anon: np.ndarray
    signup_ms: np.ndarray
    country: np.ndarray
    device: np.ndarray  # index into catalog.USER_AGENTS
    ref: np.ndarray  # index into catalog.REFERRERS / ACQUISITION_CHANNELS
    list_bucket: np.ndarray
    list_size: np.ndarray
    plan0: np.ndarray  # index into catalog.PLANS chosen at signup
    nps: np.ndarray  # latent NPS 0..10
    is_fraud: np.ndarray
    closed_ms: np.ndarray
    exp_signup: np.ndarray  # exposed to the saas experiment in the signup session
    exp_hybrid: np.ndarray  # exposed on a later return visit (activated before exposure)
    exposure_ms: np.ndarray
    variant: np.ndarray  # -1 when never exposed
    activated: np.ndarray
    act_ms: np.ndarray
    trial_cancel_ms: np.ndarray
    paid_ms: np.ndarray
    return_ms: np.ndarray
    mrr_factor: np.ndarray
    plan_path: np.ndarray  # (n, MAX_MONTHS + 1) plan index per month since paid_start
    churn_month: np.ndarray  # months after paid_start when the account churns
    churn_ms: np.ndarray
    nps_ms: np.ndarray
    p_activation: np.ndarray
    p_conversion: np.ndarray

    def __len__(self) -> int:
        return len(self.user_id)

    def mrr_at_month(self, month: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """MRR (2 dp) of ``rows`` on their ``month``-th month after paid_start."""
        rows = np.arange(len(self)) if rows is None else rows
        month = np.clip(month, 0, MAX_MONTHS)
        plan = self.plan_path[rows, month]
        price = np.array([p for _, p in catalog.PLANS])[plan]
        mult = np.array([b[2] for b in catalog.LIST_SIZES])[self.list_bucket[rows]]
        return np.round(price * mult * self.mrr_factor[rows], 2)

    def month_of(self, ms: np.ndarray | int, rows: np.ndarray | None = None) -> np.ndarray:
        """Whole months since paid_start at time ``ms`` (negative before it)."""
        rows = np.arange(len(self)) if rows is None else rows
        return np.floor_divide(np.asarray(ms) - self.paid_ms[rows], MONTH_DAYS * MS_PER_DAY)


def build_subscribers(cfg: GeneratorConfig, upto: date) -> Subscribers:
    """All accounts that signed up on or before ``upto``, with their planted lifecycles."""
    days, counts = signup_counts(cfg, upto)
    day_index = np.repeat(np.arange(len(days)), counts)
    k = np.concatenate([np.arange(c) for c in counts]) if len(counts) else np.array([], int)
    uid = user_ids_for(cfg, day_index, k)
    epoch_ms = day_start_ms(days[0])
    seed = cfg.seed
    signup_ms = times_in_days(seed, uid, "signup", epoch_ms + day_index * MS_PER_DAY)
    attrs = _attributes(seed, uid, cfg)
    _plant_duplicate_accounts(cfg, uid, np.cumsum(counts) - counts, day_index, attrs)
    exposure = _signup_exposure(cfg, uid, signup_ms)
    life = _lifecycle(cfg, uid, signup_ms, attrs, exposure)
    attrs.pop("closed_ms")  # replaced by the lifecycle's closure times
    return Subscribers(user_id=uid, signup_ms=signup_ms, **attrs, **exposure, **life)


def _attributes(seed: int, uid: np.ndarray, cfg: GeneratorConfig) -> dict[str, np.ndarray]:
    """Demographics and flags of each account: pure functions of (seed, user_id)."""
    country = pick_weighted(hash_uniform(uid, seed, "country"), [c[2] for c in catalog.COUNTRIES])
    device = pick_weighted(hash_uniform(uid, seed, "device"), [u[3] for u in catalog.USER_AGENTS])
    ref = pick_weighted(hash_uniform(uid, seed, "ref"), [r[2] for r in catalog.REFERRERS])
    bucket = pick_weighted(hash_uniform(uid, seed, "list_bucket"), catalog.LIST_SIZE_WEIGHTS)
    lo = np.array([b[0] for b in catalog.LIST_SIZES])[bucket]
    hi = np.array([b[1] for b in catalog.LIST_SIZES])[bucket]
    list_size = (lo + hash_uniform(uid, seed, "list_size") * (hi - lo)).astype(np.int64)
    plan0 = pick_weighted(hash_uniform(uid, seed, "plan"), catalog.PLAN_WEIGHTS)
    nps = pick_weighted(hash_uniform(uid, seed, "nps"), _NPS_WEIGHTS)
    is_fraud = hash_uniform(uid, seed, "fraud") < cfg.mess.fraud
    is_closed = hash_uniform(uid, seed, "closed") < cfg.mess.closed
    return {
        "anon": anon_of_user(seed, uid),
        "country": country,
        "device": device,
        "ref": ref,
        "list_bucket": bucket,
        "list_size": list_size,
        "plan0": plan0,
        "nps": nps,
        "is_fraud": is_fraud,
        "closed_ms": np.where(is_fraud | is_closed, 0, NEVER),  # filled in by _lifecycle
    }


def _plant_duplicate_accounts(
    cfg: GeneratorConfig,
    uid: np.ndarray,
    day_first: np.ndarray,
    day_index: np.ndarray,
    attrs: dict[str, np.ndarray],
) -> None:
    """Mess: some signups are a second account of someone who signed up on an earlier day.

    The duplicate shares the original's country, device and network (so its IP), and
    ``person`` points at the original user id; the truth's identity map lists the pair.
    """
    first = day_first[day_index] if len(uid) else np.array([], np.int64)
    is_dup = (hash_uniform(uid, cfg.seed, "dup_account") < cfg.mess.multi_id / 2) & (first > 0)
    orig = (hash_uniform(uid, cfg.seed, "dup_pick") * first).astype(np.int64)
    orig = np.where(is_dup, orig, np.arange(len(uid)))
    attrs["person"] = uid[orig]
    for name in ("country", "device"):
        attrs[name] = attrs[name][orig]


def _signup_exposure(
    cfg: GeneratorConfig, uid: np.ndarray, signup_ms: np.ndarray
) -> dict[str, np.ndarray]:
    """Whether each signup session saw the saas experiment, and the variant it got."""
    exp = cfg.experiment("saas")
    n = len(uid)
    if exp is None:
        return {
            "exp_signup": np.zeros(n, bool),
            "exposure_ms": np.full(n, NEVER),
            "variant": np.full(n, -1),
        }
    lead = (60_000 + hash_uniform(uid, cfg.seed, "exposure_lead") * 20 * 60_000).astype(np.int64)
    # the signup session's exposure stays on the signup day
    exposure_ms = np.maximum(signup_ms - lead, signup_ms - signup_ms % MS_PER_DAY)
    running = _running(exp, exposure_ms)
    in_traffic = hash_uniform(uid, cfg.seed, f"traffic:{exp.name}") < exp.traffic_share
    exposed = running & in_traffic
    variant = np.where(exposed, variant_of(cfg.seed, exp, anon_of_user(cfg.seed, uid)), -1)
    return {
        "exp_signup": exposed,
        "exposure_ms": np.where(exposed, exposure_ms, NEVER),
        "variant": variant,
    }


def _running(exp: ExperimentConfig, ms: np.ndarray) -> np.ndarray:
    start = day_start_ms(date.fromisoformat(exp.start_date))
    end = day_start_ms(date.fromisoformat(exp.end_date)) + MS_PER_DAY
    return (ms >= start) & (ms < end)


def planted_lifts(cfg: GeneratorConfig, variant: np.ndarray, metric: str) -> np.ndarray:
    """Relative lift on ``metric`` for each row's variant (0 for control / unexposed)."""
    exp = cfg.experiment("saas")
    if exp is None:
        return np.zeros(len(variant))
    table = np.array([exp.effect(v, metric) for v in exp.variants] + [0.0])
    return table[variant]  # variant -1 picks the trailing 0


def _lifecycle(
    cfg: GeneratorConfig,
    uid: np.ndarray,
    signup_ms: np.ndarray,
    attrs: dict[str, np.ndarray],
    exposure: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Trial, activation, conversion, hybrid return, MRR path, churn, NPS and closure."""
    seed, f = cfg.seed, cfg.funnel

    def u(salt: str) -> np.ndarray:
        return hash_uniform(uid, seed, salt)

    day = MS_PER_DAY
    variant = exposure["variant"].copy()
    lift_act = np.where(exposure["exp_signup"], planted_lifts(cfg, variant, "activation"), 0.0)
    p_act = np.clip(f.activation * (1 + lift_act), 0, 1)
    activated = u("activated") < p_act
    act_ms = signup_ms + 600_000 + (u("act_time") * (TRIAL_DAYS * day - 3_600_000)).astype(np.int64)
    trial_end = signup_ms + TRIAL_DAYS * day

    # Trial conversion: lift on conversion per visitor = lift_conv, so conditional on
    # activation the arm gets (1 + lift_conv) / (1 + lift_act).
    lift_conv = np.where(exposure["exp_signup"], planted_lifts(cfg, variant, "conversion"), 0.0)
    p_trial = np.clip(f.trial_conversion * (1 + lift_conv) / (1 + lift_act), 0, 1)
    trial_conv = activated & (u("trial_conv") < p_trial)
    billing_lag = (60_000 + u("billing_lag") * 3_600_000).astype(np.int64)

    # Hybrid: activated, lapsed to free, back within 90 days of activation (after the trial).
    returns = activated & ~trial_conv & (u("returns") < f.hybrid_return)
    return_ms = np.maximum(
        act_ms + (1 + u("return_day") * 89).astype(np.int64) * day, trial_end + day
    )
    return_ms = np.where(returns, return_ms, NEVER)
    exp = cfg.experiment("saas")
    hybrid = np.zeros(len(uid), bool)
    if exp is not None:
        in_traffic = u(f"traffic:{exp.name}") < exp.traffic_share
        hybrid = returns & ~exposure["exp_signup"] & _running(exp, return_ms) & in_traffic
        variant = np.where(hybrid, variant_of(seed, exp, attrs["anon"]), variant)
    exposed = exposure["exp_signup"] | hybrid
    lift_late = np.where(exposed, planted_lifts(cfg, variant, "conversion"), 0.0)
    p_late = np.clip(f.late_conversion * (1 + lift_late), 0, 1)
    late_conv = returns & (u("late_conv") < p_late)
    late_ms = return_ms + (300_000 + u("late_time") * 6 * day).astype(np.int64)

    paid_ms = np.where(trial_conv, trial_end + billing_lag, np.where(late_conv, late_ms, NEVER))
    lift_mrr = np.where(exposed, planted_lifts(cfg, variant, "nb_mrr"), 0.0)
    lift_c = np.where(exposed, planted_lifts(cfg, variant, "conversion"), 0.0)
    mrr_factor = (1 + lift_mrr) / (1 + lift_c)

    trial_cancel = ~activated & (u("trial_cancel") < f.trial_cancel)
    trial_cancel_ms = np.where(
        trial_cancel, signup_ms + (day + u("trial_cancel_t") * 12 * day).astype(np.int64), NEVER
    )
    plan_path = _plan_path(cfg, uid, attrs["plan0"])
    churn_month = _churn_month(cfg, uid, attrs["nps"])
    churn_ms = np.where(
        paid_ms < NEVER,
        paid_ms + churn_month * MONTH_DAYS * day - (u("churn_t") * 20 * day).astype(np.int64),
        NEVER,
    )
    closed_ms = _closed_ms(cfg, uid, signup_ms, attrs)
    # A closed account stops paying when it is closed.
    churn_ms = np.where((closed_ms < churn_ms) & (paid_ms < closed_ms), closed_ms, churn_ms)
    paid_ms = np.where(paid_ms >= closed_ms, NEVER, paid_ms)
    churn_ms = np.where(paid_ms == NEVER, NEVER, churn_ms)
    nps_ms = _nps_time(cfg, uid, signup_ms, paid_ms, closed_ms)
    day_end = return_ms - return_ms % MS_PER_DAY + MS_PER_DAY - 1
    exposure_ms = np.where(hybrid, np.minimum(return_ms + 30_000, day_end), exposure["exposure_ms"])
    exposure["exposure_ms"][:] = exposure_ms
    exposure["variant"][:] = variant
    return {
        "exp_hybrid": hybrid,
        "activated": activated,
        "act_ms": np.where(activated, act_ms, NEVER),
        "trial_cancel_ms": trial_cancel_ms,
        "paid_ms": paid_ms,
        "return_ms": return_ms,
        "mrr_factor": mrr_factor,
        "plan_path": plan_path,
        "churn_month": churn_month,
        "churn_ms": churn_ms,
        "nps_ms": nps_ms,
        "closed_ms": closed_ms,
        "p_activation": np.where(hybrid, 1.0, p_act),
        # Expected P(paid ever) of each row, for the truth manifest's expected rates.
        "p_conversion": np.where(
            hybrid, p_late, p_act * (p_trial + (1 - p_trial) * f.hybrid_return * p_late)
        ),
    }


def _plan_path(cfg: GeneratorConfig, uid: np.ndarray, plan0: np.ndarray) -> np.ndarray:
    """Plan index for month 0..MAX_MONTHS after paid_start: a bounded up/down random walk."""
    f = cfg.funnel
    path = np.empty((len(uid), MAX_MONTHS + 1), dtype=np.int8)
    path[:, 0] = plan0
    top = len(catalog.PLANS) - 1
    keys = uid * 64
    for m in range(1, MAX_MONTHS + 1):
        u = hash_uniform(keys + m, cfg.seed, "plan_step")
        step = np.where(u < f.monthly_upgrade, 1, np.where(u > 1 - f.monthly_downgrade, -1, 0))
        path[:, m] = np.clip(path[:, m - 1] + step, 0, top)
    return path


def churn_hazard(cfg: GeneratorConfig, nps: np.ndarray) -> np.ndarray:
    """Monthly churn hazard: detractors (0-6) churn 2.5x, promoters (9-10) 0.4x the base."""
    factor = np.where(nps <= 6, 2.5, np.where(nps >= 9, 0.4, 1.0))
    return np.clip(cfg.funnel.monthly_churn * factor, 1e-9, 0.999)


def _churn_month(cfg: GeneratorConfig, uid: np.ndarray, nps: np.ndarray) -> np.ndarray:
    """Month (>= 1) in which a paying account cancels: geometric with the NPS hazard."""
    u = hash_uniform(uid, cfg.seed, "churn")
    months = np.ceil(np.log1p(-u) / np.log1p(-churn_hazard(cfg, nps)))
    return np.clip(months, 1, 10_000).astype(np.int64)


def _closed_ms(
    cfg: GeneratorConfig, uid: np.ndarray, signup_ms: np.ndarray, attrs: dict[str, np.ndarray]
) -> np.ndarray:
    """Fraud is caught 1-10 days after signup; other closures happen 20-200 days in."""
    day = MS_PER_DAY
    u = hash_uniform(uid, cfg.seed, "closed_t")
    fraud_t = signup_ms + ((1 + u * 9) * day).astype(np.int64)
    other_t = signup_ms + ((20 + u * 180) * day).astype(np.int64)
    closing = attrs["closed_ms"] == 0
    return np.where(closing, np.where(attrs["is_fraud"], fraud_t, other_t), NEVER)


def _nps_time(
    cfg: GeneratorConfig,
    uid: np.ndarray,
    signup_ms: np.ndarray,
    paid_ms: np.ndarray,
    closed_ms: np.ndarray,
) -> np.ndarray:
    """When an account answers the NPS survey: 50% of payers at day 21, 15% of trials at 10."""
    u = hash_uniform(uid, cfg.seed, "nps_respond")
    jitter = (hash_uniform(uid, cfg.seed, "nps_t") * MS_PER_DAY).astype(np.int64)
    paid_t = paid_ms + 21 * MS_PER_DAY + jitter
    trial_t = signup_ms + 10 * MS_PER_DAY + jitter
    t = np.where(
        paid_ms < NEVER, np.where(u < 0.5, paid_t, NEVER), np.where(u < 0.15, trial_t, NEVER)
    )
    return np.where(t < closed_ms, t, NEVER)
