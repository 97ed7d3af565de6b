"""Building blocks the DAG files share: how a Spark job becomes an Airflow task.

Spark jobs run through ``SparkSubmitOperator`` against the ``spark_lakehouse`` connection
(``local[2]`` here; ``spark://…``, ``yarn`` or ``k8s://…`` on a cluster), always via
``spark_jobs/run.py JOB --ds {{ ds }}``: the task reads and writes the partition of its own
logical date, never "the latest". Imports here are light (no pyspark) so DAG parsing stays fast.
"""

from __future__ import annotations

import json
from datetime import timedelta

from include.settings import PROJECT_ROOT

SPARK_CONN_ID = "spark_lakehouse"
RUNNER = str(PROJECT_ROOT / "spark_jobs" / "run.py")

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=2),
}


def table_asset(qualified_name: str):
    """The Airflow Asset a job's output table is published as (for Asset-driven DAGs)."""
    from airflow.sdk import Asset

    from include.contracts import get_contract
    from include.settings import load_settings

    contract = get_contract(qualified_name)
    uri = load_settings().table_path(contract.layer, contract.name).replace("s3a://", "s3://")
    return Asset(name=qualified_name, uri=uri, group="lakehouse")


def spark_job(job: str, *, task_id: str | None = None, params: dict | None = None,
              outlets: list | None = None, **kwargs):
    """A SparkSubmitOperator running ``spark_jobs/run.py JOB --ds {{ ds }}``."""
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    return SparkSubmitOperator(
        task_id=task_id or job.split(".", 1)[1].replace(".", "_"),
        conn_id=SPARK_CONN_ID,
        application=RUNNER,
        application_args=[job, "--ds", "{{ ds }}", "--params", json.dumps(params or {})],
        name=f"{job}",
        outlets=outlets or [],
        doc_md=f"Runs Spark job `{job}` for the run's `ds` (see `spark_jobs/`).",
        **kwargs,
    )
