"""
### Lakehouse maintenance (weekly)

One task, `maintenance.delta_tables` (`spark_jobs/maintenance/delta_tables.py`), over every
table of the catalog:

- **compact** (Delta `OPTIMIZE`): partitions before the run's `ds` (the day the scheduler
  starts it; monthly tables: closed months), so a day written as a few small files is read as
  one. A partition that is already one file is left alone: a re-run rewrites nothing. The rows
  of the compacted partitions are counted before and after; the task fails if they differ.
- **vacuum** (Delta `VACUUM`): delete files that no table version of the last `retain_hours`
  (at least 168) references: the files each daily re-run, backfill or restored partition
  replaced, which nothing else ever deletes. Time travel stays possible within that window.

The task's result (files compacted, files in storage before/after per table) is the
`LAKEHOUSE_RESULT` line of its log. Created paused like every DAG: unpause it in production.
A daily write racing with the compaction of the same partition fails one of the two; its
retry succeeds.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag

from include.airflow_tasks import dag_default_args, spark_job


@dag(
    dag_id="lakehouse_maintenance",
    schedule="@weekly",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=dag_default_args(),
    tags=["lakehouse", "maintenance"],
    doc_md=__doc__,
    params={
        "retain_hours": Param(
            168, type="integer", minimum=168,
            description="VACUUM keeps files any version of the last N hours needs (>= 168)",
        ),
    },
)
def lakehouse_maintenance():
    spark_job(
        "maintenance.delta_tables",
        task_id="maintenance.delta_tables",
        params={"retain_hours": "{{ params.retain_hours }}"},
    )


lakehouse_maintenance()
