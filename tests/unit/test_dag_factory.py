"""The experiment DAG factory and the daily DAG's source and experiment task groups."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from include.airflow_tasks import spark_task_spec
from include.dag_factory import (
    SOURCES,
    ExperimentConfigError,
    load_configs,
    readout_configs,
    resolve_run,
)
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture(scope="module")
def specs():
    return {s.name: s for s in readout_configs()}


def test_dagbag_has_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_one_dag_per_config_with_unique_ids(dagbag, specs):
    assert specs, "no experiment config with an aggregated table"
    experiment_dags = {d for d in dagbag.dag_ids if d.startswith("experiment_")}
    assert experiment_dags == {f"experiment_{name}" for name in specs}
    assert len(dagbag.dag_ids) == len(set(dagbag.dag_ids))


def test_schedule_is_the_aggregated_asset(dagbag, specs):
    from airflow.sdk import Asset

    from include.airflow_tasks import table_asset

    for name in specs:
        dag = dagbag.dags[f"experiment_{name}"]
        condition = dag.timetable.asset_condition
        assert isinstance(condition, Asset)
        assert condition == table_asset(f"gold.{name}_aggregated")
        assert dag.catchup is False and dag.max_active_runs == 1


def test_daily_dag_publishes_the_assets_the_experiment_dags_wait_for(dagbag, specs):
    daily = dagbag.dags["lakehouse_daily"]
    for name in specs:
        publishers = [
            t for t in daily.tasks if f"gold.{name}_aggregated" in [o.name for o in t.outlets]
        ]
        (task,) = publishers  # its gate: the readout never starts on ungated sums
        assert task.task_id.startswith(f"experiments.{name}.gate_")
        assert spark_task_spec(task).jobs == ("quality.gate",)
        assert f"gold.{name}_aggregated" in spark_task_spec(task).params["tables"]


def _group_tasks(dag, name):
    """The tasks of experiments.<name>, upstream first (each stage feeds the next)."""
    tasks = [t for t in dag.tasks if t.task_id.startswith(f"experiments.{name}.")]
    ordered, done = [], set()
    while len(ordered) < len(tasks):
        for t in tasks:
            inside = {u for u in t.upstream_task_ids if u.startswith(f"experiments.{name}.")}
            if t.task_id not in done and inside <= done:
                ordered.append(t)
                done.add(t.task_id)
    return ordered


def test_experiment_dag_structure_and_docs(dagbag, specs):
    for name, spec in specs.items():
        dag = dagbag.dags[f"experiment_{name}"]
        readout = dag.get_task("readout")
        job = spark_task_spec(readout)
        assert readout.upstream_task_ids == {"resolve_run"}
        assert job.jobs == ("readouts.experiment",)
        # the day and params come from resolve_run's XCom, not {{ ds }}
        assert "resolve_run" in job.ds and "['ds']" in job.ds
        assert "resolve_run" in job.params_json and "params_json" in job.params_json
        assert [o.name for o in readout.outlets] == ["gold.readouts"]
        assert spec.hypothesis.split()[0] in dag.doc_md
        assert f"**final day** {spec.final_day}" in dag.doc_md
        assert f"**decision day** {spec.decision_day}" in dag.doc_md
        assert all(f"`{m.name}`" in dag.doc_md for m in spec.metrics)
        assert "experiment" in dag.tags
        for task in dag.tasks:
            assert task.owner == "data-platform" and task.retries >= 1


def test_params_reject_a_bad_alpha_and_unknown_segments(dagbag, specs):
    from airflow.sdk.definitions.param import ParamValidationError

    name, spec = next(iter(specs.items()))
    params = dagbag.dags[f"experiment_{name}"].params
    params.validate()  # defaults are valid
    for bad in (0, -0.1, 0.5, "0.05"):
        with pytest.raises(ParamValidationError):
            params.get_param("alpha").resolve(value=bad)
    assert params.get_param("alpha").resolve(value=0.01) == 0.01
    with pytest.raises(ParamValidationError):
        params.get_param("segments").resolve(value=["not_a_segment"])
    with pytest.raises(ParamValidationError):
        params.get_param("experiment").resolve(value="another_experiment")
    with pytest.raises(ParamValidationError):
        params.get_param("ds").resolve(value="2024/01/05")


def test_a_run_by_hand_gets_a_result_of_its_own():
    """Automatic runs share the day's readout (a re-run replaces it); a manual run's key is
    the first 10 hex digits of sha256(run id), so it never replaces the daily one."""
    import hashlib

    from include.dag_factory import run_key

    for kind in ("asset_triggered", "scheduled", "backfill", None):
        assert run_key(kind, "whatever") == "daily"
    run_id = "manual__2026-12-07T06:40:00+00:00"
    expected = "manual_" + hashlib.sha256(run_id.encode()).hexdigest()[:10]
    assert run_key("manual", run_id) == expected and len(expected) == 17
    assert run_key("manual", run_id + "x") != expected


def test_resolve_run_picks_the_day_and_fails_fast(specs):
    spec = next(iter(specs.values()))
    run = resolve_run(spec, {"alpha": 0.1, "segments": [spec.segments[0]]}, "2024-01-05")
    assert run.ds == "2024-01-05"
    assert run.params == {"experiment": spec.name, "alpha": 0.1, "segments": [spec.segments[0]],
                          "run": "daily"}  # fmt: skip
    # Asset-triggered runs have no logical date: the latest triggering daily run's ds
    assert resolve_run(spec, {}, None, ["2024-01-03", "2024-01-04"]).ds == "2024-01-04"
    assert resolve_run(spec, {"ds": "2024-01-02"}, "2024-01-05").ds == "2024-01-02"
    assert resolve_run(spec, {}, "2024-01-05").params["segments"] == list(spec.segments)
    with pytest.raises(ValueError, match="alpha must be in"):
        resolve_run(spec, {"alpha": 0.9}, "2024-01-05")
    with pytest.raises(ValueError, match="unknown segments"):
        resolve_run(spec, {"segments": ["nope"]}, "2024-01-05")
    with pytest.raises(ValueError, match="no ds to read out"):
        resolve_run(spec, {}, None, [])


def test_invalid_config_is_an_import_error_naming_the_file(tmp_path, monkeypatch):
    good = (ROOT / "experiments" / "homepage_cta_test.yaml").read_text()
    (tmp_path / "homepage_cta_test.yaml").write_text(good)
    (tmp_path / "broken_test.yaml").write_text(
        textwrap.dedent(
            """
            name: broken_test
            variants: [{name: control, weight: 0.7}, {name: treatment, weight: 0.7}]
            control: control
            start_date: "2024-01-01"
            end_date: "2024-01-31"
            metrics: [{name: activation, type: conversion, role: primary}]
            """
        )
    )
    with pytest.raises(ExperimentConfigError, match="broken_test.yaml.*weights must sum to 1"):
        load_configs(tmp_path)

    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("LAKEHOUSE_EXPERIMENTS_DIR", str(tmp_path))
    bag = DagBag(dag_folder=str(ROOT / "dags" / "experiment_readouts.py"))
    (message,) = bag.import_errors.values()
    assert "broken_test.yaml" in message and "weights must sum to 1" in message


def test_daily_dag_source_groups_in_order(dagbag):
    from include.dag_factory import silver_order

    dag = dagbag.dags["lakehouse_daily"]
    bronze = dag.get_task("sources.bronze")
    silver = dag.get_task("sources.silver")
    assert "land_raw" in bronze.upstream_task_ids
    assert silver.task_id in bronze.downstream_task_ids
    n = len(SOURCES)
    assert spark_task_spec(bronze).jobs == tuple(f"bronze.{s}" for s in SOURCES)
    jobs = list(spark_task_spec(silver).jobs)
    # every source in order, then the per-person state derived from silver.billing_events
    assert len(jobs) == n + 1
    assert jobs == [*(f"silver.{s}" for s in silver_order()), "silver.person_conversions"]
    # people are resolved through sessions: silver.sessions runs first
    assert jobs.index("silver.sessions") < jobs.index("silver.experiment_assignments")


def test_daily_dag_experiment_chains_behind_the_gate(dagbag, specs):
    from include.dag_factory import gold_chains

    dag = dagbag.dags["lakehouse_daily"]
    # the web gate still guards gold.agg_website_events, and nothing else feeds it
    assert dag.get_task("gold.agg_website_events").upstream_task_ids == {
        "silver.gate_fct_website_events"
    }
    assert dag.get_task("silver.fct_website_events").downstream_task_ids == {
        "silver.gate_fct_website_events", "sources.gate"  # the latter gates the quarantine
    }
    chains = gold_chains(specs.values())
    for name in specs:
        window, *tasks = _group_tasks(dag, name)
        # every group starts with its analysis window, behind both gates
        assert window.task_id == f"experiments.{name}.analysis_window"
        assert window.upstream_task_ids == {"silver.gate_fct_website_events", "sources.gate"}
        assert tasks[0].upstream_task_ids == {window.task_id}
        for upstream, task in zip(tasks, tasks[1:], strict=False):
            assert task.upstream_task_ids == {upstream.task_id}  # a straight line
        stages = [t for t in tasks if spark_task_spec(t).jobs != ("quality.gate",)]
        jobs = [job for t in stages for job in spark_task_spec(t).jobs]
        assert jobs == [job for job, _, _ in chains[name]]
        assert "gold.experiments.aggregated" in jobs
        assert jobs.index("gold.experiments.outcomes" if "gold.experiments.outcomes" in jobs
                          else "gold.experiments.user_outcomes") < jobs.index(
            "gold.experiments.aggregated")
        for t in stages:
            assert spark_task_spec(t).params == {"experiment": name}
        if "gold.experiments.outcomes" in jobs:
            # the outcomes are gated before aggregated reads them
            gate = next(t for t in tasks if spark_task_spec(t).jobs == ("quality.gate",))
            assert spark_task_spec(gate).params == {"tables": [f"gold.{name}_outcomes"]}
            assert tasks.index(gate) < next(
                i for i, t in enumerate(tasks) if "gold.experiments.aggregated" in
                spark_task_spec(t).jobs)


def test_a_concluded_experiment_is_skipped_from_the_day_after_its_final_day(dagbag, specs):
    """analysis_window short-circuits the group (every task after it is skipped) once ds is
    past the final day, and lets it run on the final day itself; resolve_run refuses the day."""
    from datetime import timedelta

    from airflow.providers.standard.operators.python import ShortCircuitOperator

    dag = dagbag.dags["lakehouse_daily"]
    final = {"homepage_cta_test": "2024-06-01", "pdp_redesign": "2024-03-09"}  # by hand below
    for name, spec in specs.items():
        window = dag.get_task(f"experiments.{name}.analysis_window")
        assert isinstance(window, ShortCircuitOperator)
        assert window.ignore_downstream_trigger_rules  # skips the whole chain, gates too
        group = {t.task_id for t in dag.tasks if t.task_id.startswith(f"experiments.{name}.")}
        assert window.get_flat_relative_ids(upstream=False) == group - {window.task_id}
        assert spec.final_day.isoformat() == final[name]
        day_after = (spec.final_day + timedelta(days=1)).isoformat()
        assert window.python_callable(experiment=name, ds=spec.start_date.isoformat()) is True
        assert window.python_callable(experiment=name, ds=final[name]) is True
        assert window.python_callable(experiment=name, ds=day_after) is False
        assert resolve_run(spec, {}, final[name]).ds == final[name]
        with pytest.raises(ValueError, match=f"concluded on {final[name]}"):
            resolve_run(spec, {}, day_after)


def test_parsing_the_dags_imports_no_pyspark():
    code = (
        "import runpy, sys; sys.path.insert(0, '.');"
        "[runpy.run_path(p) for p in ('dags/lakehouse_daily.py', 'dags/experiment_readouts.py')];"
        "print('pyspark' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_event_days_from_the_triggering_daily_runs():
    from datetime import datetime, timezone
    from types import SimpleNamespace as NS

    from include.dag_factory import _event_days

    run = NS(logical_date=datetime(2024, 1, 6, tzinfo=timezone.utc))  # noqa: UP017
    events = {
        "gold.x_aggregated": [
            NS(extra={}, source_dag_run=run),
            NS(extra={"ds": "2024-01-07"}, source_dag_run=None),
            NS(extra=None, source_dag_run=None),  # e.g. an event posted through the API
        ]
    }
    assert sorted(_event_days(events)) == ["2024-01-06", "2024-01-07"]
    assert _event_days(None) == []

    class Gone:  # an event whose source run was deleted: the API answers 404 (seen in a demo)
        extra, source_dag_id, source_run_id = {}, "lakehouse_daily", "manual__old"

        @property
        def source_dag_run(self):
            raise RuntimeError("API_SERVER_ERROR: 404 Dag run ... was not found")

    events["gold.x_aggregated"].append(Gone())
    assert sorted(_event_days(events)) == ["2024-01-06", "2024-01-07"]
