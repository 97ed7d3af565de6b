"""The Spark engine seen from its clients (include/engine.py) and the Airflow operator that
makes a task one of them (include/connect_operator.py)."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import pytest

from include.engine import ConnectTarget, EngineUnavailable, connect_session, engine_mode
from tests.conftest import ROOT, server_api

# What only a Spark session with a JVM in-process has. Jobs run as Spark Connect clients
# (and as spark-submit'ed drivers): none of it may appear in their code.
JVM_ONLY = {"sparkContext", "_jvm", "_jsc", "_jsparkSession", "_jdf", "rdd",
            "hadoopConfiguration", "DeltaTable"}  # fmt: skip
JVM_MODULES = ("py4j", "delta.tables", "delta.pip_utils")


def _engine_agnostic_sources() -> list[Path]:
    """Job code and the shared code jobs import; include/spark.py is the JVM session builder
    of the spark-submit engine, include/engine_server.py starts the server."""
    files = sorted((ROOT / "spark_jobs").rglob("*.py")) + sorted((ROOT / "include").rglob("*.py"))
    return [f for f in files if f.relative_to(ROOT).as_posix() != "include/spark.py"]


def test_job_code_uses_no_jvm_api():
    offences = []
    for path in _engine_agnostic_sources():
        tree = ast.parse(path.read_text(), str(path))
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in JVM_ONLY:
                offences.append(f"{where}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.Name) and node.id in JVM_ONLY:
                offences.append(f"{where}:{node.lineno} {node.id}")
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [
                    a.name for a in node.names]
                offences += [f"{where}:{node.lineno} import {n}" for n in names
                             if n.startswith(JVM_MODULES)]  # fmt: skip
    assert offences == []


def test_jobs_persist_only_through_keep():
    """Every persisted frame is released when its job ends (include.engine.keep/release):
    on the long-lived server a frame nobody unpersists stays cached for every session."""
    offences = []
    for path in _engine_agnostic_sources():
        if path.name == "engine.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("persist", "cache", "checkpoint")):  # fmt: skip
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offences == []


def test_jobs_collect_to_pandas_through_the_engine_helper():
    """Spark Connect hangs its plan metrics on a pandas frame's ``attrs``; pandas then fails
    to write Parquet (seen: the finance exports). include.engine.to_pandas drops them."""
    offences = []
    for path in _engine_agnostic_sources():
        if path.name == "engine.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr == "toPandas":
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offences == []


def test_to_pandas_gives_a_frame_pandas_can_write_as_parquet(spark, tmp_path):
    import pandas as pd

    from include.engine import to_pandas

    frame = to_pandas(spark.range(3).selectExpr("id", "id * 2 AS twice"))
    assert frame.attrs == {}
    frame.to_parquet(tmp_path / "x.parquet", index=False)
    back = pd.read_parquet(tmp_path / "x.parquet")
    assert back["twice"].tolist() == [0, 2, 4]


def _cached(server) -> list[dict]:
    return server_api(server, "storage/rdd")


def test_a_job_leaves_nothing_cached_on_the_server_even_when_it_fails(
    spark, engine_server, lakehouse_env
):
    """bronze.web_events persists the day's parsed lines: released after the job, and after
    a job that fails half-way (schema drift, raised after the parse was persisted)."""
    from include.generator import GeneratorConfig, write_day
    from spark_jobs.bronze.drift import SchemaDrift
    from spark_jobs.run import run

    ds = "2024-01-02"
    write_day(ds, lakehouse_env.raw_root, GeneratorConfig(events_per_day=1000))
    before = {r["id"] for r in _cached(engine_server)}  # what earlier tests may have left
    result = run("bronze.web_events", ds, spark=spark)
    assert result["rows_out"] > 0
    assert {r["id"] for r in _cached(engine_server)} <= before

    # the same day again, redelivered with a changed type of properties on every line:
    # drift, raised after the job persisted its parse
    from tests.unit.sources.test_schema_drift import _web_event

    folder = Path(lakehouse_env.raw_path("web_events", ds))
    for old in folder.iterdir():
        old.unlink()
    lines = [_web_event(i, properties="spring") for i in range(30)]
    (folder / "part-00000.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaDrift):
        run("bronze.web_events", ds, spark=spark)
    assert {r["id"] for r in _cached(engine_server)} <= before


def test_engine_mode_is_validated(monkeypatch):
    monkeypatch.delenv("LAKEHOUSE_ENGINE", raising=False)
    assert engine_mode() == "connect"
    monkeypatch.setenv("LAKEHOUSE_ENGINE", " Submit ")
    assert engine_mode() == "submit"
    monkeypatch.setenv("LAKEHOUSE_ENGINE", "yarn")
    with pytest.raises(ValueError, match="LAKEHOUSE_ENGINE='yarn': expected one of connect"):
        engine_mode()


def test_the_token_stays_out_of_reprs_and_messages():
    target = ConnectTarget(host="127.0.0.1", port=1, token="example-s3cret-value", label="c1")
    assert "s3cret" not in repr(target) and "s3cret" not in target.describe()
    assert target.url().startswith("sc://localhost:1/;token=example-s3cret-value")
    with pytest.raises(EngineUnavailable) as err:
        connect_session(target)
    assert "s3cret" not in str(err.value)


def test_the_url_the_connection_hook_builds_round_trips(monkeypatch):
    """The task reads the server from the Airflow connection (spark_connect type)."""
    import json

    from airflow.providers.apache.spark.hooks.spark_connect import SparkConnectHook

    monkeypatch.setenv("AIRFLOW_CONN_PROBE_CONNECT", json.dumps({
        "conn_type": "spark_connect", "host": "localhost", "port": 15999,
        "password": "tok/en+with=odd chars"}))  # fmt: skip
    url = SparkConnectHook("probe_connect").get_connection_url()
    target = ConnectTarget.from_url(url, label="probe_connect")
    assert (target.host, target.port, target.token) == ("localhost", 15999,
                                                        "tok/en+with=odd chars")
    assert target.describe() == "connection 'probe_connect' (Spark Connect at localhost:15999)"
    with pytest.raises(ValueError, match="not a Spark Connect URL"):
        ConnectTarget.from_url("http://localhost:15002", label="x")


def test_a_server_that_is_down_fails_within_seconds_naming_the_connection():
    from include.engine_server import free_port

    target = ConnectTarget(host="127.0.0.1", port=free_port(), token="t" * 20,
                           label="spark_connect_lakehouse")  # fmt: skip
    started = time.monotonic()
    with pytest.raises(EngineUnavailable) as err:
        connect_session(target)
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "connection 'spark_connect_lakehouse'" in message
    assert f"127.0.0.1:{target.port}" in message and "make services" in message


def test_a_wrong_token_is_refused_naming_the_connection(engine_server):
    target = ConnectTarget(host=engine_server.host, port=engine_server.port,
                           token="example-wrong-token",
                           label="spark_connect_lakehouse")  # fmt: skip
    with pytest.raises(EngineUnavailable, match="UNAUTHENTICATED.*LAKEHOUSE_CONNECT_TOKEN"):
        connect_session(target)
    plain = ConnectTarget(host=engine_server.host, port=engine_server.port, token="")
    with pytest.raises(EngineUnavailable, match="refused the session"):
        connect_session(plain)


def test_sessions_do_not_share_settings(engine_server):
    """One session per task: what a job sets in its session never reaches another task's."""
    a = connect_session(engine_server.target)
    b = connect_session(engine_server.target)
    try:
        default = b.conf.get("spark.sql.shuffle.partitions")
        a.conf.set("spark.sql.shuffle.partitions", "7")
        assert a.conf.get("spark.sql.shuffle.partitions") == "7"
        assert b.conf.get("spark.sql.shuffle.partitions") == default != "7"
    finally:
        a.stop()
        b.stop()


def _slow_query(spark, seconds: float):
    return spark.range(0, 4, numPartitions=4).mapInPandas(_sleeper(seconds), "id BIGINT")


def test_on_kill_interrupts_what_the_task_session_runs(engine_server):
    """Airflow kills a task (SIGTERM: timeout, mark failed): the operator's on_kill cancels
    its session's query on the server, which otherwise would run to its end unobserved."""
    from include.connect_operator import SparkConnectJobOperator

    op = SparkConnectJobOperator(task_id="probe", jobs=["maintenance.delta_tables"])
    op._spark = connect_session(engine_server.target)
    outcome = {}

    def query():
        started = time.monotonic()
        try:
            _slow_query(op._spark, 60).collect()
            outcome["error"] = None
        except Exception as exc:  # noqa: BLE001 - the interruption is the expected outcome
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=query)
    worker.start()
    time.sleep(4)  # the query is running on the server
    op.on_kill()
    worker.join(timeout=60)
    op._spark.stop()
    assert not worker.is_alive()
    assert outcome["error"] and "cancel" in outcome["error"].lower(), outcome
    assert outcome["seconds"] < 30, outcome


def test_the_operator_runs_its_jobs_in_one_released_session(engine_server, lakehouse_env,
                                                            monkeypatch, capsys):  # fmt: skip
    """execute(): a session of the connection's server, the jobs in order, a result line per
    job, the results returned (XCom), the session and its guard gone afterwards."""
    import json
    import types

    from include.connect_operator import SparkConnectJobOperator

    monkeypatch.setenv("AIRFLOW_CONN_SPARK_CONNECT_LAKEHOUSE", json.dumps({
        "conn_type": "spark_connect", "host": "localhost", "port": engine_server.port,
        "password": engine_server.token}))  # fmt: skip
    params = json.dumps({"tables": ["gold.agg_website_events"]})  # no table yet: nothing to do
    op = SparkConnectJobOperator(task_id="maintenance", run_ds="2024-01-08", job_params=params,
                                 jobs=["maintenance.delta_tables", "maintenance.delta_tables"])
    ti = types.SimpleNamespace(dag_id="d", task_id="maintenance", run_id="r", try_number=1)
    sessions_before = server_api(engine_server, "environment")  # the server answers
    assert sessions_before
    results = op.execute({"ti": ti})
    assert [r["job"] for r in results] == ["maintenance.delta_tables"] * 2
    assert all(r["ds"] == "2024-01-08" for r in results)
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("LAKEHOUSE_RESULT")]
    assert len(lines) == 2
    assert op._spark is None


def test_tasks_share_the_server_fairly(engine_server):
    """Tasks running side by side share the executors (FAIR scheduling, the default pool
    made FAIR by conf/spark/fairscheduler.xml): a small query of one session is not queued
    behind every task of a big query another session started first (FIFO would launch all
    18 two-second tasks of the big one, 3 at a time, before it: about 9 s of waiting)."""
    env = {p["name"] if isinstance(p, dict) else p[0]: p["value"] if isinstance(p, dict)
           else p[1] for p in server_api(engine_server, "environment")["sparkProperties"]}
    assert env["spark.scheduler.mode"] == "FAIR"
    big, small = connect_session(engine_server.target), connect_session(engine_server.target)
    done = {}

    def run_big():
        t0 = time.monotonic()
        big.range(0, 18, numPartitions=18).mapInPandas(_sleeper(2.0), "id BIGINT").collect()
        done["big"] = time.monotonic() - t0

    worker = threading.Thread(target=run_big)
    try:
        worker.start()
        time.sleep(3)  # the big query's first tasks run; the rest wait for slots
        t0 = time.monotonic()
        assert small.range(0, 100, numPartitions=1).count() == 100
        done["small"] = time.monotonic() - t0
        worker.join(timeout=120)
    finally:
        big.stop()
        small.stop()
    # FAIR: the small query waits for one slot (<= 2 s) plus its own run; FIFO: ~9 s. The
    # margin is for a machine busy with the other test worker's engine.
    assert done["small"] < 6, done
    assert done["big"] > done["small"] + 3, done


def _sleeper(seconds: float):
    def sleep(batches):
        for batch in batches:
            time.sleep(seconds)
            yield batch

    return sleep


def test_isolated_runs_never_register_tables_in_the_shared_metastore(monkeypatch):
    """The engine's catalog is the shared metastore; a run with LAKEHOUSE_METASTORE=false
    (tests, the benchmark) must address tables by path only, or it would register its test
    prefix's tables over the lakehouse's (seen: bronze.accounts pointing at a probe prefix)."""
    import types

    from include.tables import uses_metastore

    hive = types.SimpleNamespace(conf=types.SimpleNamespace(get=lambda key, default=None: "hive"))
    memory = types.SimpleNamespace(conf=types.SimpleNamespace(get=lambda key, default=None:
                                                               "in-memory"))  # fmt: skip
    monkeypatch.delenv("LAKEHOUSE_METASTORE", raising=False)
    assert uses_metastore(hive) and not uses_metastore(memory)
    monkeypatch.setenv("LAKEHOUSE_METASTORE", "false")
    assert not uses_metastore(hive) and not uses_metastore(memory)
