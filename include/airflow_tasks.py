"""Building blocks the DAG files share: how a Spark job becomes an Airflow task.

Two engines (``LAKEHOUSE_ENGINE``, read when the DAG file is parsed; ``include/engine.py``):

* ``connect`` (default): :class:`SparkConnectJobOperator`, a Spark Connect client. The task
  opens its own session on the warm server of the ``spark_connect_lakehouse`` connection
  (the apache-spark provider's ``spark_connect`` type: host, port, token as password) and
  runs the jobs in it through :func:`spark_jobs.run.run`; no JVM starts for the task.
* ``submit``: ``SparkSubmitOperator`` against the ``spark_lakehouse`` connection (``local[2]``
  here; ``spark://…``, ``yarn`` or ``k8s://…`` on a cluster) running
  ``spark_jobs/run.py JOB --ds {{ ds }}`` in a JVM of its own.

Either way the task reads and writes the partition of its own logical date, never "the
latest", and prints one ``LAKEHOUSE_RESULT`` line per job. Imports here are light (no
pyspark) so DAG parsing stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from include.settings import PROJECT_ROOT

SPARK_CONN_ID = "spark_lakehouse"
CONNECT_CONN_ID = "spark_connect_lakehouse"  # = include.engine.CONNECT_CONN_ID (no import)
RUNNER = str(PROJECT_ROOT / "spark_jobs" / "run.py")

# gold.readouts is written by tasks of more than one DAG (the daily DAG's web readout and every
# experiment's readout DAG, which an Asset starts while the daily DAG goes on). Delta on S3
# commits through the lakehouse's conditional-PUT log store (include/spark.py,
# conf/jvm/logstore), so drivers committing to one table at the same moment no longer lose a
# commit: one wins each log version, the others check for conflicts and retry
# (tests/unit/test_multi_driver_commits.py). The pool was the guard when Delta's default
# single-driver S3 log store could lose one of two racing commits; it is kept because it is
# harmless (these tasks are short) and spares the readout writers conflict retries.
READOUTS_POOL = "gold_readouts_writer"
POOLS = {READOUTS_POOL: (1, "one writer at a time to gold.readouts (spares Delta commit retries)")}

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=2),
}


def dag_default_args() -> dict:
    """``DEFAULT_ARGS`` with the failure alert every task of every DAG sends
    (``include.alerts``: an e-mail when the ``smtp_lakehouse`` connection is configured)."""
    from include.alerts import FailureAlert

    return {**DEFAULT_ARGS, "on_failure_callback": [FailureAlert()]}


def table_asset(qualified_name: str):
    """The Airflow Asset a job's output table is published as (for Asset-driven DAGs).

    Identified by the table's catalog name only (``gold.x``), not by its storage URI: the
    location is configuration (warehouse root per environment, or an isolated test
    prefix), while the Asset graph must not change with it.
    """
    from airflow.sdk import Asset

    from include.contracts import get_contract

    contract = get_contract(qualified_name)  # an unknown table fails at parse time
    return Asset(name=contract.qualified_name, group="lakehouse")


def spark_job(job: str | Sequence[str], *, task_id: str | None = None,
              params: dict | None = None, outlets: list | None = None,
              run_ds: str = "{{ ds }}", params_json: str | None = None, **kwargs):
    """A task running ``JOB [JOB ...]`` in order for ``run_ds`` (default: the run's ``ds``).

    Several jobs in one task run in one Spark session. ``params_json`` (a template) replaces
    ``params`` when the params come from an upstream task's XCom.
    """
    from include.engine import engine_mode

    jobs = [job] if isinstance(job, str) else list(job)
    if len(jobs) > 1 and not task_id:
        raise ValueError("a task running several jobs needs an explicit task_id")
    listing = ", ".join(f"`{j}`" for j in jobs)
    job_params = params_json if params_json is not None else json.dumps(params or {})
    common = dict(
        task_id=task_id or jobs[0].split(".", 1)[1].replace(".", "_"),
        outlets=outlets or [],
        doc_md=f"Runs Spark job(s) {listing} in order for the run's `ds` (see `spark_jobs/`).",
        **kwargs,
    )
    if engine_mode() == "connect":
        from include.connect_operator import SparkConnectJobOperator

        return SparkConnectJobOperator(jobs=jobs, run_ds=run_ds, job_params=job_params, **common)
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    return SparkSubmitOperator(
        conn_id=SPARK_CONN_ID,
        application=RUNNER,
        application_args=[*jobs, "--ds", run_ds, "--params", job_params],
        name=task_id or jobs[0],
        **common,
    )


@dataclass(frozen=True)
class SparkTaskSpec:
    """What a Spark task runs, whichever engine's operator it is: jobs, ``ds``, params
    (the last two as the templates the task renders)."""

    jobs: tuple[str, ...]
    ds: str
    params_json: str
    engine: str

    @property
    def params(self) -> dict:
        return json.loads(self.params_json)


def spark_task_spec(task) -> SparkTaskSpec | None:
    """The :class:`SparkTaskSpec` of a task :func:`spark_job` made, None for other tasks."""
    if hasattr(task, "jobs") and hasattr(task, "run_ds"):
        return SparkTaskSpec(tuple(task.jobs), task.run_ds, task.job_params, "connect")
    args = getattr(task, "application_args", None)
    if getattr(task, "application", None) != RUNNER or not args:
        return None
    ds_at = args.index("--ds")
    return SparkTaskSpec(tuple(args[:ds_at]), args[ds_at + 1],
                         args[args.index("--params") + 1], "submit")  # fmt: skip


def quality_gate(tables: Sequence[str], *, task_id: str, **kwargs):
    """A gate task: the Great Expectations suites of ``tables`` on the run's partition.

    Not retried: a gate's verdict on the same data is the same on every try, and a failed
    gate has already put the rejected partition back to its previous good state (see
    ``spark_jobs/quality/gate.py``), so a blind retry would pass on the restored data.
    After fixing the cause, re-run the writing task and its gate (clear with downstream).
    """
    from include.contracts import get_contract

    for table in tables:
        if not get_contract(table).suite:  # fails at parse time, naming the table
            raise ValueError(f"{table} has no expectation suite to gate on")
    # The gate, not the writer, publishes the tables' Assets: a consumer scheduled on an
    # Asset only ever starts on data that passed its gate.
    task = spark_job(
        "quality.gate", task_id=task_id, params={"tables": list(tables)}, retries=0,
        outlets=[table_asset(t) for t in tables], **kwargs,
    )
    task.doc_md = (
        "Quality gate: validates the run's partition of "
        + ", ".join(f"`{t}`" for t in tables)
        + " against its expectation suite(s) in `expectations/`; a blocking rule fails the "
        "task (message: table, ds, rule, sample rows), restores the previous good "
        "partition and stops everything downstream. Results: `gold.quality_results`, "
        "Data Docs under `var/gx`."
    )
    return task
