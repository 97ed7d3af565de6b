"""Columnar blocks of web events and the helpers every traffic component uses to build them.

A block is a dict of equal-length numpy arrays (one per column below). Components build
blocks session by session but entirely vectorised: sessions get their attributes as arrays,
``expand_sessions`` repeats them per event and lays event times out along each session.
Values are small codes (indexes into the catalog's tables) until serialisation, which keeps
ten million events in a few hundred megabytes.
"""

from __future__ import annotations

import numpy as np

from include.generator import catalog
from include.generator.randomness import hash64, hash_uniform, pick_weighted

# Column -> dtype. uid 0 means logged out (null); props holds JSON object text or None.
COLUMNS: dict[str, object] = {
    "t": np.int64,  # event time, unix ms
    "uid": np.int64,
    "anon": np.uint64,  # cookie id (pseudo-user)
    "sess": np.uint64,
    "ip": np.int64,  # IPv4 as an integer
    "ua": np.int16,  # index into USER_AGENTS + BOT_AGENTS
    "host": np.int8,  # index into HOSTNAMES + BAD_HOSTNAMES
    "action": np.int8,  # index into ACTION_TYPES + UNKNOWN_ACTIONS
    "ref": np.int8,  # index into REFERRERS
    "props": object,
    "comp": np.int16,  # which component made the event (keeps event ids unique)
    "seq": np.int64,  # position within its component
}
Block = dict[str, np.ndarray]

COMPONENTS: dict[str, int] = {
    "background": 1,
    "homepage": 2,
    "signup": 3,
    "hybrid": 4,
    "converted_exposure": 5,
    "usage": 6,
    "shop": 7,
    "bots": 8,
    "late": 9,
    "contamination": 10,
    "multi_id": 11,
}
BOT_UA_OFFSET = len(catalog.USER_AGENTS)
DEVICE_OF_UA = np.array(
    [catalog.DEVICE_TYPES.index(u[2]) for u in catalog.USER_AGENTS] + [0] * len(catalog.BOT_AGENTS)
)


def empty_block() -> Block:
    return {name: np.array([], dtype=dt) for name, dt in COLUMNS.items()}


def concat_blocks(blocks: list[Block]) -> Block:
    """Concatenate blocks column by column (empty list -> empty block)."""
    blocks = [b for b in blocks if len(b["t"])]
    if not blocks:
        return empty_block()
    return {
        name: np.concatenate([b[name] for b in blocks]).astype(dt, copy=False)
        for name, dt in COLUMNS.items()
    }


def take(block: Block, idx: np.ndarray) -> Block:
    return {name: col[idx] for name, col in block.items()}


def size(block: Block) -> int:
    return len(block["t"])


def visitor_traits(seed: int, anon: np.ndarray) -> dict[str, np.ndarray]:
    """IP, device and referrer of a cookie: pure functions of the cookie id."""
    country = pick_weighted(
        hash_uniform(anon, seed, "v_country"), [c[2] for c in catalog.COUNTRIES]
    )
    return {
        "ip": ip_in_country(seed, anon, country),
        "ua": pick_weighted(hash_uniform(anon, seed, "v_ua"), [u[3] for u in catalog.USER_AGENTS]),
        "ref": pick_weighted(hash_uniform(anon, seed, "v_ref"), [r[2] for r in catalog.REFERRERS]),
        "host": (hash_uniform(anon, seed, "v_host") < 0.3).astype(np.int8),
    }


def ip_in_country(seed: int, key: np.ndarray, country: np.ndarray) -> np.ndarray:
    """An IPv4 whose first octet belongs to ``country`` (see catalog.IP_FIRST_OCTET_COUNTRY)."""
    octets = [c[3] for c in catalog.COUNTRIES]
    width = max(len(o) for o in octets)
    table = np.array([list(o) + [o[0]] * (width - len(o)) for o in octets])
    choice = hash_uniform(key, seed, "ip_octet") * np.array([len(o) for o in octets])[country]
    first = table[country, choice.astype(np.int64)]
    rest = (hash64(key, seed, "ip_rest") & np.uint64(0xFFFFFF)).astype(np.int64)
    rest = np.maximum(rest, 1)
    return first.astype(np.int64) * 16_777_216 + rest


def expand_sessions(
    rng: np.random.Generator,
    comp: str,
    start_ms: np.ndarray,
    counts: np.ndarray,
    session_cols: dict[str, np.ndarray],
    mean_gap_ms: float = 45_000.0,
) -> tuple[Block, np.ndarray, np.ndarray]:
    """Repeat per-session columns per event and space events out inside each session.

    Returns the block (without ``action`` filled in), the session index of each event and
    its position within the session, so the caller can choose actions per position.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    sess_idx = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    pos = np.arange(n) - np.repeat(first, counts)
    gaps = (rng.exponential(mean_gap_ms, n) + 1_000).astype(np.int64)
    gaps[pos == 0] = 0
    csum = np.cumsum(gaps)
    offset = csum - np.repeat(csum[first] if n else np.array([], np.int64), counts)
    block = {name: np.asarray(col)[sess_idx] for name, col in session_cols.items()}
    block["t"] = np.asarray(start_ms, dtype=np.int64)[sess_idx] + offset
    block.setdefault("uid", np.zeros(n, np.int64))
    block.setdefault("props", np.full(n, None, dtype=object))
    block["action"] = np.zeros(n, np.int8)
    block["comp"] = np.full(n, COMPONENTS[comp], np.int16)
    block["seq"] = np.arange(n, dtype=np.int64)
    return block, sess_idx, pos


def finish(block: dict, comp: str) -> Block:
    """Fill missing columns with defaults (logged out, no props) and number the events."""
    n = len(block["t"])
    block["comp"] = np.full(n, COMPONENTS[comp], np.int16)
    block["seq"] = np.arange(n, dtype=np.int64)
    out = {}
    for name, dt in COLUMNS.items():
        if name in block:
            out[name] = np.asarray(block[name]).astype(dt, copy=False)
        elif dt is object:
            out[name] = np.full(n, None, dtype=object)
        else:
            out[name] = np.zeros(n, dtype=dt)
    return out


def session_keys(seed: int, keys: np.ndarray, salt: str) -> np.ndarray:
    return hash64(keys, seed, "session:" + salt)


def exposure_props(experiment: str, variants: np.ndarray, anon_hex: np.ndarray) -> np.ndarray:
    """Properties JSON of an exposure event (object array, vectorised concatenation)."""
    return (
        '{"experiment":"'
        + experiment
        + '","variant":"'
        + variants.astype(object)
        + '","anonymous_id":"'
        + anon_hex
        + '"}'
    )
