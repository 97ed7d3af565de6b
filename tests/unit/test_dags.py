"""DAG integrity: every DAG parses without import errors and follows the team's rules."""

from __future__ import annotations

import pytest

pytest.importorskip("airflow")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder="dags")


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "lakehouse_daily" in dagbag.dags


def test_team_rules(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        assert dag.max_active_runs is not None and dag.max_active_runs <= 4
        for task in dag.tasks:
            assert task.owner == "data-platform", f"{dag_id}.{task.task_id} owner"
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_daily_pipeline_order(dagbag):
    dag = dagbag.dags["lakehouse_daily"]
    order = ["land_raw", "bronze.web_events", "silver.fct_website_events",
             "silver.gate_fct_website_events", "gold.agg_website_events",
             "readouts.web_experiments"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    # the gate guards gold: nothing reads silver except through it
    assert dag.get_task("gold.agg_website_events").upstream_task_ids == {
        "silver.gate_fct_website_events"
    }


def test_spark_tasks_submit_through_the_runner_for_their_own_ds(dagbag):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    from include.dag_factory import readout_configs

    dag = dagbag.dags["lakehouse_daily"]
    spark_tasks = [t for t in dag.tasks if isinstance(t, SparkSubmitOperator)]
    # the web slice (5), one bronze and one silver task for the non-web sources, one task
    # per experiment's gold chain: few JVM starts per day
    assert len(spark_tasks) == 5 + 2 + len(readout_configs())
    for task in spark_tasks:
        assert task.application.endswith("spark_jobs/run.py")
        ds_at = task.application_args.index("--ds")
        assert task.application_args[ds_at : ds_at + 2] == ["--ds", "{{ ds }}"]
        assert all("." in job for job in task.application_args[:ds_at])
        assert task._conn_id == "spark_lakehouse"
