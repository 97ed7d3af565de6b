"""Shared fixtures for the generator tests: small configs and days generated once per session."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
for path in (ROOT, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from gen_helpers import DS, MESSY, SMALL, Day

from include.generator import generate_day


@pytest.fixture(scope="session")
def small_day() -> Day:
    return Day(DS, SMALL, generate_day(DS, SMALL))


@pytest.fixture(scope="session")
def messy_day() -> Day:
    return Day(DS, MESSY, generate_day(DS, MESSY))


@pytest.fixture(scope="session")
def big_day() -> Day:
    """A bigger day for rate-vs-truth checks (more exposures, same default mess)."""
    cfg = replace(SMALL, seed=5, events_per_day=250_000)
    return Day(DS, cfg, generate_day(DS, cfg))
