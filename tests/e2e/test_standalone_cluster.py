"""The cluster path, shown: one day of the daily DAG on a Spark standalone cluster.

A standalone master and two workers (one core, 1 GiB each) are started from the pyspark
install on this machine, all on 127.0.0.1; a Spark Connect server of the test's own is
started with ``spark.master=spark://...`` instead of ``local[...]``: the one setting that
moves the engine onto a cluster (README, "Moving to a cluster"). The daily DAG then runs one
day end to end through ``dag.test()``, every task a Spark Connect client of that server,
tables under an isolated prefix of the real MinIO. The server's UI shows where the work ran:
on the two workers' executors, not in the driver.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pendulum
import pytest

from tests.e2e.test_lakehouse_dag import _dag_test, _forget_test_runs, prepare_airflow

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(2400)]
ROOT = Path(__file__).resolve().parents[2]
DS = "2024-01-08"
PREFIX = "cluster-test"


def _spark_class(*args: str, log: Path, env: dict) -> subprocess.Popen:
    from include.engine_server import spark_home

    with log.open("ab") as sink:
        return subprocess.Popen([str(spark_home() / "bin" / "spark-class"), *args], env=env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)


def _json(url: str):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A standalone master and two workers on 127.0.0.1; yields the master URL."""
    from include.engine_server import _signal_group, free_port, spark_home

    work = tmp_path_factory.mktemp("standalone")
    port, ui = free_port(), free_port()
    env = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_WORKER_DIR": str(work / "work"), "SPARK_LOG_DIR": str(work)}  # fmt: skip
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    procs = [_spark_class("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                          "--port", str(port), "--webui-port", str(ui),
                          log=work / "master.log", env=env)]  # fmt: skip
    master = f"spark://127.0.0.1:{port}"
    try:
        for i in range(2):
            procs.append(_spark_class(
                "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                "--webui-port", str(free_port()), "--cores", "1", "--memory", "1g", master,
                log=work / f"worker{i}.log", env=env))  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                state = _json(f"http://127.0.0.1:{ui}/json/")
                if sum(w["state"] == "ALIVE" for w in state["workers"]) == 2:
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            logs = "\n".join(p.read_text()[-2000:] for p in sorted(work.glob("*.log")))
            pytest.fail(f"the standalone cluster did not come up with 2 workers:\n{logs}")
        yield {"master": master, "ui": ui}
    finally:
        for proc in reversed(procs):
            _signal_group(proc.pid, 15)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, 9)
                proc.wait()


@pytest.fixture(scope="module")
def cluster_engine(cluster, tmp_path_factory):
    """A Spark Connect server whose master is the standalone cluster."""
    from tests.conftest import start_test_server

    server = start_test_server(
        tmp_path_factory.mktemp("cluster-engine"), name="cluster-connect", memory="1g",
        conf={"spark.master": cluster["master"], "spark.executor.memory": "768m",
              "spark.executor.cores": "1", "spark.cores.max": "2"},
    )  # fmt: skip
    yield server
    server.stop()


def test_one_day_end_to_end_on_a_standalone_cluster(cluster, cluster_engine, tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    from include.engine import connect_session
    from include.settings import load_settings
    from include.storage import delete_prefix, ensure_buckets
    from include.table_catalog import AGG_WEBSITE_EVENTS, FCT_WEBSITE_EVENTS
    from include.tables import read_partition
    from tests.conftest import server_api

    subprocess.run([str(ROOT / "scripts" / "services.sh"), "start-storage"], check=True)
    prepare_airflow()
    mp = pytest.MonkeyPatch()
    mp.setenv("LAKEHOUSE_ENGINE", "connect")
    mp.setenv("AIRFLOW_CONN_SPARK_CONNECT_LAKEHOUSE", json.dumps({
        "conn_type": "spark_connect", "host": "localhost", "port": cluster_engine.port,
        "password": cluster_engine.token}))  # fmt: skip
    mp.setenv("LAKEHOUSE_WAREHOUSE_ROOT", f"s3a://warehouse/{PREFIX}")
    mp.setenv("LAKEHOUSE_RAW_ROOT", f"s3a://raw/{PREFIX}")
    mp.setenv("LAKEHOUSE_METASTORE", "false")
    mp.setenv("LAKEHOUSE_REPORTS_DIR", str(tmp_path / "reports"))
    mp.setenv("LAKEHOUSE_GX_DIR", str(tmp_path / "gx"))
    mp.setenv("LAKEHOUSE_EXPORTS_DIR", str(tmp_path / "exports"))
    settings = load_settings()
    ensure_buckets(settings)
    delete_prefix(f"s3a://warehouse/{PREFIX}/", settings)
    delete_prefix(f"s3a://raw/{PREFIX}/", settings)
    try:
        dag = DagBag(dag_folder=str(ROOT / "dags")).dags["lakehouse_daily"]
        started = time.monotonic()
        run = _dag_test(dag, logical_date=pendulum.parse(DS),
                        run_conf={"generate_raw": True, "scale": 2000})  # fmt: skip
        seconds = round(time.monotonic() - started, 1)
        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        assert run.state == "success", states
        assert set(states.values()) == {"success"}, states

        spark = connect_session(cluster_engine.target)
        try:
            silver = read_partition(spark, FCT_WEBSITE_EVENTS, DS, settings).count()
            overall = read_partition(spark, AGG_WEBSITE_EVENTS, DS, settings).where(
                "aggregation_level = 'overall'").collect()  # fmt: skip
        finally:
            spark.stop()
        assert len(overall) == 1 and overall[0].m_total_events == silver > 500

        # the work ran on the workers' executors (the driver runs no task on a cluster)
        executors = [e for e in server_api(cluster_engine, "allexecutors") if e["id"] != "driver"]
        assert len(executors) >= 2, executors
        assert all(e["totalTasks"] > 0 for e in executors[:2]), executors
        app = _json(f"http://127.0.0.1:{cluster['ui']}/json/")
        assert any(a["name"] == "cluster-connect" for a in app["activeapps"]), app
        print({"day_seconds": seconds, "tasks": len(states), "silver_rows": silver,
               "executor_tasks": sorted(e["totalTasks"] for e in executors)})
    finally:
        _forget_test_runs()
        delete_prefix(f"s3a://warehouse/{PREFIX}/", settings)
        delete_prefix(f"s3a://raw/{PREFIX}/", settings)
        mp.undo()
