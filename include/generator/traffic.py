"""Non-funnel web traffic and the experiment mess that adds exposures.

* background readers (blog, videos, landing pages) fill the day up to its seasonal volume;
* bots: a few crawler IPs with bot/crawler/spider user agents and very high event rates,
  spread evenly over the day (no human hourly pattern);
* late events: real events of ``ds - 1`` that only arrive in ``ds``'s folder;
* contamination: an exposed visitor sees a second, different variant a few minutes later;
* multi-id: the same person shows up under 1-2 more cookies (another device), with their
  own exposure and assignment; the mapping goes to the truth.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from include.generator import catalog
from include.generator.calendar import MS_PER_DAY, day_start_ms, sample_times
from include.generator.config import GeneratorConfig
from include.generator.events import (
    BOT_UA_OFFSET,
    Block,
    expand_sessions,
    exposure_props,
    finish,
    session_keys,
    take,
    visitor_traits,
)
from include.generator.randomness import hash64, hex_ids, stream
from include.generator.saas_day import Exposures
from include.generator.subscribers import variant_of
from include.raw_sources import ACTION_TYPES

A = {name: i for i, name in enumerate(ACTION_TYPES)}


def background_block(
    cfg: GeneratorConfig, day: date, n_events: int, comp: str = "background"
) -> Block:
    """About ``n_events`` anonymous reading events: landing, then page views and videos."""
    rng = stream(cfg.seed, day, comp)
    n_sessions = max(0, round(n_events / 3.0))
    counts = 1 + rng.poisson(2.0, n_sessions)
    anon = hash64(day.toordinal() * 2**32 + np.arange(n_sessions), cfg.seed, "anon:" + comp)
    cols = {
        "anon": anon,
        "sess": session_keys(cfg.seed, anon, comp),
        **visitor_traits(cfg.seed, anon),
    }
    start = sample_times(rng, day, n_sessions)
    block, _, pos = expand_sessions(rng, comp, start, counts, cols)
    pick = rng.random(len(pos))
    block["action"] = np.where(
        pos == 0, A["landing_page"], np.where(pick < 0.8, A["page_view"], A["watch_video"])
    )
    return finish(block, comp)


def late_block(cfg: GeneratorConfig, day: date, n_events: int) -> Block:
    """Events that happened on ``day - 1`` but were delivered with ``day``'s data."""
    block = background_block(cfg, day - timedelta(days=1), n_events, "late")
    block["t"] = np.minimum(block["t"], day_start_ms(day) - 1)
    return block


def bot_block(cfg: GeneratorConfig, day: date, n_events: int) -> Block:
    """Crawlers: ~2000 page views per bot IP, uniform over the day."""
    rng = stream(cfg.seed, day, "bots")
    n_bots = max(1, n_events // 2000) if n_events else 0
    per_bot = rng.multinomial(n_events, np.full(n_bots, 1 / n_bots)) if n_bots else []
    bot_id = np.repeat(np.arange(n_bots), per_bot)
    key = day.toordinal() * 4096 + bot_id
    ip = catalog.BOT_IP_FIRST_OCTET * 16_777_216 + (
        hash64(key, cfg.seed, "bot_ip") & np.uint64(0xFFFFFF)
    ).astype(np.int64)
    block = {
        "t": day_start_ms(day) + rng.integers(0, MS_PER_DAY, len(bot_id)),
        "anon": hash64(key, cfg.seed, "bot_anon"),
        "sess": hash64(key, cfg.seed, "bot_sess"),
        "ip": ip,
        "ua": BOT_UA_OFFSET
        + (hash64(key, cfg.seed, "bot_ua") % np.uint64(len(catalog.BOT_AGENTS))).astype(np.int64),
        "host": (hash64(key, cfg.seed, "bot_host") & np.uint64(1)).astype(np.int64),
        "ref": np.full(len(bot_id), 1),  # direct
        "action": np.full(len(bot_id), A["page_view"]),
    }
    return finish(block, "bots")


def exposure_rows(block: Block) -> np.ndarray:
    """Indexes of exposure events (they carry an ``experiment`` property)."""
    has = np.flatnonzero(block["props"] != None)  # noqa: E711 (numpy elementwise)
    text = pd.Series(block["props"][has], dtype=object)
    return has[text.str.contains('"experiment":"', regex=False).to_numpy(dtype=bool)]


def _exposure_fields(block: Block, rows: np.ndarray) -> pd.DataFrame:
    text = pd.Series(block["props"][rows], dtype=object)
    out = text.str.extract(r'"experiment":"([^"]+)","variant":"([^"]+)"')
    out.columns = ["experiment", "variant"]
    return out


def contamination_block(
    cfg: GeneratorConfig, day: date, block: Block, expo: Exposures
) -> tuple[Block, int]:
    """Exposed visitors who get a second exposure to another variant minutes later."""
    rng = stream(cfg.seed, day, "contamination")
    rows = exposure_rows(block)
    rows = rows[rng.random(len(rows)) < cfg.mess.contamination]
    if len(rows) == 0:
        return finish({"t": np.array([], np.int64)}, "contamination"), 0
    fields = _exposure_fields(block, rows)
    new = take(block, rows)
    new["t"] = np.minimum(new["t"] + 180_000, day_start_ms(day) + MS_PER_DAY - 1)
    other = np.empty(len(rows), dtype=object)
    for exp in cfg.experiments:
        names = list(exp.variants)
        mask = (fields["experiment"] == exp.name).to_numpy()
        idx = np.array([names.index(v) for v in fields["variant"][mask]], dtype=np.int64)
        other[mask] = np.array(names, dtype=object)[(idx + 1) % len(names)]
    props = pd.Series(new["props"], dtype=object)
    new["props"] = _replace_variant(props, fields["variant"].to_numpy(), other)
    for exp_name in fields["experiment"].unique():
        m = (fields["experiment"] == exp_name).to_numpy()
        expo.add(exp_name, other[m], new["uid"][m], new["anon"][m], new["t"][m], "contamination")
    return finish(new, "contamination"), len(rows)


def _replace_variant(props: pd.Series, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Swap the variant inside exposure properties, one replace per distinct (old, new)."""
    out = props.to_numpy(dtype=object).copy()
    pairs = pd.DataFrame({"old": old, "new": new}).drop_duplicates()
    for o, n in pairs.itertuples(index=False):
        m = (old == o) & (new == n)
        out[m] = (
            pd.Series(out[m], dtype=object)
            .str.replace(f'"variant":"{o}"', f'"variant":"{n}"', regex=False)
            .to_numpy(dtype=object)
        )
    return out


def multi_id_block(
    cfg: GeneratorConfig, day: date, block: Block, expo: Exposures
) -> tuple[Block, pd.DataFrame]:
    """The same person exposed again under 1-2 other cookies (another device or browser)."""
    rng = stream(cfg.seed, day, "multi_id")
    rows = exposure_rows(block)
    rows = rows[rng.random(len(rows)) < cfg.mess.multi_id]
    extra = 1 + (rng.random(len(rows)) < 0.4)
    src = np.repeat(rows, extra)
    j = np.concatenate([np.arange(k) for k in extra]) if len(extra) else np.array([], int)
    if len(src) == 0:
        return finish({"t": np.array([], np.int64)}, "multi_id"), _identity_frame([], [], [])
    person_uid = _session_user(block, block["sess"][src])
    anon2 = hash64(
        block["anon"][src] ^ np.uint64(0x5BD1E995) ^ j.astype(np.uint64), cfg.seed, "alias"
    )
    fields = _exposure_fields(block, src)
    t = np.minimum(
        block["t"][src] + (rng.random(len(src)) * 6 * 3_600_000).astype(np.int64) + 3_600_000,
        day_start_ms(day) + MS_PER_DAY - 1,
    )
    traits = visitor_traits(cfg.seed, anon2)
    traits["ip"] = block["ip"][src]  # same household / office network
    variants = np.empty(len(src), dtype=object)
    for exp in cfg.experiments:
        m = (fields["experiment"] == exp.name).to_numpy()
        variants[m] = np.array(exp.variants, dtype=object)[variant_of(cfg.seed, exp, anon2[m])]
    new = {
        "t": t,
        "uid": person_uid,
        "anon": anon2,
        "sess": session_keys(cfg.seed, anon2, "alias"),
        "action": block["action"][src],
        **traits,
    }
    props = np.empty(len(src), dtype=object)
    for name in fields["experiment"].unique():
        m = (fields["experiment"] == name).to_numpy()
        props[m] = exposure_props(name, variants[m], hex_ids(anon2[m]))
        expo.add(name, variants[m], person_uid[m], anon2[m], t[m], "multi_id")
    new["props"] = props
    identity = _identity_frame(hex_ids(block["anon"][src]), hex_ids(anon2), person_uid)
    return finish(new, "multi_id"), identity


def _session_user(block: Block, sess: np.ndarray) -> np.ndarray:
    """The logged-in user of each session (0 if the session never logs in)."""
    m = np.isin(block["sess"], sess) & (block["uid"] > 0)
    lookup = pd.Series(block["uid"][m], index=block["sess"][m]).groupby(level=0).max()
    return lookup.reindex(sess).fillna(0).to_numpy(dtype=np.int64)


def _identity_frame(primary, alias, uid) -> pd.DataFrame:
    """Identity truth rows for cookie aliases (``id_type`` = anonymous_id)."""
    uid = np.asarray(uid, dtype=np.int64)
    user_id = pd.array(uid, dtype="Int64")
    user_id[uid == 0] = pd.NA
    return pd.DataFrame(
        {
            "id_type": "anonymous_id",
            "person_id": pd.Series(primary, dtype=object),
            "alias_id": pd.Series(alias, dtype=object),
            "user_id": user_id,
        }
    )
