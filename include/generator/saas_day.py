"""One day of the SaaS product: homepage experiment traffic, signups, logins and the CSVs.

Everything here reads the pure :class:`Subscribers` population plus day-seeded streams, so
a day is generated alone. Outputs: web-event blocks, the exposure records that become
``experiment_assignments`` lines, and the accounts / billing / usage / tickets / NPS tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from include.generator import catalog
from include.generator.calendar import (
    MS_PER_DAY,
    day_start_ms,
    day_weight,
    iso_times,
    sample_times,
)
from include.generator.config import GeneratorConfig
from include.generator.events import (
    DEVICE_OF_UA,
    Block,
    expand_sessions,
    exposure_props,
    finish,
    ip_in_country,
    session_keys,
    visitor_traits,
)
from include.generator.randomness import hash64, hash_uniform, hex_ids, stream
from include.generator.subscribers import (
    MAX_MONTHS,
    MONTH_DAYS,
    NEVER,
    TRIAL_DAYS,
    Subscribers,
    homepage_visitors,
    planted_lifts,
    variant_of,
)
from include.raw_sources import ACTION_TYPES

A = {name: i for i, name in enumerate(ACTION_TYPES)}
# an exposed account's support tickets in this many days from its exposure date carry the
# arm's planted lift on support_tickets_14d (the metric library's 14-day window)
TICKET_WINDOW_DAYS = 14


@dataclass
class Exposures:
    """Exposure records of one day; each becomes an assignment line (and truth rows)."""

    experiment: list[np.ndarray] = field(default_factory=list)
    variant: list[np.ndarray] = field(default_factory=list)
    uid: list[np.ndarray] = field(default_factory=list)
    anon: list[np.ndarray] = field(default_factory=list)
    t: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)

    def add(
        self,
        experiment: str,
        variant: np.ndarray,
        uid: np.ndarray,
        anon: np.ndarray,
        t: np.ndarray,
        kind: str,
    ) -> None:
        """Record exposures: one array entry per exposed unit (``uid`` 0 = logged out)."""
        n = len(t)
        self.experiment.append(np.full(n, experiment, dtype=object))
        self.variant.append(np.asarray(variant, dtype=object))
        self.uid.append(np.asarray(uid, dtype=np.int64))
        self.anon.append(np.asarray(anon, dtype=np.uint64))
        self.t.append(np.asarray(t, dtype=np.int64))
        self.kind.append(np.full(n, kind, dtype=object))

    def frame(self) -> pd.DataFrame:
        cols = ("experiment", "variant", "uid", "anon", "t", "kind")
        if not self.t:
            return pd.DataFrame({c: [] for c in cols})
        return pd.DataFrame({c: np.concatenate(getattr(self, c)) for c in cols})


def _day_bounds(day: date) -> tuple[int, int]:
    start = day_start_ms(day)
    return start, start + MS_PER_DAY


def _on(ms: np.ndarray, day: date) -> np.ndarray:
    lo, hi = _day_bounds(day)
    return (ms >= lo) & (ms < hi)


def homepage_block(cfg: GeneratorConfig, day: date, expo: Exposures) -> Block:
    """Anonymous homepage visitors who see the saas experiment and do not sign up."""
    exp = cfg.experiment("saas")
    if exp is None or not exp.is_running(day):
        return finish({"t": np.array([], np.int64), **_empty_session_cols()}, "homepage")
    rng = stream(cfg.seed, day, "homepage")
    mean = homepage_visitors(cfg) * (1 - cfg.funnel.signup_share) * day_weight(day)
    n = rng.poisson(mean * exp.traffic_share)
    anon = hash64(day.toordinal() * 2**32 + np.arange(n), cfg.seed, "homepage_anon")
    traits = visitor_traits(cfg.seed, anon)
    start = sample_times(rng, day, n)
    counts = 2 + rng.poisson(1.0, n)
    cols = {"anon": anon, "sess": session_keys(cfg.seed, anon, "hp"), **traits}
    block, sidx, pos = expand_sessions(rng, "homepage", start, counts, cols)
    block["action"] = np.where(
        pos == 0, A["landing_page"], np.where(pos == 1, A["experiment_exposure"], A["page_view"])
    )
    variant = variant_of(cfg.seed, exp, anon)
    is_exp = pos == 1
    names = np.array(exp.variants, dtype=object)[variant]
    block["props"][is_exp] = exposure_props(
        exp.name, names[sidx[is_exp]], hex_ids(anon)[sidx[is_exp]]
    )
    expo.add(exp.name, names, np.zeros(n, np.int64), anon, block["t"][is_exp], "homepage")
    return finish(block, "homepage")


def _empty_session_cols() -> dict[str, np.ndarray]:
    return {
        k: np.array([], np.int64)
        for k in ("uid", "anon", "sess", "ip", "ua", "host", "ref", "action")
    }


def signup_block(cfg: GeneratorConfig, subs: Subscribers, day: date, expo: Exposures) -> Block:
    """Signup sessions: landing, exposure (if the experiment runs), signup, onboarding."""
    rows = np.flatnonzero(_on(subs.signup_ms, day))
    exposed = subs.exp_signup[rows]
    uid, anon = subs.user_id[rows], subs.anon[rows]
    sign_t = subs.signup_ms[rows]
    onboard = hash_uniform(uid, cfg.seed, "onboard_done") < 0.7
    times = [
        sign_t - 25 * 60_000,
        np.where(exposed, subs.exposure_ms[rows], -1),
        sign_t,
        sign_t + 120_000,
        np.where(onboard, sign_t + 420_000, -1),
    ]
    actions = [
        "landing_page",
        "experiment_exposure",
        "signup",
        "onboarding_start",
        "onboarding_complete",
    ]
    logged_in = [False, False, True, True, True]
    traits = _user_traits(cfg, subs, rows)
    sess = session_keys(cfg.seed, uid, "signup")
    parts = []
    for t, action, li in zip(times, actions, logged_in, strict=True):
        keep = t >= 0
        parts.append(
            {
                "t": t[keep],
                "uid": np.where(li, uid, 0)[keep],
                "anon": anon[keep],
                "sess": sess[keep],
                "action": np.full(keep.sum(), A[action]),
                **{k: v[keep] for k, v in traits.items()},
            }
        )
    block = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    block["props"] = np.full(len(block["t"]), None, dtype=object)
    exp = cfg.experiment("saas")
    if exp is not None and exposed.any():
        names = np.array(exp.variants, dtype=object)[subs.variant[rows][exposed]]
        is_exp = block["action"] == A["experiment_exposure"]
        # parts are concatenated in action order, so exposures line up with ``rows[exposed]``
        block["props"][is_exp] = exposure_props(exp.name, names, hex_ids(anon[exposed]))
        expo.add(
            exp.name,
            names,
            np.zeros(int(exposed.sum()), np.int64),
            anon[exposed],
            subs.exposure_ms[rows][exposed],
            "signup",
        )
    return finish(block, "signup")


def _user_traits(cfg: GeneratorConfig, subs: Subscribers, rows: np.ndarray) -> dict:
    """Web traits of an account's main device (its signup device, country and referrer)."""
    return {
        "ip": ip_in_country(cfg.seed, subs.person[rows], subs.country[rows]),
        "ua": subs.device[rows],
        "ref": subs.ref[rows],
        "host": (hash_uniform(subs.user_id[rows], cfg.seed, "u_host") < 0.3).astype(np.int8),
    }


def duplicate_accounts(subs: Subscribers, day: date) -> pd.DataFrame:
    """Truth rows for accounts opened on ``day`` by a person who already has one."""
    rows = np.flatnonzero(_on(subs.signup_ms, day) & (subs.person != subs.user_id))
    return pd.DataFrame(
        {
            "id_type": "user_id",
            "person_id": subs.person[rows].astype(str).astype(object),
            "alias_id": subs.user_id[rows].astype(str).astype(object),
            "user_id": pd.array(subs.user_id[rows], dtype="Int64"),
        }
    )


def hybrid_block(cfg: GeneratorConfig, subs: Subscribers, day: date, expo: Exposures) -> Block:
    """Returning free users (activated earlier) who log in and see the saas experiment."""
    exp = cfg.experiment("saas")
    rows = np.flatnonzero(subs.exp_hybrid & _on(subs.exposure_ms, day))
    block = _logged_in_exposure(cfg, subs, rows, subs.exposure_ms[rows], "hybrid")
    if exp is not None and len(rows):
        names = np.array(exp.variants, dtype=object)[subs.variant[rows]]
        _tag_exposures(block, exp.name, names, subs.anon[rows])
        expo.add(
            exp.name, names, subs.user_id[rows], subs.anon[rows], subs.exposure_ms[rows], "hybrid"
        )
    return finish(block, "hybrid")


def _logged_in_exposure(
    cfg: GeneratorConfig, subs: Subscribers, rows: np.ndarray, t: np.ndarray, comp: str
) -> Block:
    """login -> experiment_exposure -> page_view for logged-in accounts at times ``t``."""
    traits = _user_traits(cfg, subs, rows)
    sess = session_keys(cfg.seed, subs.user_id[rows] * 4096 + t // MS_PER_DAY, comp)
    offsets = (-30_000, 0, 60_000)
    actions = ("login", "experiment_exposure", "page_view")
    parts = [
        {
            "t": t + off,
            "uid": subs.user_id[rows],
            "anon": subs.anon[rows],
            "sess": sess,
            "action": np.full(len(rows), A[a]),
            **traits,
        }
        for off, a in zip(offsets, actions, strict=True)
    ]
    block = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    block["props"] = np.full(len(block["t"]), None, dtype=object)
    return block


def _tag_exposures(block: Block, experiment: str, names: np.ndarray, anon: np.ndarray) -> None:
    is_exp = block["action"] == A["experiment_exposure"]
    block["props"][is_exp] = exposure_props(experiment, names, hex_ids(anon))


def converted_exposure_block(
    cfg: GeneratorConfig, subs: Subscribers, day: date, expo: Exposures, n_exposures: int
) -> tuple[Block, int]:
    """Mess: paying customers who see the homepage test *after* converting."""
    exp = cfg.experiment("saas")
    empty = finish({"t": np.array([], np.int64), **_empty_session_cols()}, "converted_exposure")
    if exp is None or not exp.is_running(day) or cfg.mess.conversion_before_exposure == 0:
        return empty, 0
    lo, hi = _day_bounds(day)
    pool = np.flatnonzero((subs.paid_ms < lo) & (subs.churn_ms > hi) & (subs.variant < 0))
    rng = stream(cfg.seed, day, "converted_exposure")
    n = min(len(pool), rng.binomial(n_exposures, cfg.mess.conversion_before_exposure))
    if n == 0:
        return empty, 0
    rows = np.sort(rng.choice(pool, size=n, replace=False))
    t = sample_times(rng, day, n)
    block = _logged_in_exposure(cfg, subs, rows, t, "converted_exposure")
    names = np.array(exp.variants, dtype=object)[variant_of(cfg.seed, exp, subs.anon[rows])]
    _tag_exposures(block, exp.name, names, subs.anon[rows])
    expo.add(exp.name, names, subs.user_id[rows], subs.anon[rows], t, "converted_before")
    return finish(block, "converted_exposure"), n


def live_rows(subs: Subscribers, day: date) -> np.ndarray:
    """Accounts that exist, are not closed and are in trial or paying at the end of ``day``."""
    _, hi = _day_bounds(day)
    in_trial = (subs.signup_ms < hi) & (subs.signup_ms + TRIAL_DAYS * MS_PER_DAY >= hi)
    paying = (subs.paid_ms < hi) & (subs.churn_ms >= hi)
    return np.flatnonzero((in_trial | paying) & (subs.closed_ms >= hi))


def usage_tables(cfg: GeneratorConfig, subs: Subscribers, day: date) -> tuple[pd.DataFrame, Block]:
    """Daily product usage rows and the login sessions that go with them."""
    rows = live_rows(subs, day)
    rng = stream(cfg.seed, day, "usage")
    active = rng.random(len(rows)) < 0.45
    rows = rows[active]
    logins = 1 + rng.poisson(0.6, len(rows))
    emails = rng.poisson(np.maximum(subs.list_size[rows] / 400.0, 1.0))
    _, hi = _day_bounds(day)
    tenure_days = (hi - subs.signup_ms[rows]) // MS_PER_DAY
    features = np.minimum(10, 1 + tenure_days // 20 + (subs.nps[rows] >= 9))
    table = pd.DataFrame(
        {
            "user_id": subs.user_id[rows],
            "usage_date": day.isoformat(),
            "logins": logins,
            "emails_sent": emails,
            "features_adopted": features,
        }
    )
    # one session per login: login then 1-3 page views
    srow = np.repeat(rows, logins)
    start = sample_times(rng, day, len(srow))
    counts = 2 + rng.poisson(0.5, len(srow))
    keys = (
        subs.user_id[srow] * 16 + np.concatenate([np.arange(k) for k in logins])
        if len(srow)
        else np.array([], np.int64)
    )
    cols = {
        "uid": subs.user_id[srow],
        "anon": subs.anon[srow],
        "sess": session_keys(cfg.seed, keys * 4096 + day.toordinal(), "usage"),
        **_user_traits(cfg, subs, srow),
    }
    block, _, pos = expand_sessions(rng, "usage", start, counts, cols)
    block["action"] = np.where(pos == 0, A["login"], A["page_view"]).astype(np.int8)
    return table, finish(block, "usage")


def billing_table(cfg: GeneratorConfig, subs: Subscribers, day: date) -> pd.DataFrame:
    """Every lifecycle event of every account that falls on ``day``."""
    plan_names = np.array([p for p, _ in catalog.PLANS], dtype=object)
    frames = []

    def add(rows, t, kind, plan, mrr, prev, promo=None):
        frames.append(
            pd.DataFrame(
                {
                    "user_id": subs.user_id[rows],
                    "event_type": kind,
                    "t": t,
                    "plan": plan,
                    "mrr": mrr,
                    "previous_mrr": prev,
                    "promo_code": promo if promo is not None else np.full(len(rows), None, object),
                }
            )
        )

    r = np.flatnonzero(_on(subs.signup_ms, day))
    add(
        r,
        subs.signup_ms[r],
        "trial_start",
        plan_names[subs.plan0[r]],
        np.zeros(len(r)),
        np.zeros(len(r)),
    )
    r = np.flatnonzero(_on(subs.act_ms, day))
    add(
        r,
        subs.act_ms[r],
        "activation",
        plan_names[subs.plan0[r]],
        np.zeros(len(r)),
        np.zeros(len(r)),
    )
    r = np.flatnonzero(_on(subs.trial_cancel_ms, day))
    add(
        r,
        subs.trial_cancel_ms[r],
        "cancellation",
        plan_names[subs.plan0[r]],
        np.zeros(len(r)),
        np.zeros(len(r)),
    )
    r = np.flatnonzero(_on(subs.paid_ms, day))
    mrr0 = subs.mrr_at_month(np.zeros(len(r), np.int64), r)
    promo_u = hash_uniform(subs.user_id[r], cfg.seed, "promo")
    promo = np.where(
        promo_u < 0.2,
        np.array(catalog.PROMO_CODES, object)[
            (promo_u * 20).astype(int) % len(catalog.PROMO_CODES)
        ],
        None,
    )
    add(r, subs.paid_ms[r], "paid_start", plan_names[subs.plan0[r]], mrr0, np.zeros(len(r)), promo)
    booked = np.minimum(subs.paid_ms[r] + 1_000, _day_bounds(day)[1] - 1)  # same day
    add(r, booked, "booking", plan_names[subs.plan0[r]], mrr0, np.zeros(len(r)), promo)
    frames.append(_plan_changes(subs, day, plan_names))
    r = np.flatnonzero(_on(subs.churn_ms, day))
    month = subs.month_of(subs.churn_ms[r], r)
    plan_now = subs.plan_path[r, np.clip(month, 0, MAX_MONTHS)]
    add(
        r,
        subs.churn_ms[r],
        "cancellation",
        plan_names[plan_now],
        np.zeros(len(r)),
        subs.mrr_at_month(month, r),
    )
    df = pd.concat(frames, ignore_index=True).sort_values(["t", "user_id", "event_type"])
    df["billing_event_id"] = billing_ids(cfg.seed, df)
    df["event_time"] = iso_times(df["t"].to_numpy())
    return df[
        [
            "billing_event_id",
            "user_id",
            "event_type",
            "event_time",
            "plan",
            "mrr",
            "previous_mrr",
            "promo_code",
        ]
    ].reset_index(drop=True)


def billing_ids(seed: int, df: pd.DataFrame) -> np.ndarray:
    """Billing event ids: a hash of (user, event type, time), stable across reruns."""
    code = df["event_type"].map(_EVENT_CODES).to_numpy().astype(np.uint64)
    first = hash64(df["user_id"].to_numpy() * 64 + code.astype(np.int64), seed, "billing")
    return hex_ids(hash64(first ^ df["t"].to_numpy().astype(np.uint64), seed, "billing_t"), "be_")


_EVENT_CODES = {
    "trial_start": 1,
    "activation": 2,
    "paid_start": 3,
    "booking": 4,
    "plan_change": 5,
    "cancellation": 6,
}


def _plan_changes(subs: Subscribers, day: date, plan_names: np.ndarray) -> pd.DataFrame:
    """Plan changes on ``day``: a month anniversary where the plan walk moved."""
    lo, hi = _day_bounds(day)
    paid = np.flatnonzero(subs.paid_ms < lo)
    month_len = MONTH_DAYS * MS_PER_DAY
    m = (lo - subs.paid_ms[paid]) // month_len + 1  # the next anniversary after day start
    t = subs.paid_ms[paid] + m * month_len
    hit = (t < hi) & (m <= MAX_MONTHS) & (t < subs.churn_ms[paid])
    rows, m, t = paid[hit], m[hit], t[hit]
    prev, new = subs.plan_path[rows, m - 1], subs.plan_path[rows, m]
    moved = prev != new
    rows, m, t = rows[moved], m[moved], t[moved]
    return pd.DataFrame(
        {
            "user_id": subs.user_id[rows],
            "event_type": "plan_change",
            "t": t,
            "plan": plan_names[subs.plan_path[rows, m]],
            "mrr": subs.mrr_at_month(m, rows),
            "previous_mrr": subs.mrr_at_month(m - 1, rows),
            "promo_code": np.full(len(rows), None, object),
        }
    )


def accounts_table(subs: Subscribers, day: date, user_ids: np.ndarray) -> pd.DataFrame:
    """CRM rows, as of the end of ``day``, for every account touched on ``day``."""
    _, hi = _day_bounds(day)
    rows = np.flatnonzero(np.isin(subs.user_id, user_ids))
    paying = (subs.paid_ms[rows] < hi) & (subs.churn_ms[rows] >= hi)
    in_trial = subs.signup_ms[rows] + TRIAL_DAYS * MS_PER_DAY >= hi
    month = np.clip(subs.month_of(hi - 1, rows), 0, MAX_MONTHS)
    plan_names = np.array([p for p, _ in catalog.PLANS], dtype=object)
    plan = np.where(
        paying | in_trial,
        plan_names[np.where(paying, subs.plan_path[rows, month], subs.plan0[rows])],
        "free",
    )
    closed = subs.closed_ms[rows] < hi
    changes = np.stack(
        [
            subs.signup_ms[rows],
            np.where(subs.paid_ms[rows] < hi, subs.paid_ms[rows], 0),
            np.where(subs.churn_ms[rows] < hi, subs.churn_ms[rows], 0),
            np.where(closed, subs.closed_ms[rows], 0),
            np.where(
                subs.paid_ms[rows] < hi,
                subs.paid_ms[rows]
                + np.clip(subs.month_of(hi - 1, rows), 0, MAX_MONTHS) * MONTH_DAYS * MS_PER_DAY,
                0,
            ),
        ]
    )
    updated = np.where(changes < hi, changes, 0).max(axis=0)
    bucket = subs.list_bucket[rows]
    countries = np.array([c[0] for c in catalog.COUNTRIES], dtype=object)
    regions = np.array([c[1] for c in catalog.COUNTRIES], dtype=object)
    devices = np.array([u[2] for u in catalog.USER_AGENTS], dtype=object)
    closed_at = np.where(closed, iso_times(np.where(closed, subs.closed_ms[rows], 0)), None)
    return pd.DataFrame(
        {
            "user_id": subs.user_id[rows],
            "customer_type": np.where(subs.paid_ms[rows] < hi, "existing", "prospect"),
            "country": countries[subs.country[rows]],
            "region": regions[subs.country[rows]],
            "plan": plan,
            "package": np.array([b[3] for b in catalog.LIST_SIZES], dtype=object)[bucket],
            "list_size": subs.list_size[rows],
            "acquisition_channel": np.array(catalog.ACQUISITION_CHANNELS, object)[subs.ref[rows]],
            "device_type": devices[subs.device[rows]],
            "signup_at": iso_times(subs.signup_ms[rows]),
            "is_fraud": np.where(subs.is_fraud[rows], "true", "false"),
            "is_closed": np.where(closed, "true", "false"),
            "closed_at": closed_at,
            "updated_at": iso_times(updated),
        }
    )


def tickets_and_nps(
    cfg: GeneratorConfig, subs: Subscribers, day: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Support tickets (more from detractors) and NPS answers due on ``day``.

    An account files at most one ticket a day, with a chance set by its NPS, while it is in
    trial or paying; an account exposed to the saas experiment can also file one in the 14
    days from its exposure date (``TICKET_WINDOW_DAYS``) even when it is neither (a lapsed
    trial asking about billing), and there its chance carries the arm's planted lift on
    ``support_tickets_14d``. So the tickets of an exposed account's window do not depend on
    whether the experiment moved it to paying, and the planted lift is the true relative
    lift of tickets per eligible visitor in the window."""
    lo, hi = _day_bounds(day)
    exposure_day = subs.exposure_ms - subs.exposure_ms % MS_PER_DAY
    in_window = (
        (subs.variant >= 0)
        & (exposure_day <= lo)
        & (lo < exposure_day + TICKET_WINDOW_DAYS * MS_PER_DAY)
        & (subs.signup_ms < hi)
        & (subs.closed_ms >= hi)
    )
    rows = np.union1d(live_rows(subs, day), np.flatnonzero(in_window))
    rng = stream(cfg.seed, day, "tickets")
    planted = planted_lifts(cfg, subs.variant[rows], "support_tickets_14d")
    lift = np.where(in_window[rows], planted, 0.0)
    p = np.where(subs.nps[rows] <= 6, 0.012, 0.004) * (1 + lift)
    rows = rows[rng.random(len(rows)) < p]
    created = np.sort(sample_times(rng, day, len(rows)))
    resolved = created + (rng.exponential(20.0, len(rows)) * 3_600_000).astype(np.int64) + 600_000
    sat = np.clip(np.round(1 + subs.nps[rows] * 0.4 + rng.normal(0, 0.8, len(rows))), 1, 5)
    answered = rng.random(len(rows)) < 0.6
    cats = np.array(["billing", "deliverability", "integrations", "account", "bug"], object)
    prios = np.array(["low", "normal", "high", "urgent"], object)
    tickets = pd.DataFrame(
        {
            "ticket_id": hex_ids(
                hash64(
                    subs.user_id[rows] * 1000 + np.arange(len(rows)),
                    cfg.seed,
                    f"ticket:{day.isoformat()}",
                ),
                "tk_",
            ),
            "user_id": subs.user_id[rows],
            "category": cats[rng.integers(0, len(cats), len(rows))],
            "priority": prios[rng.choice(4, len(rows), p=[0.3, 0.45, 0.2, 0.05])],
            "created_at": iso_times(created),
            "resolved_at": iso_times(resolved),
            "satisfaction": pd.array(np.where(answered, sat, np.nan), dtype="Int64"),
        }
    )
    r = np.flatnonzero(_on(subs.nps_ms, day))
    nps = pd.DataFrame(
        {
            "response_id": hex_ids(hash64(subs.user_id[r], cfg.seed, "nps_response"), "nps_"),
            "user_id": subs.user_id[r],
            "score": subs.nps[r],
            "responded_at": iso_times(subs.nps_ms[r]),
        }
    ).sort_values(["responded_at", "user_id"])
    return tickets, nps


def device_type_of_ua(ua: np.ndarray) -> np.ndarray:
    return np.array(catalog.DEVICE_TYPES, dtype=object)[DEVICE_OF_UA[ua]]


__all__ = [
    "NEVER",
    "Exposures",
    "accounts_table",
    "billing_table",
    "converted_exposure_block",
    "homepage_block",
    "hybrid_block",
    "signup_block",
    "tickets_and_nps",
    "usage_tables",
]
