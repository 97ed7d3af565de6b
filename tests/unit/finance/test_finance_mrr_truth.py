"""The MRR bridge against the generator's planted truth (``_truth/.../manifest.json``).

Generates a small company from its first day (mid-January) to a day in its thirteenth month
into a temp raw root (about 35 s), builds silver.billing_events straight from the raw CSV
(typed per its contract; the silver job is not needed for this check), runs the bridge for
every month (12 full months and a partial one at each end) and compares it with the planted
``mrr_by_month`` to the cent. Funnel rates are turned up so that every month sees paying
customers and plan moves. ``pytest -s`` prints the 13-month bridge.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import reduce
from pathlib import Path

import pytest
from pyspark.sql import DataFrame

from include.generator import GeneratorConfig, write_day
from include.generator.config import FunnelRates
from include.table_catalog_sources import SILVER_BILLING_EVENTS
from spark_jobs.gold.finance import mrr_bridge

EPOCH, LAST = date(2024, 1, 15), date(2025, 1, 6)
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
    month_ends = [
        (date(2024 + m // 12, m % 12 + 1, 1) - timedelta(days=1)).isoformat() for m in range(1, 13)
    ] + [LAST.isoformat()]  # 2024-01-31 .. 2024-12-31, then the month to date
    frames = [mrr_bridge.transform(billing, ds) for ds in month_ends]
    got = {r.month: r for r in reduce(DataFrame.unionByName, frames).collect()}
    assert sorted(got) == sorted(truth) == [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01"]
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
    for i, month in enumerate(sorted(got)):  # each month starts where the one before ended
        if i:
            assert got[month].start_mrr == got[sorted(got)[i - 1]].end_mrr, month
    header = ("month", "start", "new", "expansion", "contraction", "churn", "end", "customers")
    print("\n" + " | ".join(f"{h:>11}" for h in header))
    for month, r in sorted(got.items()):
        cells = (r.start_mrr, r.new_mrr, r.expansion_mrr, r.contraction_mrr, r.churn_mrr,
                 r.end_mrr, r.end_customers)
        print(f"{month:>11} | " + " | ".join(f"{c:>11,}" for c in cells))
