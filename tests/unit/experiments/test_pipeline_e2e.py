"""Generated raw days -> bronze -> silver -> gold through every job's main(), on local Delta.

The generator runs a 3-day homepage_cta_test from its epoch (so nobody activated or paid
before the experiment: every outcome the truth counts "by end" happens inside the 3 days and
is visible to the pipeline). Checks: per-arm eligible visitors and activation rates within
statistical error of the manifest's truth, and that re-running a ds rewrites identical rows.

Cost: every job is a few small Spark jobs and Delta commits whose fixed overhead (log,
listing, py4j round trips) dominates on a 2-core machine, so the bronze and silver jobs run
concurrently where the pipeline allows it: bronze and silver tables are partitioned by ds
and each job replaces only its own partition (or quarantine slice), so the jobs of
different sources and days are independent, except that silver.experiment_assignments
reads silver.sessions of its day. Two things stay serial: table creation (done up front)
and ``write_partition`` itself, which reports the rows of the table's *latest* commit, so
two writers of one table (every job writes bronze.quarantine) must not interleave; a lock
around it keeps each job's row accounting its own. Same jobs, days and checks as before.
"""

from __future__ import annotations

import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

DAYS = ("2024-01-01", "2024-01-02", "2024-01-03")
SOURCES = ("sessions", "experiment_assignments", "accounts", "billing_events")
WORKERS = 4
CONFIG = """
name: homepage_cta_test
funnel: saas
variants: [{name: control, weight: 0.5}, {name: treatment, weight: 0.5}]
control: control
start_date: "2024-01-01"
end_date: "2024-01-03"
exposure_event: experiment_exposure
activation_lookback_days: 90
metrics:
  - {name: activation, type: conversion, role: primary}
  - {name: conversion, type: conversion, role: primary}
  - {name: new_booking, type: conversion, role: guardrail}
  - {name: nb_mrr, type: revenue, role: primary}
  - {name: support_tickets_14d, role: guardrail}
  - {name: conversion_14d, role: secondary}
segments: [region, device_type, package, customer_type, list_size_group, traffic_source]
"""


def _generator_config():
    from include.generator import GeneratorConfig
    from include.generator.config import ExperimentConfig

    saas = ExperimentConfig(
        name="homepage_cta_test",
        kind="saas",
        start_date=DAYS[0],
        end_date=DAYS[-1],
        effects={"activation": 0.10, "conversion": 0.12, "new_booking": 0.12, "nb_mrr": 0.15},
    )
    return GeneratorConfig(seed=11, events_per_day=20_000, epoch=DAYS[0], experiments=(saas,))


def _create_tables(spark, settings) -> None:
    """Create every bronze / silver table the jobs write before they run concurrently."""
    from include.table_catalog import QUARANTINE
    from include.table_catalog_bronze_sources import BRONZE_SOURCES
    from include.table_catalog_sources import (
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_SESSIONS,
    )
    from include.tables import ensure_table

    silver = (SILVER_SESSIONS, SILVER_EXPERIMENT_ASSIGNMENTS, SILVER_ACCOUNTS)
    for contract in (QUARANTINE, *[BRONZE_SOURCES[s] for s in SOURCES], *silver,
                     SILVER_BILLING_EVENTS):
        ensure_table(spark, contract, settings)


def _serialise_writes(monkeypatch) -> None:
    """Make ``write_partition`` (write + read of the latest commit) atomic across threads."""
    import include.tables as tables

    lock, write = threading.Lock(), tables.write_partition

    def locked(*args, **kwargs):
        with lock:
            return write(*args, **kwargs)

    monkeypatch.setattr(tables, "write_partition", locked)


def _run_concurrently(spark, jobs: list[tuple[str, str]]) -> list[dict]:
    """Run independent ``(job, ds)`` pairs on the shared session; the first failure raises."""
    from spark_jobs.run import run

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(lambda job_ds: run(job_ds[0], job_ds[1], spark=spark), jobs))


@pytest.mark.slow
def test_generated_days_recover_planted_truth(spark, lakehouse_env, tmp_path, monkeypatch):
    from include.generator import write_day
    from include.table_catalog_experiments import contract_for
    from include.tables import read_partition
    from spark_jobs.run import run

    exp_dir = tmp_path / "experiments"
    exp_dir.mkdir()
    (exp_dir / "homepage_cta_test.yaml").write_text(CONFIG)
    monkeypatch.setenv("LAKEHOUSE_EXPERIMENTS_DIR", str(exp_dir))
    raw = tmp_path / "raw"
    cfg = _generator_config()
    for ds in DAYS:
        write_day(ds, str(raw), cfg)
    _create_tables(spark, lakehouse_env)
    _serialise_writes(monkeypatch)
    bronze = _run_concurrently(spark, [(f"bronze.{s}", ds) for ds in DAYS for s in SOURCES])
    assert all(r["rows_in"] > 0 and r["rows_out"] > 0 for r in bronze), bronze
    _run_concurrently(spark, [("silver.sessions", ds) for ds in DAYS])
    _run_concurrently(spark, [(f"silver.{s}", ds) for ds in DAYS for s in SOURCES[1:]])
    params = {"experiment": "homepage_cta_test"}
    last = DAYS[-1]
    for job in ("base", "outcomes", "aggregated"):
        run(f"gold.experiments.{job}", last, params, spark=spark)
    outcomes_c = contract_for("homepage_cta_test", "outcomes")
    first = sorted(read_partition(spark, outcomes_c, last, lakehouse_env).collect())

    # truth: sum the per-day manifests of the exposed cohorts
    truth = {"control": [0, 0], "treatment": [0, 0]}
    for ds in DAYS:
        manifest = json.loads((raw / "_truth" / f"ds={ds}" / "manifest.json").read_text())
        for arm, t in manifest["experiments"]["homepage_cta_test"]["exposed_today"].items():
            truth[arm][0] += t["exposed"]
            truth[arm][1] += t["realized_activations_by_end"]

    agg = read_partition(
        spark, contract_for("homepage_cta_test", "aggregated"), last, lakehouse_env
    )
    overall = {r.variant: r for r in agg.where("segment = 'overall'").collect()}
    report = {}
    for arm, (exposed, activations) in truth.items():
        row = overall[arm]
        # ids, not persons: aliases and contamination make the clean cohort a little smaller
        assert 0.90 * exposed <= row.exposed_rows <= 1.10 * exposed, (arm, row, exposed)
        p_true = activations / exposed
        p_obs = row.activations / row.users
        se = math.sqrt(max(p_true * (1 - p_true), 1e-4) / row.users)
        report[arm] = (exposed, row.exposed_rows, row.users, p_true, p_obs)
        assert abs(p_obs - p_true) <= 4 * se + 1e-9, report
    print("planted vs recovered:", report)

    # the readout job reads the aggregated table: its arm rates are the aggregated ones (the
    # lifts it computes from them are checked against planted ones with ~190k users per arm
    # in tests/unit/stats/test_planted_lifts.py; 3 days here are a few activations per arm)
    from include.table_catalog import READOUTS

    run("readouts.experiment", last, params, spark=spark)
    readout = {
        (r.metric, r.variant): r
        for r in read_partition(spark, READOUTS, last, lakehouse_env)
        .where("experiment = 'homepage_cta_test' AND segment = 'overall'").collect()
    }
    act = readout[("activation", "treatment")]
    assert act.control_variant == "control" and act.status == "ok", act
    assert act.variant_n == overall["treatment"].users
    assert act.control_n == overall["control"].users
    assert act.variant_mean == pytest.approx(
        overall["treatment"].activations / overall["treatment"].users, rel=1e-12
    )
    assert act.control_mean == pytest.approx(
        overall["control"].activations / overall["control"].users, rel=1e-12
    )

    # idempotency: re-running the gold day rewrites the identical rows
    for job in ("base", "outcomes"):
        run(f"gold.experiments.{job}", last, params, spark=spark)
    again = sorted(read_partition(spark, outcomes_c, last, lakehouse_env).collect())
    assert again == first
