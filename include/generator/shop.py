"""The course shop and the pdp_redesign experiment (seed 002).

A *cohort* is the set of visitors whose first product view (the exposure) falls on one day.
Each visitor gets an engagement intensity (events over the next 7 days, per day offset) and
a purchase probability that rises with that intensity (logistic in log(1 + intensity)) and
with the treatment's planted lift. A cohort is a pure function of (seed, cohort day), so day
D's file holds the events of cohorts D-6..D that fall on D, recomputed without state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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
    Block,
    concat_blocks,
    expand_sessions,
    finish,
    session_keys,
    visitor_traits,
)
from include.generator.randomness import hash64, hex_ids, stream
from include.generator.saas_day import Exposures
from include.generator.subscribers import variant_of
from include.raw_sources import ACTION_TYPES

A = {name: i for i, name in enumerate(ACTION_TYPES)}
WINDOW_DAYS = 7
# Share of a visitor's engagement that happens on each day after the first product view.
DAY_SHARE = np.array([0.45, 0.15, 0.10, 0.10, 0.08, 0.07, 0.05])
FUNNEL = ("product_view", "add_to_cart", "checkout_start", "checkout_complete", "purchase")
_PRODUCT_WEIGHTS = np.array([0.3 if p[2] == "bootcamp" else 1.0 for p in catalog.PRODUCTS])
_PRICES = np.array([p[3] for p in catalog.PRODUCTS])
_PRODUCT_IDS = np.array([p[0] for p in catalog.PRODUCTS], dtype=object)


def shop_visitors(cfg: GeneratorConfig) -> float:
    """Mean new product-page visitors on an average day (~2% of events)."""
    return cfg.events_per_day * 0.02


@dataclass
class Cohort:
    day: date
    anon: np.ndarray
    t0: np.ndarray
    product: np.ndarray
    counts: np.ndarray  # (n, WINDOW_DAYS) engagement events per day offset
    variant: np.ndarray  # -1 when the experiment is not running
    p_purchase: np.ndarray
    purchase: np.ndarray
    purchase_day: np.ndarray  # day offset of the purchase
    amount: np.ndarray
    abandon: np.ndarray

    @property
    def intensity(self) -> np.ndarray:
        """Planted engagement intensity: the first view plus engagement in the window."""
        return 1 + self.counts.sum(axis=1)


def build_cohort(cfg: GeneratorConfig, day: date) -> Cohort:
    """Visitors first viewing a product on ``day``, with their whole 7-day future."""
    rng = stream(cfg.seed, day, "shop_cohort")
    n = int(rng.poisson(shop_visitors(cfg) * day_weight(day)))
    anon = hash64(day.toordinal() * 2**32 + np.arange(n), cfg.seed, "shop_anon")
    t0 = np.sort(sample_times(rng, day, n))
    product = rng.choice(len(catalog.PRODUCTS), n, p=_PRODUCT_WEIGHTS / _PRODUCT_WEIGHTS.sum())
    lam = rng.gamma(1.2, 2.5, n)
    counts = rng.poisson(lam[:, None] * DAY_SHARE[None, :])
    exp = cfg.experiment("shop")
    variant = np.full(n, -1)
    lift_p = np.zeros(n)
    lift_r = np.zeros(n)
    if exp is not None and exp.is_running(day):
        variant = variant_of(cfg.seed, exp, anon)
        lift_p = np.array([exp.effect(v, "purchase") for v in exp.variants])[variant]
        lift_r = np.array([exp.effect(v, "revenue") for v in exp.variants])[variant]
    f = cfg.funnel
    logit = f.shop_intercept + f.shop_engagement_coef * np.log1p(1 + counts.sum(axis=1))
    p = np.clip(1 / (1 + np.exp(-logit)) * (1 + lift_p), 0, 1)
    purchase = rng.random(n) < p
    weights = counts + np.eye(WINDOW_DAYS, dtype=np.int64)[0][None, :] * 2
    cum = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    purchase_day = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), WINDOW_DAYS - 1)
    amount = np.round(_PRICES[product] * (1 + lift_r) / (1 + lift_p), 2)
    abandon = ~purchase & (rng.random(n) < 0.2)
    return Cohort(
        day, anon, t0, product, counts, variant, p, purchase, purchase_day, amount, abandon
    )


@dataclass
class ShopDay:
    block: Block
    orders: pd.DataFrame
    out_of_order: int
    cohort: Cohort  # today's cohort (for the truth manifest)


def shop_day(cfg: GeneratorConfig, day: date, expo: Exposures) -> ShopDay:
    """Shop events landing on ``day`` from the cohorts of the last 7 days, plus orders."""
    blocks, orders, swapped = [], [], 0
    today = None
    for k in range(WINDOW_DAYS):
        cohort = build_cohort(cfg, day - timedelta(days=k))
        if k == 0:
            today = cohort
        block, order, n_swapped = _cohort_events_on(cfg, cohort, k, day, expo)
        blocks.append(block)
        orders.append(order)
        swapped += n_swapped
    block = concat_blocks(blocks)
    block["seq"] = np.arange(len(block["t"]), dtype=np.int64)
    return ShopDay(block, pd.concat(orders, ignore_index=True), swapped, today)


def _cohort_events_on(
    cfg: GeneratorConfig, c: Cohort, k: int, day: date, expo: Exposures
) -> tuple[Block, pd.DataFrame, int]:
    """One session per visitor active on ``day`` (= cohort day + k)."""
    rng = stream(cfg.seed, day, "shop_events", k)
    head = 1 if k == 0 else 0
    eng = c.counts[:, k]
    ab = (c.abandon & (k == 0)).astype(np.int64)
    buys = c.purchase & (c.purchase_day == k)
    fun = np.where(buys, len(FUNNEL), 0)
    total = head + eng + ab + fun
    rows = np.flatnonzero(total > 0)
    start = c.t0[rows] if k == 0 else sample_times(rng, day, len(rows))
    traits = visitor_traits(cfg.seed, c.anon[rows])
    sess = session_keys(cfg.seed, c.anon[rows] ^ np.uint64(k), f"shop:{c.day.isoformat()}")
    cols = {"anon": c.anon[rows], "sess": sess, **traits}
    block, sidx, pos = expand_sessions(rng, "shop", start, total[rows], cols, 60_000.0)
    r = rows[sidx]
    e_end = head + eng[r]
    a_end = e_end + ab[r]
    eng_pick = rng.choice(3, len(pos), p=[0.6, 0.25, 0.15])
    eng_actions = np.array([A["product_view"], A["page_view"], A["watch_video"]])[eng_pick]
    funnel_codes = np.array([A[a] for a in FUNNEL])
    action = np.where(
        pos < head,
        A["product_view"],
        np.where(
            pos < e_end,
            eng_actions,
            np.where(pos < a_end, A["add_to_cart"], funnel_codes[np.clip(pos - a_end, 0, 4)]),
        ),
    )
    block["action"] = action.astype(np.int8)
    end_of_day = day_start_ms(day) + MS_PER_DAY - 1
    block["t"] = np.minimum(block["t"], end_of_day)
    props = '{"product_id":"' + _PRODUCT_IDS[c.product[r]] + '"}'
    is_exposure = (pos == 0) & (head == 1)
    exp = cfg.experiment("shop")
    if exp is not None and k == 0 and (c.variant >= 0).any():
        names = np.array(exp.variants, dtype=object)[c.variant[r[is_exposure]]]
        props[is_exposure] = (
            '{"product_id":"'
            + _PRODUCT_IDS[c.product[r[is_exposure]]]
            + '","experiment":"'
            + exp.name
            + '","variant":"'
            + names
            + '","anonymous_id":"'
            + hex_ids(c.anon[r[is_exposure]])
            + '"}'
        )
        expo.add(
            exp.name,
            names,
            np.zeros(len(names), np.int64),
            c.anon[r[is_exposure]],
            block["t"][is_exposure],
            "shop",
        )
    order_ids = hex_ids(hash64(c.anon, cfg.seed, "order:" + c.day.isoformat()), "ord_")
    is_purchase = action == A["purchase"]
    pr = r[is_purchase]
    props[is_purchase] = (
        '{"product_id":"'
        + _PRODUCT_IDS[c.product[pr]]
        + '","order_id":"'
        + order_ids[pr]
        + '","revenue":"'
        + np.char.mod("%.2f", c.amount[pr]).astype(object)
        + '"}'
    )
    block["props"] = props
    n_swapped = _swap_cart_and_checkout(cfg, rng, block, action, is_purchase)
    orders = _orders(cfg, c, pr, order_ids[pr], block["sess"][is_purchase], block["t"][is_purchase])
    return finish(block, "shop"), orders, n_swapped


def _swap_cart_and_checkout(
    cfg: GeneratorConfig,
    rng: np.random.Generator,
    block: Block,
    action: np.ndarray,
    is_purchase: np.ndarray,
) -> int:
    """Mess: in some purchase sessions checkout_start is logged before add_to_cart."""
    picked = np.flatnonzero(is_purchase)
    picked = picked[rng.random(len(picked)) < cfg.mess.out_of_order]
    cart, checkout = picked - 3, picked - 2  # funnel order is fixed inside the session
    ok = (action[cart] == A["add_to_cart"]) & (action[checkout] == A["checkout_start"])
    cart, checkout = cart[ok], checkout[ok]
    t = block["t"]
    t[cart], t[checkout] = t[checkout].copy(), t[cart].copy()
    return int(ok.sum())


def _orders(
    cfg: GeneratorConfig,
    c: Cohort,
    rows: np.ndarray,
    order_ids: np.ndarray,
    sess: np.ndarray,
    t: np.ndarray,
) -> pd.DataFrame:
    """Guest-checkout orders (user_id null): one course per order."""
    u = (hash64(c.anon[rows], cfg.seed, "order_status") >> np.uint64(11)).astype(float) / 2**53
    status = np.where(u < 0.03, "refunded", np.where(u < 0.05, "failed", "completed"))
    return pd.DataFrame(
        {
            "order_id": order_ids,
            "user_id": pd.array([None] * len(rows), dtype="Int64"),
            "session_id": hex_ids(sess, "s_"),
            "product_id": _PRODUCT_IDS[c.product[rows]],
            "quantity": 1,
            "amount": c.amount[rows],
            "status": status,
            "ordered_at": iso_times(t),
        }
    )


def products_table(epoch: date) -> pd.DataFrame:
    """The course catalog, exported daily; unchanged since the epoch."""
    return pd.DataFrame(
        {
            "product_id": [p[0] for p in catalog.PRODUCTS],
            "name": [p[1] for p in catalog.PRODUCTS],
            "category": [p[2] for p in catalog.PRODUCTS],
            "base_price": [p[3] for p in catalog.PRODUCTS],
            "updated_at": f"{epoch.isoformat()}T00:00:00.000Z",
        }
    )
