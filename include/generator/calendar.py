"""Seasonality the generator plants: weekday and Q1/Q4 day weights and an hourly profile.

The finance handbook (seed 004) says built-in weightings favour Q1 and Q4; seed 003 checks
that ``event_hour`` follows the usual daily pattern. Both are plain tables here so the
manifest can record them and tests can look for them.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

MS_PER_DAY = 86_400_000
MS_PER_HOUR = 3_600_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# Monday..Sunday: busier working days, quiet weekends.
WEEKDAY_WEIGHT: tuple[float, ...] = (1.10, 1.12, 1.10, 1.06, 0.98, 0.80, 0.84)
# Q1 and Q4 busier (new-year budgets, year-end deals); the summer is quiet.
QUARTER_WEIGHT: dict[int, float] = {1: 1.20, 2: 0.90, 3: 0.80, 4: 1.15}
# UTC hours 0..23: a trough around 03-05, a plateau in the European and US working days.
HOUR_WEIGHT: tuple[float, ...] = (
    0.35,
    0.28,
    0.22,
    0.18,
    0.17,
    0.20,
    0.30,
    0.45,
    0.65,
    0.85,
    1.00,
    1.08,
    1.12,
    1.18,
    1.25,
    1.30,
    1.28,
    1.20,
    1.08,
    0.95,
    0.82,
    0.70,
    0.55,
    0.45,
)


def quarter(day: date) -> int:
    return (day.month - 1) // 3 + 1


def day_weight(day: date) -> float:
    """Relative traffic of ``day`` (mean about 1 over a year)."""
    return WEEKDAY_WEIGHT[day.weekday()] * QUARTER_WEIGHT[quarter(day)]


def day_start_ms(day: date) -> int:
    """Unix milliseconds of 00:00 UTC on ``day``."""
    return (day.toordinal() - _EPOCH_ORDINAL) * MS_PER_DAY


def ms_to_day_index(ms: np.ndarray) -> np.ndarray:
    """Proleptic ordinal day of each unix-millisecond time (matches ``date.toordinal``)."""
    return np.floor_divide(ms, MS_PER_DAY) + _EPOCH_ORDINAL


def parse_day(ds: str) -> date:
    return date.fromisoformat(ds)


def day_range(first: str, days: int) -> list[str]:
    start = parse_day(first)
    return [(start + timedelta(days=i)).isoformat() for i in range(days)]


def sample_times(rng: np.random.Generator, day: date, n: int) -> np.ndarray:
    """``n`` unix-ms times on ``day`` following the hourly profile."""
    hours = rng.choice(24, size=n, p=np.asarray(HOUR_WEIGHT) / sum(HOUR_WEIGHT))
    within = rng.integers(0, MS_PER_HOUR, size=n)
    return day_start_ms(day) + hours.astype(np.int64) * MS_PER_HOUR + within


def iso_times(ms: np.ndarray) -> np.ndarray:
    """ISO-8601 UTC strings with milliseconds and a Z (object array), vectorised."""
    from include.generator.text import iso_times as _iso

    return _iso(ms)
