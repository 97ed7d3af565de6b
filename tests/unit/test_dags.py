"""DAG integrity: every DAG parses without import errors and follows the team's rules."""

from __future__ import annotations

import pytest

from include.airflow_tasks import spark_task_spec


@pytest.fixture(scope="module", params=["connect", "submit"])
def dagbag(request):
    """The DAGs as parsed for each engine (``LAKEHOUSE_ENGINE``): both must follow the rules."""
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_ENGINE", request.param)
        bag = DagBag(dag_folder="dags")
    bag.engine = request.param
    return bag


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
            if task.task_id.rsplit(".", 1)[-1].startswith("gate"):
                # a gate's verdict is deterministic and it has restored the partition it
                # rejected: a retry would pass on the restored data
                assert task.retries == 0, f"{dag_id}.{task.task_id} retries a gate"
            else:
                assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_daily_pipeline_order(dagbag):
    dag = dagbag.dags["lakehouse_daily"]
    order = ["land_raw", "bronze.web_events", "bronze.gate_web_events",
             "silver.fct_website_events", "silver.gate_fct_website_events",
             "gold.agg_website_events", "gold.gate_agg_website_events",
             "readouts.web_experiments"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    # the gates guard every reader: nothing reads a gated table except through its gate
    readers = {
        "silver.fct_website_events": {"bronze.gate_web_events"},
        "gold.agg_website_events": {"silver.gate_fct_website_events"},
        "gold.growth": {"silver.gate_fct_website_events"},
        # the daily page shows the seed 003 guardrail warnings of the daily_growth gate
        "readouts.web_experiments": {"gold.gate_agg_website_events", "gold.gate_daily_growth"},
        "gold.gate_daily_growth": {"gold.growth"},
        "finance.marts": {"sources.gate"},
        "finance.exports": {"finance.gate_marts"},
        "finance.gate_marts": {"finance.marts"},
        "experiments.homepage_cta_test.analysis_window": {
            "silver.gate_fct_website_events", "sources.gate"
        },
        "experiments.homepage_cta_test.base_outcomes": {
            "experiments.homepage_cta_test.analysis_window"
        },
        "experiments.homepage_cta_test.aggregated_details": {
            "experiments.homepage_cta_test.gate_outcomes"
        },
        # both leaves gated in one task before their Assets start the readout
        "experiments.homepage_cta_test.gate_aggregated_details": {
            "experiments.homepage_cta_test.aggregated_details"
        },
        # seed 002: each mart gated before the next job reads it
        "experiments.pdp_redesign.user_outcomes": {"experiments.pdp_redesign.gate_user_exposure"},
        "experiments.pdp_redesign.aggregated": {"experiments.pdp_redesign.gate_user_outcomes"},
        "experiments.pdp_redesign.gate_aggregated": {"experiments.pdp_redesign.aggregated"},
    }
    for task_id, gates in readers.items():
        assert dag.get_task(task_id).upstream_task_ids == gates, task_id


def _tables_written(task) -> set[str]:
    """The tables a Spark task's jobs write (``spark_jobs/run.py`` job names -> tables)."""
    from include.dag_factory import EXTRA_TABLES, GOLD_CHAINS

    spec = spark_task_spec(task)
    jobs, params = spec.jobs, spec.params
    chain_tables = {
        job: table.format(name=params.get("experiment", ""))
        for chain in GOLD_CHAINS.values() for job, _, table in chain
    }
    written = set()
    for job in jobs:
        layer, *_, name = job.split(".")
        written.add(chain_tables.get(job, f"{layer}.{name}"))
        written.update(EXTRA_TABLES.get(job, ()))
    return written


def test_every_gate_checks_tables_its_upstream_task_wrote(dagbag):
    """A gate validates what the task(s) right before it wrote, with existing suites, and
    only the gate publishes those tables' Assets: nothing scheduled on an Asset starts on
    data its gate has not passed."""
    from include.contracts import get_contract

    dag = dagbag.dags["lakehouse_daily"]
    gates = [t for t in dag.tasks if t.task_id.rsplit(".", 1)[-1].startswith("gate")]
    # web (3), sources, growth, finance; homepage_cta_test 2, pdp_redesign 3
    assert len(gates) == 11
    gated = set()
    for task in gates:
        spec = spark_task_spec(task)
        assert spec.jobs == ("quality.gate",)
        tables = spec.params["tables"]
        written = set().union(*(_tables_written(dag.get_task(u)) for u in task.upstream_task_ids))
        for table in tables:
            assert get_contract(table).suite, table
            # the shared quarantine is written by every bronze/silver task before the gate
            assert table in written or table == "bronze.quarantine", (task.task_id, table)
        assert {a.name for a in task.outlets} == set(tables), task.task_id
        gated.update(tables)
    for task in dag.tasks:
        if task not in gates:
            assert not {a.name for a in task.outlets} & gated, task.task_id
    assert {"bronze.web_events", "silver.fct_website_events", "gold.agg_website_events",
            "gold.mrr_bridge", "gold.homepage_cta_test_outcomes", "bronze.quarantine",
            "silver.billing_events", "gold.daily_growth"} <= gated


def test_spark_tasks_run_jobs_for_their_own_ds_on_the_configured_engine(dagbag):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    from include.connect_operator import SparkConnectJobOperator
    from include.dag_factory import readout_configs

    dag = dagbag.dags["lakehouse_daily"]
    spark_tasks = [t for t in dag.tasks if spark_task_spec(t)]
    # web: bronze, silver, agg, growth, readout + 4 gates; sources: bronze, silver, gate;
    # finance: marts, gate, exports; experiments: a task per gated stage (+ its gate)
    # homepage_cta_test: base+outcomes, gate, aggregated+details, gate (both leaves);
    # pdp_redesign: user_exposure, gate, user_outcomes, gate, aggregated, gate
    per_experiment = {"homepage_cta_test": 4, "pdp_redesign": 6}
    assert {s.name for s in readout_configs()} == set(per_experiment)
    assert len(spark_tasks) == 9 + 3 + 3 + sum(per_experiment.values())
    for task in spark_tasks:
        spec = spark_task_spec(task)
        assert spec.engine == dagbag.engine
        assert spec.ds == "{{ ds }}"
        assert spec.jobs and all("." in job for job in spec.jobs)
        if dagbag.engine == "connect":  # a client of the warm server, no spark-submit
            assert isinstance(task, SparkConnectJobOperator)
            assert task.conn_id == "spark_connect_lakehouse"
            assert set(task.template_fields) == {"run_ds", "job_params"}
        else:
            assert isinstance(task, SparkSubmitOperator)
            assert task.application.endswith("spark_jobs/run.py")
            assert task._conn_id == "spark_lakehouse"


def test_tasks_of_different_dags_writing_one_table_share_a_one_slot_pool(dagbag):
    """gold.readouts is written by the daily DAG and by every experiment's readout DAG, which
    an Asset starts while the daily DAG goes on. They share a one-slot pool, which setup
    creates (a task in a pool that does not exist never runs). Since Delta commits through the
    conditional-PUT log store, racing commits are retried, not lost: the pool only spares them
    the retries (it was the guard under the single-driver log store)."""

    from include.airflow_tasks import POOLS, READOUTS_POOL

    writers = {}
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            if "gold.readouts" in {a.name for a in task.outlets}:
                writers[(dag_id, task.task_id)] = task.pool
    # every DAG writes it but the weekly maintenance, which writes no rows (it compacts)
    assert {d for d, _ in writers} == set(dagbag.dags) - {"lakehouse_maintenance"}, writers
    assert set(writers.values()) == {READOUTS_POOL}, writers
    assert POOLS[READOUTS_POOL][0] == 1
    setup = open("scripts/setup.sh").read()
    assert "scripts/airflow_pools.py" in setup  # after `airflow db migrate`
    assert setup.index("db migrate") < setup.index("scripts/airflow_pools.py")


def test_the_pools_script_creates_every_pool_the_dags_use(monkeypatch):
    import importlib.util

    from airflow.models.pool import Pool

    from include.airflow_tasks import POOLS

    created = []

    def record(name, slots, description, include_deferred, **kwargs):
        created.append((name, slots, description, include_deferred))

    monkeypatch.setattr(Pool, "create_or_update_pool", staticmethod(record))
    spec = importlib.util.spec_from_file_location("airflow_pools", "scripts/airflow_pools.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() == 0
    assert created == [("gold_readouts_writer", 1, POOLS["gold_readouts_writer"][1], False)]


def test_bench_runs_every_spark_task_of_the_daily_dag_in_dependency_order(dagbag):
    """bench/bench_pipeline.py times exactly what Airflow runs: every Spark task, upstream
    first, with the task's own jobs and params."""
    from bench.bench_pipeline import dag_spark_tasks

    dag = dagbag.dags["lakehouse_daily"]
    tasks = dag_spark_tasks()
    spark_ids = {t.task_id for t in dag.tasks if spark_task_spec(t)}
    assert [t["task"] for t in tasks] != [] and {t["task"] for t in tasks} == spark_ids
    position = {t["task"]: i for i, t in enumerate(tasks)}
    for task_id in spark_ids:
        for up in dag.get_task(task_id).upstream_task_ids & spark_ids:
            assert position[up] < position[task_id], f"{up} must run before {task_id}"
    by_id = {t["task"]: t for t in tasks}
    assert by_id["sources.bronze"]["jobs"][0].startswith("bronze.")
    assert by_id["bronze.gate_web_events"] == {
        "task": "bronze.gate_web_events", "jobs": ["quality.gate"],
        "params": {"tables": ["bronze.web_events"]},
    }


def test_maintenance_dag_runs_the_maintenance_job_weekly_for_its_own_ds(dagbag):
    dag = dagbag.dags["lakehouse_maintenance"]
    assert dag.schedule == "@weekly" and dag.catchup is False
    (task,) = dag.tasks
    spec = spark_task_spec(task)
    assert (spec.jobs, spec.ds) == (("maintenance.delta_tables",), "{{ ds }}")
    assert spec.params_json == '{"retain_hours": "{{ params.retain_hours }}"}'
    assert spec.engine == dagbag.engine
    assert dag.params["retain_hours"] == 168
