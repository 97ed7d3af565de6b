"""Row-level mess and byte-exact serialisation of web events (JSON lines) and CSV exports.

Row mess is planted on *eligible* rows only (background reading, logins, bots, late
events), never on funnel or exposure events, so the experiment truth stays countable; the
probability is scaled up so the rate over all events matches the configured rate. The
categories (null field, bad hostname, unknown action, truncated line) are disjoint, and
duplicates are copies of otherwise clean rows, so every planted count can be recounted from
the files exactly.

Lines are built with vectorised concatenation of pre-quoted lookup tables: no per-row
``json.dumps`` and identical bytes on every run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from include.generator import catalog
from include.generator.config import GeneratorConfig
from include.generator.events import COMPONENTS, Block, take
from include.generator.randomness import hash64, hex_ids, stream
from include.generator.text import ip_pieces, iso_pieces, join_columns, money
from include.raw_sources import ACTION_TYPES, HOSTNAMES

HOST_TABLE = HOSTNAMES + catalog.BAD_HOSTNAMES
ACTION_TABLE = ACTION_TYPES + catalog.UNKNOWN_ACTIONS
UA_TABLE = tuple(u[0] for u in catalog.USER_AGENTS) + catalog.BOT_AGENTS
MESSY_COMPONENTS = ("background", "usage", "bots", "late")
NULL_FIELDS = catalog.NULLABLE_WEB_FIELDS


@dataclass
class RowMess:
    null_field: np.ndarray  # index into NULL_FIELDS or -1
    truncate: np.ndarray  # bool
    counts: dict[str, int]
    null_by_field: dict[str, int]


def _quoted(values: tuple[str, ...] | list[str]) -> np.ndarray:
    return np.array([f'"{v}"' for v in values], dtype=object)


def event_ids(cfg: GeneratorConfig, day: date, block: Block) -> np.ndarray:
    """Unique per real event: a hash of (seed, landing day, component, position)."""
    key = block["comp"].astype(np.int64) * 2**40 + block["seq"]
    return hash64(key, cfg.seed, "event:" + day.isoformat())


def plant_row_mess(cfg: GeneratorConfig, day: date, block: Block) -> tuple[Block, RowMess]:
    """Break some eligible rows and duplicate some clean ones (returns a new block)."""
    m = cfg.mess
    n = len(block["t"])
    rng = stream(cfg.seed, day, "row_mess")
    codes = [COMPONENTS[c] for c in MESSY_COMPONENTS]
    eligible = np.flatnonzero(np.isin(block["comp"], codes))
    scale = n / max(len(eligible), 1)
    rates = np.array([m.null_field, m.bad_hostname, m.unknown_action, m.unparsable]) * scale
    if rates.sum() > 1:
        rates = rates / rates.sum()
    u = rng.random(len(eligible))
    category = np.searchsorted(np.cumsum(rates), u, side="right")  # 4 = untouched
    host = block["host"].astype(np.int8).copy()
    action = block["action"].astype(np.int8).copy()
    null_field = np.full(n, -1, np.int8)
    truncate = np.zeros(n, bool)
    rows = eligible[category == 0]
    null_field[rows] = rng.integers(0, len(NULL_FIELDS), len(rows))
    rows = eligible[category == 1]
    host[rows] = len(HOSTNAMES) + rng.integers(0, len(catalog.BAD_HOSTNAMES), len(rows))
    rows = eligible[category == 2]
    action[rows] = len(ACTION_TYPES) + rng.integers(0, len(catalog.UNKNOWN_ACTIONS), len(rows))
    truncate[eligible[category == 3]] = True
    out = dict(block, host=host, action=action)
    clean = (null_field < 0) & ~truncate & (host < len(HOSTNAMES)) & (action < len(ACTION_TYPES))
    dup = np.flatnonzero(clean & (rng.random(n) < m.duplicate))
    order = np.concatenate([np.arange(n), dup])
    out = take(out, order)
    null_field, truncate = null_field[order], truncate[order]
    counts = {
        "null_field": int((category == 0).sum()),
        "bad_hostname": int((category == 1).sum()),
        "unknown_action": int((category == 2).sum()),
        "unparsable": int((category == 3).sum()),
        "duplicate": len(dup),
    }
    by_field = {f: int((null_field[:n] == i).sum()) for i, f in enumerate(NULL_FIELDS)}
    return out, RowMess(null_field, truncate, counts, by_field)


def sort_events(block: Block, mess: RowMess) -> tuple[Block, RowMess]:
    """Order rows by event time then event id (the files' order; duplicates end up adjacent)."""
    order = np.lexsort((block["eid"], block["t"]))
    sorted_mess = RowMess(
        mess.null_field[order], mess.truncate[order], mess.counts, mess.null_by_field
    )
    return take(block, order), sorted_mess


def web_part_bytes(block: Block, mess: RowMess, per_part: int) -> Iterator[bytes]:
    """Serialise sorted events part by part, so memory holds one part's text at a time."""
    n = len(block["t"])
    for lo in range(0, max(n, 1), per_part):
        hi = min(lo + per_part, n)
        part = {k: v[lo:hi] for k, v in block.items()}
        lines = web_lines(part, mess.null_field[lo:hi], mess.truncate[lo:hi])
        yield ("\n".join(lines.tolist()) + "\n").encode("utf-8") if len(lines) else b""


def web_lines(b: Block, null_field: np.ndarray, truncate: np.ndarray) -> np.ndarray:
    """JSON lines (object array of str) for already-sorted web events."""
    eid = b["eid"]
    host = _quoted(HOST_TABLE)[b["host"]]
    clean_host = np.array(HOSTNAMES, dtype=object)[np.minimum(b["host"], 1) * (b["host"] < 2)]
    url_host = np.where(
        b["host"] < len(HOSTNAMES), clean_host, np.array(HOST_TABLE, dtype=object)[b["host"]]
    )
    paths = np.array([catalog.ACTION_PATHS.get(a, "/") for a in ACTION_TABLE], dtype=object)
    refs = _quoted([r[1] for r in catalog.REFERRERS])
    refs[[r[1] is None for r in catalog.REFERRERS]] = "null"
    utms = _quoted([r[0] for r in catalog.REFERRERS])
    utms[[r[0] is None for r in catalog.REFERRERS]] = "null"
    uid = b["uid"]
    uid_text = np.full(len(uid), "null", dtype=object)
    logged = uid > 0
    uid_text[logged] = uid[logged].astype(str).astype(object)
    props = b["props"].copy()
    props[props == None] = "{}"  # noqa: E711 (numpy elementwise comparison)
    parts = [
        '{"event_id":"',
        hex_ids(eid),
        '","event_time":"',
        *iso_pieces(b["t"]),
        '","user_id":',
        uid_text,
        ',"ip":"',
        *ip_pieces(b["ip"]),
        '","user_agent":',
        _quoted(UA_TABLE)[b["ua"]],
        ',"hostname":',
        host,
        ',"url":"https://',
        url_host,
        paths[b["action"]],
        '","referrer":',
        refs[b["ref"]],
        ',"utm_source":',
        utms[b["ref"]],
        ',"session_id":"',
        hex_ids(b["sess"], "s_"),
        '","action_type":',
        _quoted(ACTION_TABLE)[b["action"]],
        ',"properties":',
        props,
        "}",
    ]
    line = join_columns(parts)
    # Nulls and truncations touch a small share of rows (the planted rates): fix them up
    # row by row instead of carrying null masks through the fast path.
    for i, name in enumerate(NULL_FIELDS):
        rows = np.flatnonzero(null_field == i)
        pattern = re.compile(f'"{name}":"[^"]*"')
        line[rows] = [pattern.sub(f'"{name}":null', text, count=1) for text in line[rows]]
    cut = np.flatnonzero(truncate)
    line[cut] = [text[: max(5, len(text) // 2)] for text in line[cut]]
    return line


def jsonl_records(frame: pd.DataFrame) -> bytes:
    """Small JSON-lines exports (assignments) via pandas' C writer; sorted by the caller."""
    if frame.empty:
        return b""
    text = frame.to_json(orient="records", lines=True, date_format="iso")
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def csv_bytes(frame: pd.DataFrame, columns: tuple[str, ...]) -> bytes:
    """CSV with the contract's header, two-decimal money, empty field for null.

    Values are controlled vocabularies (no commas, quotes or newlines), so no quoting is
    needed; columns are formatted vectorised and joined row-wise in C.
    """
    pieces: list[str | np.ndarray] = []
    for i, name in enumerate(columns):
        if i:
            pieces.append(",")
        pieces.append(_csv_column(frame[name]))
    body = join_columns(pieces) if len(frame) else np.array([], dtype=object)
    return ("\n".join([",".join(columns), *body.tolist()]) + "\n").encode("utf-8")


def _csv_column(col: pd.Series) -> np.ndarray:
    """One column as strings: floats with 2 decimals, nulls empty."""
    missing = col.isna().to_numpy()
    if pd.api.types.is_float_dtype(col.dtype):
        out = money(col.fillna(0).to_numpy(dtype=np.float64))
    elif pd.api.types.is_integer_dtype(col.dtype):
        out = col.fillna(0).to_numpy(dtype=np.int64).astype(str).astype(object)
    else:
        out = np.asarray(col.to_numpy(dtype=object, na_value=""), dtype=object)
    if missing.any():
        out = out.copy()
        out[missing] = ""
    return out
