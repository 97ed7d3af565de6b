"""Fast, deterministic text building: row-wise joins and ISO timestamps from lookup tables.

Serialising tens of millions of values is the generator's hot spot. Instead of formatting
each value, columns are mapped through small lookup tables (dates of the few days present,
the 86,400 ``HH:MM:SS`` strings, the 1,000 millisecond suffixes, the 256 IPv4 octets) and
the pieces are joined row-wise in C.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from itertools import repeat

import numpy as np

MS_PER_DAY = 86_400_000
_EPOCH = date(1970, 1, 1)


def join_columns(parts: list[str | np.ndarray]) -> np.ndarray:
    """Row-wise concatenation of string columns and constants into one object array.

    ``map(str.join)`` over ``zip`` runs in C (one allocation per row, no Python bytecode per
    row); chained ``+`` on object arrays would copy each growing line once per column.
    """
    arrays = [p for p in parts if not isinstance(p, str)]
    n = len(arrays[0]) if arrays else 0
    columns = [repeat(p, n) if isinstance(p, str) else p.tolist() for p in parts]
    out = np.empty(n, dtype=object)
    out[:] = list(map("".join, zip(*columns, strict=False)))
    return out


@lru_cache(maxsize=1)
def _clock_tables() -> tuple[np.ndarray, np.ndarray]:
    secs = np.arange(86_400)
    hms = [
        f"{h:02d}:{m:02d}:{s:02d}"
        for h, m, s in zip(secs // 3600, secs // 60 % 60, secs % 60, strict=True)
    ]
    millis = [f"{i:03d}" for i in range(1000)]
    return np.array(hms, dtype=object), np.array(millis, dtype=object)


def iso_pieces(ms: np.ndarray) -> list[str | np.ndarray]:
    """Pieces that join to ``YYYY-MM-DDTHH:MM:SS.mmmZ`` for unix-ms times (UTC)."""
    ms = np.asarray(ms, dtype=np.int64)
    days = np.floor_divide(ms, MS_PER_DAY)
    within = ms - days * MS_PER_DAY
    hms, millis = _clock_tables()
    if len(days):
        lo = int(days.min())
        table = np.array(
            [
                (_EPOCH + timedelta(days=lo + i)).isoformat()
                for i in range(int(days.max()) - lo + 1)
            ],
            dtype=object,
        )
        day_text = table[days - lo]
    else:
        day_text = np.array([], dtype=object)
    return [day_text, "T", hms[within // 1000], ".", millis[within % 1000], "Z"]


def iso_times(ms: np.ndarray) -> np.ndarray:
    """ISO-8601 UTC strings with milliseconds and a Z (object array), vectorised."""
    return join_columns(iso_pieces(ms))


_OCTETS = np.array([str(i) for i in range(256)], dtype=object)


def ip_pieces(ip: np.ndarray) -> list[str | np.ndarray]:
    """Pieces that join to dotted IPv4 strings from integers."""
    ip = np.asarray(ip, dtype=np.int64)
    return [
        _OCTETS[(ip >> 24) & 255],
        ".",
        _OCTETS[(ip >> 16) & 255],
        ".",
        _OCTETS[(ip >> 8) & 255],
        ".",
        _OCTETS[ip & 255],
    ]


def ip_strings(ip: np.ndarray) -> np.ndarray:
    return join_columns(ip_pieces(ip))


def money(values: np.ndarray) -> np.ndarray:
    """Non-negative amounts as ``123.45`` strings (object array), vectorised."""
    cents = np.round(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)
    whole = (cents // 100).astype(str).astype(object)
    frac = np.array([f"{i:02d}" for i in range(100)], dtype=object)[cents % 100]
    return join_columns([whole, ".", frac])
