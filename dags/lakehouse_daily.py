"""
### Lakehouse daily pipeline

One run = one day (`ds` = the run's logical date). Each task reads and rewrites only the
`ds` partition of its tables, so re-running a day changes nothing and backfills are safe.

**Flow**: land raw (synthetic generator, or skip when upstream lands it) →
bronze (schema enforced, bad lines quarantined) → silver `fct_website_events` (seed 003:
deduplicated, IP/UA enriched, raw IP dropped) → **quality gate** (Great Expectations suite
`expectations/silver_fct_website_events.json`; a blocking failure stops everything below and
leaves the previous good data in place) → gold `agg_website_events` (grouping sets) →
readout (`gold.readouts` + an HTML page under `var/reports/`).

**Other sources** (`sources.bronze`, `sources.silver`): accounts, billing, assignments,
sessions, orders, products, usage, support, NPS: raw → bronze → silver, each layer one task
running the per-source jobs in order (`silver.sessions` before
`silver.experiment_assignments`, which resolves people through sessions).
**Experiments** (`experiments.<name>`): for every config in `experiments/*.yaml`, one task
running the gold chain (SaaS: base → outcomes → aggregated; shop: user_exposure → user_outcomes →
aggregated), after the web gate and the silver sources. Each `gold.<name>_aggregated` is an
Asset: updating it triggers the DAG `experiment_<name>` (the experiment's readout).

**Scheduling**: `@daily` with catchup: unpausing runs every day from the start date
(`LAKEHOUSE_SCHEDULE_START`, default 2024-01-01) to `LAKEHOUSE_SCHEDULE_END`, one at a time.
**Manual runs**: *Trigger DAG w/ config* takes `generate_raw` (land synthetic data first)
and `scale` (web events per day). **Backfill**: `airflow backfill create --dag-id
lakehouse_daily --from-date 2024-01-01 --to-date 2024-01-07` or the UI's backfill dialog.
Spark jobs go through the `spark_lakehouse` connection (Spark master URL).
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Param, TaskGroup, dag, task

from include.airflow_tasks import DEFAULT_ARGS, spark_job, table_asset
from include.dag_factory import SOURCES, gold_chains, readout_configs, silver_order


@dag(
    dag_id="lakehouse_daily",
    schedule="@daily",
    # catchup: a start date in the past schedules every day since, one run at a time. The
    # synthetic world covers 2024 (seed 004: "12 months (2024)"): scripts/env.sh bounds the
    # window with LAKEHOUSE_SCHEDULE_START/END (the demo narrows it to its days) so unpausing
    # never schedules past it. Unset END in production.
    start_date=pendulum.parse(os.environ.get("LAKEHOUSE_SCHEDULE_START") or "2024-01-01"),
    end_date=(
        pendulum.parse(os.environ["LAKEHOUSE_SCHEDULE_END"])
        if os.environ.get("LAKEHOUSE_SCHEDULE_END")
        else None
    ),
    catchup=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["lakehouse", "daily", "growth"],
    doc_md=__doc__,
    params={
        "generate_raw": Param(
            True, type="boolean", description="Generate the day's synthetic raw sources first"
        ),
        "scale": Param(
            int(os.environ.get("LAKEHOUSE_SCALE") or 20000), type="integer", minimum=1000, maximum=20_000_000,
            description="Synthetic web events per day",
        ),
    },
)
def lakehouse_daily():
    @task(task_id="land_raw")
    def land_raw(ds: str | None = None, params: dict | None = None) -> dict:
        """Write the day's raw sources to the raw zone (replacing that day only)."""
        from include.generator import GeneratorConfig, write_day
        from include.settings import load_settings

        if not params["generate_raw"]:
            return {"ds": ds, "generated": False}
        config = GeneratorConfig(events_per_day=int(params["scale"]))
        written = write_day(ds, load_settings().raw_root, config)
        return {"ds": ds, "generated": True, "files": len(written)}

    with TaskGroup("bronze", tooltip="raw -> bronze Delta, quarantine for bad lines"):
        bronze_web = spark_job(
            "bronze.web_events", outlets=[table_asset("bronze.web_events")]
        )
    with TaskGroup("silver", tooltip="conformed facts and their quality gates"):
        silver_web = spark_job(
            "silver.fct_website_events", outlets=[table_asset("silver.fct_website_events")]
        )
        gate_web = spark_job(
            "quality.gate", task_id="gate_fct_website_events",
            params={"table": "silver.fct_website_events"},
        )
        silver_web >> gate_web
    with TaskGroup("gold", tooltip="analyst-facing marts"):
        gold_agg = spark_job(
            "gold.agg_website_events", outlets=[table_asset("gold.agg_website_events")]
        )
    with TaskGroup("readouts", tooltip="statistical readouts and their reports"):
        readout = spark_job("readouts.web_experiments", outlets=[table_asset("gold.readouts")])

    # The non-web sources are many small jobs: one task (one JVM) per layer runs them in
    # order, instead of one spark-submit each (JVM start-up would dominate the work).
    with TaskGroup("sources", tooltip="raw -> bronze -> silver for the non-web sources"):
        bronze_src = spark_job(
            [f"bronze.{s}" for s in SOURCES], task_id="bronze",
            outlets=[table_asset(f"bronze.{s}") for s in SOURCES],
        )
        silver_src = spark_job(
            [f"silver.{s}" for s in silver_order()], task_id="silver",
            outlets=[table_asset(f"silver.{s}") for s in SOURCES],
        )
        bronze_src >> silver_src
    with TaskGroup("experiments", tooltip="gold experiment tables, one task per config"):
        for experiment, chain in gold_chains(readout_configs()).items():
            step = spark_job(
                [job for job, _, _ in chain], task_id=experiment,
                params={"experiment": experiment},
                outlets=[table_asset(table) for _, _, table in chain],
            )
            [gate_web, silver_src] >> step

    land = land_raw()
    land >> bronze_web >> silver_web
    gate_web >> gold_agg >> readout
    land >> bronze_src


lakehouse_daily()
