"""End to end on the real stack: the daily DAG run with dag.test() against MinIO.

Services (MinIO, PostgreSQL for Airflow's metadata DB) are started by the test setup
(``scripts/services.sh start-storage``, idempotent); the Spark engine is the tests' own Spark
Connect server (``engine_server``), which every task reaches through the Airflow connection
``spark_connect_lakehouse``, as in production. Tables go to an isolated prefix of the real
buckets, addressed by path (no metastore registration), so tests never touch demo data.
The DAG is run twice for the same ds: the second run, every task again, must leave the
content of every table it wrote unchanged (idempotency of every job: all partitions of all
tables, hashed) while committing new Delta versions. Then a partial delivery is
planted in the next day's raw web events: that run must stop at the silver gate, with the
gold tables of the good day untouched and the rejected silver partition taken back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
from pathlib import Path

import pendulum
import pytest

# The first test runs the whole DAG twice (~33 min on the 2-core build machine when nothing
# else runs): its own limit, above the suite's 30 min, leaves room for a busy machine.
# One xdist worker runs this module's tests, in order (--dist loadfile): they build on each
# other's tables.
pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(4200)]
ROOT = Path(__file__).resolve().parents[2]
DS = "2024-03-04"
PREFIX = "e2e-test"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, engine_server):
    subprocess.run([str(ROOT / "scripts" / "services.sh"), "start-storage"], check=True)
    # The tests' own metadata DB: a demo's scheduler running beside them never sees their runs
    # (it did when they shared one, and ran the test's tasks with the demo's settings).
    prepare_airflow()
    mp = pytest.MonkeyPatch()
    # the tasks' engine: the tests' server, through the connection the operator uses
    mp.setenv("LAKEHOUSE_ENGINE", "connect")
    mp.setenv("AIRFLOW_CONN_SPARK_CONNECT_LAKEHOUSE", json.dumps({
        "conn_type": "spark_connect", "host": "localhost", "port": engine_server.port,
        "password": engine_server.token}))  # fmt: skip
    mp.setenv("LAKEHOUSE_WAREHOUSE_ROOT", f"s3a://warehouse/{PREFIX}")
    mp.setenv("LAKEHOUSE_RAW_ROOT", f"s3a://raw/{PREFIX}")
    mp.setenv("LAKEHOUSE_METASTORE", "false")
    mp.setenv("LAKEHOUSE_REPORTS_DIR", str(tmp_path_factory.mktemp("reports")))
    mp.setenv("LAKEHOUSE_GX_DIR", str(tmp_path_factory.mktemp("gx")))
    mp.setenv("LAKEHOUSE_EXPORTS_DIR", str(tmp_path_factory.mktemp("exports")))
    from include.settings import load_settings
    from include.storage import delete_prefix, ensure_buckets

    settings = load_settings()
    ensure_buckets(settings)
    delete_prefix(f"s3a://warehouse/{PREFIX}/", settings)
    delete_prefix(f"s3a://raw/{PREFIX}/", settings)
    try:
        yield settings
    finally:
        _forget_test_runs()
        mp.undo()


@contextlib.contextmanager
def airflow_db_lock():
    """Held while a test process writes the DAGs into Airflow's metadata DB: two xdist workers
    run dag.test() at once (this module and the standalone-cluster one), and each call syncs
    the same DAG files into the same rows first."""
    import fcntl
    import os

    state = Path(os.environ.get("LAKEHOUSE_STATE_DIR", ROOT / "var"))
    state.mkdir(parents=True, exist_ok=True)
    with (state / "tests-airflow-db.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_airflow() -> None:
    """The tests' own Airflow (tests/conftest.py: its own home and metadata DB, never the
    demo's) migrated, with the pools the DAGs use; then what the DAG processor does: serialise
    the DAGs into the metadata DB and activate their Assets (a task may emit only active
    Assets)."""
    import os

    from tests.conftest import TESTS_AIRFLOW_DB

    url = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    assert url.startswith("postgresql") and url.endswith(f"/{TESTS_AIRFLOW_DB}"), (
        "the e2e tests run on the tests' own Airflow DB (tests/conftest.py); LAKEHOUSE_PG_PASSWORD "
        "is not set: source scripts/env.sh after make setup")
    with airflow_db_lock():
        for command in (["airflow", "db", "migrate"], ["python", "scripts/airflow_pools.py"],
                        ["airflow", "dags", "reserialize"]):  # fmt: skip
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])


# (dag_id, run_id) of every run dag.test() made here: deleted from the metadata DB afterwards
_TEST_RUNS: list[tuple[str, str]] = []


def _dag_test(dag, **kwargs):
    """``dag.test(**kwargs)``, remembering the run so the fixture can delete it; the DAG sync
    dag.test() starts with runs under ``airflow_db_lock``."""
    from airflow.dag_processing import dagbag

    sync = dagbag.sync_bag_to_db

    def locked_sync(*args, **kw):
        with airflow_db_lock():
            return sync(*args, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dagbag, "sync_bag_to_db", locked_sync)
        run = dag.test(**kwargs)
    _TEST_RUNS.append((dag.dag_id, run.run_id))
    return run


def _forget_test_runs() -> int:
    """Delete the runs dag.test() made (the tests' own metadata DB; their task instances go
    with them), so that each session starts from the same state. (When the tests shared the
    demo's DB, a later ``make demo`` over the same days found them 'success' and ran nothing.)
    """
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    deleted = 0
    with create_session() as session:
        for dag_id, run_id in sorted(set(_TEST_RUNS)):
            query = select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
            for run in session.scalars(query):
                session.delete(run)  # its task instances go with it (ORM cascade)
                deleted += 1
    _TEST_RUNS.clear()
    return deleted


def _run_dag(ds: str = DS, generate_raw: bool = True, skip: str | None = None):
    """dag.test() of the daily DAG for ds; ``skip``: task ids (regex) marked success unrun."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["lakehouse_daily"]
    return _dag_test(
        dag,
        logical_date=pendulum.parse(ds),
        run_conf={"generate_raw": generate_raw, "scale": 5000},
        mark_success_pattern=skip,
    )


def _content_hash(df) -> str:
    """Order-independent hash of a DataFrame's content.

    ``input_versions`` (a readout's provenance: the Delta versions it read) is left out: a
    re-run reads the re-committed inputs, so those numbers move while the data does not.
    """
    df = df.drop("input_versions")
    rows = sorted(str(tuple(r)) for r in df.collect())
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _tables(spark, settings):
    """Every table of the catalog (sources, web, finance, experiments...) that exists."""
    from include.contracts import all_contracts
    from include.experiments import load_all
    from include.table_catalog_experiments import experiment_contracts
    from include.tables import table_exists

    contracts = {c.qualified_name: c for c in all_contracts()}
    for spec in load_all():
        contracts.update({c.qualified_name: c for c in experiment_contracts(spec)})
    return [c for _, c in sorted(contracts.items()) if table_exists(spark, c, settings)]


def _raw_line_count(settings) -> int:
    from include.storage import get_bytes, list_keys

    keys = list_keys(f"{settings.raw_root}/web_events/ds={DS}/", settings)
    return sum(get_bytes(f"s3a://{settings.raw_bucket}/{k}", settings).count(b"\n") for k in keys)


def _secret_values(stack) -> dict[str, str]:
    """Every secret an e2e run holds: the credentials (var/credentials.env, through the
    environment) and the tests' engine token (the Airflow connection's password)."""
    import os

    names = ("LAKEHOUSE_S3_ACCESS_KEY", "LAKEHOUSE_S3_SECRET_KEY", "LAKEHOUSE_PG_PASSWORD",
             "LAKEHOUSE_METASTORE_PASSWORD", "AIRFLOW__API_AUTH__JWT_SECRET",
             "LAKEHOUSE_JDBC_ANALYST_PASSWORD", "LAKEHOUSE_JDBC_ADMIN_PASSWORD",
             "LAKEHOUSE_CONNECT_TOKEN")  # fmt: skip
    values = {n: os.environ[n] for n in names if len(os.environ.get(n, "")) >= 8}
    engine = json.loads(os.environ["AIRFLOW_CONN_SPARK_CONNECT_LAKEHOUSE"])
    values["the tests' engine token"] = engine["password"]
    return values


def test_daily_dag_end_to_end_and_idempotent(stack, spark, capfd):
    from pyspark.sql import functions as F

    from include.table_catalog import (
        AGG_WEBSITE_EVENTS,
        BRONZE_WEB_EVENTS,
        FCT_WEBSITE_EVENTS,
        QUARANTINE,
        READOUTS,
    )
    from include.tables import read_partition, read_table, table_version

    run = _run_dag()
    assert run.state == "success", [(ti.task_id, ti.state) for ti in run.get_task_instances()]
    assert {ti.state for ti in run.get_task_instances()} == {"success"}
    # the run's whole output (every task's log, dag.test() prints them) holds no secret
    logs = "".join(capfd.readouterr())
    assert logs.count("opening a Spark Connect session") >= 18, logs[-2000:]
    secrets = _secret_values(stack)
    assert {"LAKEHOUSE_S3_SECRET_KEY", "the tests' engine token"} <= set(secrets)
    leaked = sorted(name for name, value in secrets.items() if value in logs)
    assert not leaked, f"secret values in the run's logs: {leaked}"
    print(f"secret scan: {len(secrets)} secret values ({', '.join(sorted(secrets))}) searched "
          f"in {len(logs):,} characters of the run's output: {len(leaked)} found")  # evidence

    # every gate ran and recorded its rules; none blocked
    from include.table_catalog import QUALITY_RESULTS

    results = read_partition(spark, QUALITY_RESULTS, DS, stack)
    suites = {r.suite for r in results.select("suite").distinct().collect()}
    assert {"bronze_web_events", "silver_fct_website_events", "gold_agg_website_events",
            "bronze_quarantine", "silver_billing_events", "gold_mrr_bridge",
            "gold_experiment_outcomes__homepage_cta_test_outcomes",
            # every silver source, the shop marts, both experiments' leaves, the finance marts
            "silver_sessions", "silver_orders", "silver_products", "silver_product_usage",
            "silver_support_tickets", "silver_nps_responses", "gold_user_exposure",
            "gold_user_outcomes", "gold_experiment_aggregated__homepage_cta_test_aggregated",
            "gold_experiment_details__homepage_cta_test_details",
            "gold_experiment_aggregated__pdp_redesign_aggregated", "gold_monthly_revenue",
            "gold_monthly_funnel", "gold_cohort_retention", "gold_user_master",
            "gold_churn_flags", "gold_support_summary", "gold_mrr_snapshot_user_month",
            } <= suites, suites
    assert results.where("NOT success AND severity = 'block'").count() == 0
    # the finance exports of the run
    exported = {p.name for p in (stack.exports_dir / f"ds={DS}").rglob("*")}
    assert any(n.endswith(".xlsx") for n in exported) and any(
        n.endswith(".parquet") for n in exported
    ), exported

    # gold rows: the overall rollup counts exactly the silver events of the day
    agg = read_partition(spark, AGG_WEBSITE_EVENTS, DS, stack)
    overall = agg.where("aggregation_level = 'overall'").collect()
    silver_rows = read_partition(spark, FCT_WEBSITE_EVENTS, DS, stack).count()
    assert len(overall) == 1 and overall[0].m_total_events == silver_rows > 1000
    for level_total in agg.groupBy("aggregation_level").agg(F.sum("m_total_events")).collect():
        assert level_total[1] == silver_rows  # every grouping partitions the same events

    # accounting: raw lines = bronze rows + bronze quarantine (nothing dropped silently)
    bronze_rows = read_partition(spark, BRONZE_WEB_EVENTS, DS, stack).count()
    quarantine = read_partition(spark, QUARANTINE, DS, stack).where("source = 'web_events'")
    bronze_q = quarantine.where("layer = 'bronze'").count()
    assert _raw_line_count(stack) == bronze_rows + bronze_q
    assert bronze_rows == silver_rows + quarantine.where("layer = 'silver'").count()

    # the readout table and its page
    readouts = read_partition(spark, READOUTS, DS, stack)
    assert readouts.where("experiment = 'homepage_cta_test'").count() > 0
    assert set(r.verdict for r in readouts.collect()) <= {
        "ship",
        "do_not_ship",
        "keep_running",
        "invalid",
        "blocked",  # this state's first day: the days before it never ran (no gate results)
        "monitor",  # the daily web page: never a decision
    }
    pages = list(Path(stack.reports_dir).glob(f"*/homepage_cta_test/{DS}/readout.html"))
    assert pages and "homepage_cta_test" in pages[0].read_text()

    # idempotency of every job: the whole DAG again for the same ds -> every table's whole
    # content (all partitions) unchanged, and every table written has a new Delta version
    tables = _tables(spark, stack)
    names = {t.qualified_name for t in tables}
    assert {"bronze.sessions", "silver.accounts", "gold.mrr_bridge", "gold.monthly_revenue",
            "gold.homepage_cta_test_outcomes", "gold.homepage_cta_test_details",
            "gold.user_outcomes", "gold.daily_growth"} <= names and len(names) >= 30, names
    before = {t.qualified_name: _content_hash(read_table(spark, t, stack)) for t in tables}
    versions = {t.qualified_name: table_version(spark, t, stack) for t in tables}
    assert _run_dag().state == "success"
    after = {t.qualified_name: _content_hash(read_table(spark, t, stack)) for t in tables}
    changed = sorted(name for name in before if after[name] != before[name])
    assert not changed, changed
    # every table the first run wrote data to was written again; a table only created (the
    # pdp_redesign tables: that experiment ended before DS, an empty day makes no commit)
    # must still be empty
    wrote = {name for name, version in versions.items() if version > 0}
    assert len(wrote) >= 30, sorted(wrote)
    by_name = {t.qualified_name: t for t in tables}
    not_rewritten = sorted(
        name for name in wrote if table_version(spark, by_name[name], stack) <= versions[name]
    )
    assert not not_rewritten, not_rewritten
    for name in sorted(set(versions) - wrote):
        assert read_table(spark, by_name[name], stack).count() == 0, name


def test_the_spark_submit_engine_runs_the_same_tasks(stack, spark, monkeypatch):
    """The second engine (``LAKEHOUSE_ENGINE=submit``, for teams that prefer a JVM per task):
    the same DAG parses into SparkSubmitOperators, and bronze.web_events with its gate run as
    spark-submits of spark_jobs/run.py for DS again: success, a new commit, the same rows."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    from include.table_catalog import BRONZE_WEB_EVENTS
    from include.tables import read_table, table_version

    monkeypatch.setenv("LAKEHOUSE_ENGINE", "submit")
    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["lakehouse_daily"]
    assert isinstance(dag.get_task("bronze.web_events"), SparkSubmitOperator)
    before = _content_hash(read_table(spark, BRONZE_WEB_EVENTS, stack))
    version = table_version(spark, BRONZE_WEB_EVENTS, stack)
    run = _dag_test(dag, logical_date=pendulum.parse(DS),
                    run_conf={"generate_raw": False, "scale": 5000},
                    mark_success_pattern=r"(?!bronze\.).*")  # fmt: skip
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert states["bronze.web_events"] == states["bronze.gate_web_events"] == "success"
    assert table_version(spark, BRONZE_WEB_EVENTS, stack) > version
    assert _content_hash(read_table(spark, BRONZE_WEB_EVENTS, stack)) == before


BAD_DS = "2024-03-05"
MINIMUM_COUNT_RULE = "minimum daily event count"


def _plant_partial_delivery(settings, keep: int = 600) -> int:
    """Upstream delivers a partial day: only the first ``keep`` lines of the web events.

    Every line is well formed and accounted for (bronze balances), silver has nothing to
    repair: only the silver suite's minimum daily count can tell the day is incomplete.
    """
    from include.generator import GeneratorConfig, write_day
    from include.storage import delete_prefix, get_bytes, list_keys, put_bytes

    write_day(BAD_DS, settings.raw_root, GeneratorConfig(events_per_day=5000))
    prefix = f"{settings.raw_root}/web_events/ds={BAD_DS}/"
    keys = sorted(k for k in list_keys(prefix, settings) if k.endswith(".jsonl"))
    first = f"s3a://{settings.raw_bucket}/{keys[0]}"
    lines = get_bytes(first, settings).decode().splitlines()[:keep]
    for key in keys[1:]:
        delete_prefix(f"s3a://{settings.raw_bucket}/{key}", settings)
    put_bytes(first, ("\n".join(lines) + "\n").encode(), settings)
    return len(lines)


def test_a_planted_defect_stops_the_run_at_its_gate(stack, spark, smtp_sink, monkeypatch):
    """...and a person hears of it: the gate's task fails (gate tasks have no retries) and its
    failure callback e-mails the alert (include/alerts.py) through the ``smtp_lakehouse``
    connection, here a local SMTP sink."""
    from include.table_catalog import (
        AGG_WEBSITE_EVENTS,
        FCT_WEBSITE_EVENTS,
        QUALITY_RESULTS,
        READOUTS,
    )
    from include.tables import read_partition, table_location, table_version
    from tests.conftest import smtp_connection

    port, mails = smtp_sink
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_LAKEHOUSE", smtp_connection(port, "oncall@example.com"))
    good = [AGG_WEBSITE_EVENTS, READOUTS]
    before = {t.qualified_name: _content_hash(read_partition(spark, t, DS, stack)) for t in good}
    versions = {t.qualified_name: table_version(spark, t, stack) for t in good}
    assert _plant_partial_delivery(stack) == 600

    # the sources and finance branches do not read web events: not re-run here
    run = _run_dag(BAD_DS, generate_raw=False, skip=r"(sources|finance)\..*")
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed", states
    assert states["bronze.gate_web_events"] == "success"
    assert states["silver.fct_website_events"] == "success"
    assert states["silver.gate_fct_website_events"] == "failed"
    downstream = [t for t in states if t.startswith(("gold.", "readouts.", "experiments."))]
    assert downstream and all(states[t] == "upstream_failed" for t in downstream), states

    # the gate recorded which blocking rule failed
    failed = read_partition(spark, QUALITY_RESULTS, BAD_DS, stack).where(
        "suite = 'silver_fct_website_events' AND NOT success AND severity = 'block'"
    ).collect()
    assert [r.rule for r in failed] == [MINIMUM_COUNT_RULE]

    # one alert, for the failed gate (upstream_failed tasks send none), naming what failed
    assert len(mails) == 1, [m["Subject"] for m in mails]
    mail = mails[0]
    assert mail["X-Envelope-To"] == "oncall@example.com"
    assert mail["Subject"] == (f"[lakehouse] lakehouse_daily.silver.gate_fct_website_events "
                               f"failed for ds={BAD_DS}: silver.fct_website_events")  # fmt: skip
    body = mail.get_body(("html",)).get_content()
    print("alert received by the SMTP sink:\n" + mail.as_string())  # evidence (pytest -rP)
    assert MINIMUM_COUNT_RULE in body and "/dags/lakehouse_daily/runs/" in body
    assert "/tasks/silver.gate_fct_website_events" in body
    assert f"ds={BAD_DS}" in body and "index.html" in body  # the day's Data Docs

    # readers see no silver rows for the incomplete day (the new partition was taken back),
    # the rejected rows are kept for inspection, and the good day's gold is untouched
    assert read_partition(spark, FCT_WEBSITE_EVENTS, BAD_DS, stack).count() == 0
    location = table_location(FCT_WEBSITE_EVENTS, stack)
    deletes = spark.sql(f"DESCRIBE HISTORY delta.`{location}`").where("operation = 'DELETE'")
    rejected = deletes.orderBy("version", ascending=False).first().version - 1
    kept = spark.read.format("delta").option("versionAsOf", rejected).load(location)
    assert 0 < kept.where(f"ds = '{BAD_DS}'").count() < 1000
    for t in good:
        assert table_version(spark, t, stack) == versions[t.qualified_name]
        assert _content_hash(read_partition(spark, t, DS, stack)) == before[t.qualified_name]
        assert read_partition(spark, t, BAD_DS, stack).count() == 0


def test_the_maintenance_dag_compacts_without_changing_any_table_and_reruns_as_a_no_op(
    stack, spark
):
    """The weekly lakehouse_maintenance DAG on the tables the daily runs above left: every
    table's content is the same after it, no more files are referenced than before, and a
    second run commits nothing (it has nothing left to compact)."""
    from airflow.dag_processing.dagbag import DagBag

    from include.tables import read_table, table_location, table_version

    tables = _tables(spark, stack)
    assert len(tables) >= 30, "runs after the daily DAG's tests, on the tables they wrote"

    def referenced(t):
        return len(spark.read.format("delta").load(table_location(t, stack)).inputFiles())

    before = {t.qualified_name: _content_hash(read_table(spark, t, stack)) for t in tables}
    files_before = sum(referenced(t) for t in tables)
    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["lakehouse_maintenance"]
    # its ds is after every day the tests wrote: all of them are settled
    run = _dag_test(
        dag, logical_date=pendulum.parse("2024-03-10"), run_conf={"retain_hours": 168}
    )
    assert run.state == "success", [(ti.task_id, ti.state) for ti in run.get_task_instances()]
    after = {t.qualified_name: _content_hash(read_table(spark, t, stack)) for t in tables}
    assert sorted(n for n in before if after[n] != before[n]) == []
    files_after = sum(referenced(t) for t in tables)
    assert files_after <= files_before

    versions = {t.qualified_name: table_version(spark, t, stack) for t in tables}
    again = _dag_test(
        dag, logical_date=pendulum.parse("2024-03-17"), run_conf={"retain_hours": 168}
    )
    assert again.state == "success"
    moved = sorted(
        name for name, t in ((t.qualified_name, t) for t in tables)
        if table_version(spark, t, stack) != versions[name]
    )
    assert moved == []


def test_a_concluded_experiment_is_skipped_and_an_open_one_still_runs(stack, spark):
    """ds 2024-03-10 is the day after pdp_redesign's final day (end 2024-02-29 + 7-day
    outcome window + 2 late days) and before homepage_cta_test's (2024-06-01): in the real
    daily DAG, pdp_redesign's analysis_window skips its whole chain, so none of its tables
    gets that partition, while homepage_cta_test's chain runs and writes it. The tasks
    outside the experiment groups are marked success unrun (their inputs are not needed)."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_EXPOSURE, USER_OUTCOMES, contract_for
    from include.tables import read_table, table_exists

    day = "2024-03-10"
    run = _run_dag(day, generate_raw=False, skip=r"(?!experiments\.).*")
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    pdp = {t: s for t, s in states.items() if t.startswith("experiments.pdp_redesign.")}
    assert pdp.pop("experiments.pdp_redesign.analysis_window") == "success"
    assert pdp and set(pdp.values()) == {"skipped"}, pdp
    home = {t: s for t, s in states.items() if t.startswith("experiments.homepage_cta_test.")}
    assert len(home) >= 4 and set(home.values()) == {"success"}, home

    def has_day(contract, experiment=None):
        if not table_exists(spark, contract, stack):
            return False
        df = read_table(spark, contract, stack).where(F.col("ds") == day)
        if experiment:
            df = df.where(F.col("experiment") == experiment)
        return df.limit(1).count() > 0

    assert not has_day(contract_for("pdp_redesign", "aggregated"))
    assert not has_day(USER_EXPOSURE, "pdp_redesign")
    assert not has_day(USER_OUTCOMES, "pdp_redesign")
    assert has_day(contract_for("homepage_cta_test", "aggregated"))
