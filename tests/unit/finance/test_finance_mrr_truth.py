"""The MRR bridge against the generator's planted truth (``_truth/.../manifest.json``).

Generates a small company from its first day to a day in its third month into a temp raw
root, builds silver.billing_events straight from the raw CSV (typed per its contract; the
silver job is not needed for this check), runs the bridge for every month and compares it
with the planted ``mrr_by_month`` to the cent. Funnel rates are turned up so that every
month sees paying customers and plan moves within a few weeks of data.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from include.generator import GeneratorConfig, write_day
from include.generator.config import FunnelRates
from include.table_catalog_sources import SILVER_BILLING_EVENTS
from spark_jobs.gold.finance import mrr_bridge

EPOCH, LAST = date(2024, 1, 15), date(2024, 3, 6)
CONFIG = GeneratorConfig(
    seed=19,
    events_per_day=1_000,
    epoch=EPOCH.isoformat(),
    experiments=(),
    funnel=replace(
        FunnelRates(),
        signup_share=0.5,
        activation=0.9,
        trial_conversion=0.8,
        monthly_upgrade=0.35,
        monthly_downgrade=0.35,
        monthly_churn=0.15,
    ),
)


@pytest.fixture(scope="module")
def raw_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    day = EPOCH
    while day <= LAST:
        write_day(day.isoformat(), str(root), CONFIG)
        day += timedelta(days=1)
    return root


def silver_billing_rows(root: Path) -> list[tuple]:
    """silver.billing_events rows from the raw CSV: typed, ds = the landing folder."""
    rows = []
    for path in sorted(root.glob("billing_events/ds=*/*.csv")):
        landed = path.parent.name.removeprefix("ds=")
        with path.open() as f:
            for r in csv.DictReader(f):
                rows.append(
                    (
                        r["billing_event_id"],
                        int(r["user_id"]),
                        r["event_type"],
                        datetime.fromisoformat(r["event_time"].replace("Z", "")),
                        r["plan"],
                        Decimal(r["mrr"]),
                        Decimal(r["previous_mrr"]),
                        r["promo_code"] or None,
                        landed,
                    )
                )
    return rows


def test_bridge_matches_planted_mrr_by_month(spark, raw_root):
    truth = json.loads((raw_root / f"_truth/ds={LAST}/manifest.json").read_text())["mrr_by_month"]
    billing = spark.createDataFrame(
        silver_billing_rows(raw_root), SILVER_BILLING_EVENTS.spark_schema()
    ).cache()
    month_ends = ["2024-01-31", "2024-02-29", LAST.isoformat()]
    frames = [mrr_bridge.transform(billing, ds) for ds in month_ends]
    got = {r.month: r for r in frames[0].unionByName(frames[1]).unionByName(frames[2]).collect()}
    assert sorted(got) == sorted(truth) == ["2024-01", "2024-02", "2024-03"]
    names = {
        "start": "start_mrr",
        "new": "new_mrr",
        "expansion": "expansion_mrr",
        "contraction": "contraction_mrr",
        "churn": "churn_mrr",
        "end": "end_mrr",
    }
    for month, planted in truth.items():
        ours = got[month]
        for key, column in names.items():
            assert ours[column] == Decimal(str(planted[key])).quantize(Decimal("0.01")), (
                month, key, ours[column], planted[key],
            )  # fmt: skip
        assert ours.end_customers == planted["paying_accounts_end"], month
    # the generated history exercises every kind of movement at least once
    for column in ("new_mrr", "expansion_mrr", "contraction_mrr", "churn_mrr"):
        assert any(r[column] > 0 for r in got.values()), column
    print({m: {k: str(v) for k, v in r.asDict().items()} for m, r in sorted(got.items())})
