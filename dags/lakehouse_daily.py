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
aggregated), after the web gate and the silver sources. Each group starts with
`analysis_window`, which skips the group once `ds` is past the experiment's final day (its
end date plus the longest follow-up a rule reads: the outcome window, or month-2 retention):
a concluded experiment's tables and readout stay at that day and cost nothing afterwards.
Each `gold.<name>_aggregated` is an Asset: updating it triggers the DAG `experiment_<name>`
(the experiment's readout).

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

from include.airflow_tasks import (
    READOUTS_POOL,
    dag_default_args,
    quality_gate,
    spark_job,
    table_asset,
)
from include.dag_factory import (
    EXTRA_TABLES,
    FINANCE_JOBS,
    GROWTH_JOBS,
    SILVER_GATED_SOURCES,
    SOURCES,
    gated_stages,
    gold_chains,
    readout_configs,
    silver_order,
    with_suite,
)


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
    default_args=dag_default_args(),
    tags=["lakehouse", "daily", "growth"],
    doc_md=__doc__,
    params={
        "generate_raw": Param(
            True, type="boolean", description="Generate the day's synthetic raw sources first"
        ),
        "scale": Param(
            max(1000, int(os.environ.get("LAKEHOUSE_SCALE") or 20000)),
            type="integer", minimum=1000, maximum=20_000_000,
            description="Synthetic web events per day",
        ),
    },
)
def lakehouse_daily():
    @task(task_id="land_raw")
    def land_raw(ds: str | None = None, params: dict | None = None) -> dict:
        """Write the day's raw sources to the raw zone (replacing that day only)."""
        from include.generator import write_day
        from include.generator.worlds import world
        from include.settings import load_settings

        if not params["generate_raw"]:
            return {"ds": ds, "generated": False}
        # the world (LAKEHOUSE_WORLD, set with the experiment files by scripts/env.sh)
        config = world(events_per_day=int(params["scale"])).generator
        written = write_day(ds, load_settings().raw_root, config)
        return {"ds": ds, "generated": True, "files": len(written)}

    @task.short_circuit
    def analysis_window(experiment: str, ds: str | None = None) -> bool:
        """False (skip the experiment's tasks) once ds is after the experiment's final day."""
        from include.experiments import load_experiment

        spec = load_experiment(experiment)
        if spec.is_concluded(ds):
            print(
                f"{experiment} concluded on {spec.final_day} (end {spec.end_date}, last "
                f"follow-up read): its gold tables and readout stay at ds={spec.final_day}; "
                f"skipping its tasks for ds={ds}"
            )
            return False
        return True

    def gate(tables: list[str], task_id: str):
        """A quality gate task (GX suites of ``tables``); see include.airflow_tasks."""
        return quality_gate(tables, task_id=task_id)

    with TaskGroup("bronze", tooltip="raw -> bronze Delta, quarantine for bad lines, gates"):
        # a gated table's Asset is published by its gate (include.airflow_tasks.quality_gate)
        bronze_web = spark_job("bronze.web_events")
        gate_bronze = gate(["bronze.web_events"], "gate_web_events")
        bronze_web >> gate_bronze
    with TaskGroup("silver", tooltip="conformed facts and their quality gates"):
        silver_web = spark_job("silver.fct_website_events")
        gate_web = gate(["silver.fct_website_events"], "gate_fct_website_events")
        silver_web >> gate_web
    with TaskGroup("gold", tooltip="analyst-facing marts and their gates"):
        gold_agg = spark_job("gold.agg_website_events")
        gate_agg = gate(["gold.agg_website_events"], "gate_agg_website_events")
        gold_agg >> gate_agg
        growth = spark_job(
            list(GROWTH_JOBS), task_id="growth",
            outlets=[  # gold.daily_growth's Asset is published by its gate
                table_asset(f"gold.{j.rsplit('.', 1)[1]}")
                for j in GROWTH_JOBS if j != "gold.growth.daily_growth"
            ],
        )
        # seed 003's guardrails: a significant day-over-day drop of a conversion rate warns
        gate_growth = gate(["gold.daily_growth"], "gate_daily_growth")
        growth >> gate_growth
    with TaskGroup("readouts", tooltip="statistical readouts and their reports"):
        readout = spark_job(
            "readouts.web_experiments", outlets=[table_asset("gold.readouts")], pool=READOUTS_POOL
        )

    # The non-web sources are many small jobs: one task (one JVM) per layer runs them in
    # order, instead of one spark-submit each (JVM start-up would dominate the work).
    with TaskGroup("sources", tooltip="raw -> bronze -> silver for the non-web sources"):
        bronze_src = spark_job(
            [f"bronze.{s}" for s in SOURCES], task_id="bronze",
            outlets=[table_asset(f"bronze.{s}") for s in SOURCES],
        )
        # then the per-person state the experiment tables' eligibility rule reads
        silver_src = spark_job(
            [*(f"silver.{s}" for s in silver_order()), "silver.person_conversions"],
            task_id="silver",
            outlets=[
                *(table_asset(f"silver.{s}") for s in SOURCES if s not in SILVER_GATED_SOURCES),
                table_asset("silver.person_conversions"),
            ],
        )
        # the gated silver sources, and the quarantine every bronze/silver job has written
        gate_src = gate(
            [*(f"silver.{s}" for s in SILVER_GATED_SOURCES), "bronze.quarantine"], "gate"
        )
        bronze_src >> silver_src >> gate_src
    with TaskGroup("finance", tooltip="seed 004 marts: MRR bridge, revenue, cohorts; exports"):
        marts = [f"gold.{j.rsplit('.', 1)[1]}" for j in FINANCE_JOBS]
        marts += [t for j in FINANCE_JOBS for t in EXTRA_TABLES.get(j, ())]
        gated_marts = with_suite(marts)
        finance = spark_job(
            list(FINANCE_JOBS), task_id="marts",
            outlets=[table_asset(t) for t in marts if t not in gated_marts],
        )
        # every mart with a suite (the bridge's identity among them) before the exports
        gate_marts = gate(gated_marts, "gate_marts")
        exports = spark_job("gold.finance.exports", task_id="exports")
        finance >> gate_marts >> exports
    with TaskGroup("experiments", tooltip="gold experiment tables, one group per config"):
        for experiment, chain in gold_chains(readout_configs()).items():
            with TaskGroup(experiment, tooltip=f"gold tables of {experiment}"):
                window = analysis_window.override(task_id="analysis_window")(experiment)
                [gate_web, gate_src] >> window
                upstream = [window]
                for jobs, gated in gated_stages(chain):
                    step = spark_job(
                        [job for job, _, _ in jobs],
                        task_id="_".join(tid for _, tid, _ in jobs),
                        params={"experiment": experiment},
                        outlets=[table_asset(t) for _, _, t in jobs if t not in gated],
                    )
                    upstream >> step
                    upstream = [step]
                    if gated:
                        names = "_".join(tid for _, tid, t in jobs if t in gated)
                        check = gate(gated, f"gate_{names}")
                        step >> check
                        upstream = [check]

    land = land_raw()
    land >> bronze_web
    gate_bronze >> silver_web
    gate_web >> gold_agg
    gate_web >> growth
    [gate_agg, gate_growth] >> readout
    land >> bronze_src
    silver_web >> gate_src
    gate_src >> finance


lakehouse_daily()
