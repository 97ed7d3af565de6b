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

**Other sources** (`bronze_sources`, `silver_sources`): accounts, billing, assignments,
sessions, orders, products, usage, support, NPS: raw → bronze → silver per source
(`silver.sessions` before `silver.experiment_assignments`, which resolves people through
sessions). **Experiments** (`experiments.<name>`): for every config in `experiments/*.yaml`,
the gold chain (SaaS: base → outcomes → aggregated; shop: user_exposure → user_outcomes →
aggregated), after the web gate and the silver sources. Each `gold.<name>_aggregated` is an
Asset: updating it triggers the DAG `experiment_<name>` (the experiment's readout).

**Manual runs**: *Trigger DAG w/ config* takes `generate_raw` (land synthetic data first)
and `scale` (web events per day). **Backfill**: `airflow backfill create --dag-id
lakehouse_daily --from-date 2024-01-01 --to-date 2024-01-07` or the UI's backfill dialog.
Spark jobs go through the `spark_lakehouse` connection (Spark master URL).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, TaskGroup, dag, task

from include.airflow_tasks import DEFAULT_ARGS, spark_job, table_asset
from include.dag_factory import SILVER_UPSTREAM, SOURCES, gold_chains, readout_configs


@dag(
    dag_id="lakehouse_daily",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["lakehouse", "daily", "growth"],
    doc_md=__doc__,
    params={
        "generate_raw": Param(
            True, type="boolean", description="Generate the day's synthetic raw sources first"
        ),
        "scale": Param(
            20000, type="integer", minimum=1000, maximum=20_000_000,
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

    with TaskGroup("bronze_sources", tooltip="raw -> bronze Delta for the non-web sources"):
        bronze_src = {
            s: spark_job(f"bronze.{s}", outlets=[table_asset(f"bronze.{s}")]) for s in SOURCES
        }
    with TaskGroup("silver_sources", tooltip="conformed, deduplicated non-web sources"):
        silver_src = {
            s: spark_job(f"silver.{s}", outlets=[table_asset(f"silver.{s}")]) for s in SOURCES
        }
        for source, upstream in SILVER_UPSTREAM.items():
            for u in upstream:
                silver_src[u] >> silver_src[source]
    with TaskGroup("experiments", tooltip="gold experiment tables, one group per config"):
        for experiment, chain in gold_chains(readout_configs()).items():
            with TaskGroup(experiment, tooltip=f"gold tables of {experiment}"):
                steps = [
                    spark_job(
                        job, task_id=task_id, params={"experiment": experiment},
                        outlets=[table_asset(table)],
                    )
                    for job, task_id, table in chain
                ]
            # gold reads silver only through the web gate, and after every silver source
            [gate_web, *silver_src.values()] >> steps[0]
            for upstream_step, downstream_step in zip(steps, steps[1:], strict=False):
                upstream_step >> downstream_step

    land = land_raw()
    land >> bronze_web >> silver_web
    gate_web >> gold_agg >> readout
    for source in SOURCES:
        land >> bronze_src[source] >> silver_src[source]


lakehouse_daily()
