"""The Airflow operator of the Spark Connect engine: a task as a Spark Connect client.

``include.airflow_tasks.spark_job`` builds it when ``LAKEHOUSE_ENGINE=connect`` (the
default). Kept apart from ``airflow_tasks`` so that reading the pools or the DAG defaults
does not import Airflow's operator machinery.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from airflow.sdk import BaseOperator

from include.airflow_tasks import CONNECT_CONN_ID
from include.report_links import LINKS


class SparkConnectJobOperator(BaseOperator):
    """Runs lakehouse Spark jobs in order, as a Spark Connect client of the warm server.

    One Connect session per task try (its own session id, so settings a job makes never reach
    a task running beside it), released when the task ends; tagged with the DAG, task, run
    and ``ds`` (the server's UI shows them). Killing the task interrupts what its session
    runs: SIGTERM through :meth:`on_kill`, anything harder through the session's guard. A
    server that is down fails the task within seconds, naming the connection. Returns the
    jobs' results (XCom) and prints each as a ``LAKEHOUSE_RESULT`` line.
    """

    template_fields = ("run_ds", "job_params")
    ui_color = "#e8f0fe"
    # Readout / All readouts / Data Docs, on the tasks they apply to (include/report_links.py)
    operator_extra_links = LINKS

    def __init__(self, *, jobs: Sequence[str], run_ds: str = "{{ ds }}",
                 job_params: str = "{}", conn_id: str = CONNECT_CONN_ID, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.jobs = list(jobs)
        self.run_ds = run_ds
        self.job_params = job_params
        self.conn_id = conn_id
        self._spark = None

    def execute(self, context):
        from airflow.providers.apache.spark.hooks.spark_connect import SparkConnectHook

        from include.engine import ConnectTarget, guarded_session
        from spark_jobs.run import print_result, run

        params = json.loads(self.job_params or "{}")
        if not isinstance(params, dict):
            raise ValueError(f"job params must be a JSON object, got {self.job_params!r}")
        target = ConnectTarget.from_url(
            SparkConnectHook(self.conn_id).get_connection_url(), label=self.conn_id
        )
        ti = context["ti"]
        self.log.info("opening a Spark Connect session: %s", target.describe())
        tags = (f"dag={ti.dag_id}", f"task={ti.task_id}", f"run={ti.run_id}",
                f"ds={self.run_ds}", f"try={ti.try_number}")  # fmt: skip
        # guarded: if this process dies without ending the session (SIGKILL, OOM), a guard
        # process interrupts what the session still runs on the server (include/engine.py)
        with guarded_session(target, tags=tags) as spark:
            self._spark = spark
            try:
                results = []
                for job in self.jobs:
                    result = run(job, self.run_ds, params, spark=spark)
                    print_result(result)
                    results.append(result)
                return results
            finally:
                self._spark = None

    def on_kill(self) -> None:
        from include.engine import interrupt

        # Airflow kills the task (timeout, "mark failed", a stopped worker): stop what its
        # session runs on the server instead of letting it finish unobserved.
        interrupt(self._spark)
