"""The task links and the path rules of the readouts plugin (include/report_links.py); the
pages served behind an Airflow login are tested on a real API server in
tests/e2e/test_lockdown.py."""

from __future__ import annotations

import json

import pytest

from include.report_links import (
    DataDocsLink,
    ReadoutIndexLink,
    ReadoutLink,
    _inside,
    readout_path,
)


def _task(jobs, ds="2024-01-09", params=None, task_id="t"):
    from include.connect_operator import SparkConnectJobOperator

    return SparkConnectJobOperator(task_id=task_id, jobs=jobs, run_ds=ds,
                                   job_params=json.dumps(params or {}))  # fmt: skip


def _links(task) -> dict[str, str]:
    return {link.name: link.get_link(task, ti_key=None) for link in task.operator_extra_links}


def test_a_readout_task_links_its_page_the_index_and_the_days_data_docs():
    task = _task(["readouts.experiment"], params={"experiment": "homepage_cta_test"})
    assert _links(task) == {
        "Readout": "/lakehouse/readouts/homepage_cta_test/2024-01-09/readout.html",
        "All readouts": "/lakehouse/readouts/",
        "Data Docs": "/lakehouse/datadocs/2024-01-09/index.html",
    }
    manual = _task(["readouts.experiment"],
                   params={"experiment": "homepage_cta_test", "run": "manual_0123456789"})
    assert _links(manual)["Readout"] == (
        "/lakehouse/readouts/runs/manual_0123456789/homepage_cta_test/2024-01-09/readout.html")


def test_a_gate_links_its_data_docs_and_other_tasks_link_nothing():
    gate = _task(["quality.gate"], params={"tables": ["silver.fct_website_events"]})
    assert _links(gate) == {"Readout": "", "All readouts": "",
                            "Data Docs": "/lakehouse/datadocs/2024-01-09/index.html"}
    assert set(_links(_task(["bronze.web_events"])).values()) == {""}
    # an unrendered template or a hostile name never becomes a link
    assert set(_links(_task(["readouts.experiment"], ds="{{ ds }}",
                            params={"experiment": "x"})).values()) == {""}  # fmt: skip
    assert _links(_task(["readouts.experiment"], params={"experiment": "../x"}))["Readout"] == ""
    assert ReadoutLink().name != ReadoutIndexLink().name != DataDocsLink().name


def test_readout_paths_and_served_files_stay_inside_their_folder(tmp_path):
    assert readout_path("cta", "2024-01-09") == "cta/2024-01-09/readout.html"
    assert readout_path("cta", "2024-01-09", "daily") == "cta/2024-01-09/readout.html"
    for bad in (("../cta", "2024-01-09"), ("cta", "2024-1-9"), ("cta", "2024-01-09/..")):
        assert readout_path(*bad) is None
    assert readout_path("cta", "2024-01-09", "manual_x") is None
    (tmp_path / "root" / "a").mkdir(parents=True)
    (tmp_path / "root" / "a" / "page.html").write_text("x")
    (tmp_path / "secret.env").write_text("s")
    (tmp_path / "root" / "link.env").symlink_to(tmp_path / "secret.env")
    root = tmp_path / "root"
    assert _inside(root, "a/page.html") == (root / "a" / "page.html").resolve()
    for escape in ("../secret.env", "a/../../secret.env", "link.env", "a", "", "missing"):
        assert _inside(root, escape) is None, escape


@pytest.mark.parametrize("dag_id", ["lakehouse_daily", "experiment_homepage_cta_test"])
def test_the_links_survive_the_dag_serialization_the_ui_reads(dag_id):
    """The API server reads tasks from the serialized DAG: the link names (and the XCom keys
    their URLs are stored under when a task ends) come from there."""
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    assert not bag.import_errors
    dag = bag.dags[dag_id]
    restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    readouts = [t for t in restored.tasks if "Readout" in t.extra_links]
    if dag_id.startswith("experiment_"):
        assert [t.task_id for t in readouts] == ["readout"]
        assert set(readouts[0].extra_links) == {"Readout", "All readouts", "Data Docs"}
    gates = [t for t in dag.tasks if t.task_id.split(".")[-1].startswith("gate")]
    for gate in gates:
        assert "Data Docs" in restored.get_task(gate.task_id).extra_links
