"""The failure alert (include/alerts.py): what it says, and that it reaches an SMTP server.

A local SMTP sink (``smtp_sink``, tests/conftest.py) stands in for the mail server; the
connection is the Airflow connection ``smtp_lakehouse`` from the environment, as an operator
would configure it. tests/e2e/test_lakehouse_dag.py fails a gate in a DAG run and reads the
message the task's failure callback sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DS = "2024-03-05"
LOG_URL = (f"http://127.0.0.1:8080/dags/lakehouse_daily/runs/scheduled__{DS}/tasks/"
           "silver.gate_fct_website_events?try_number=1")  # fmt: skip


@dataclass
class FakeTI:
    dag_id: str = "lakehouse_daily"
    task_id: str = "silver.gate_fct_website_events"
    log_url: str = LOG_URL


@dataclass
class FakeTask:
    jobs: list[str] = field(default_factory=lambda: ["silver.fct_website_events"])


def _gate_failure():
    from airflow.sdk.exceptions import AirflowFailException

    from include.quality import QualityGateFailed

    gate = QualityGateFailed(
        "quality gate silver_fct_website_events on silver.fct_website_events ds=2024-03-05: FAIL",
        table="silver.fct_website_events", suite="silver_fct_website_events", ds=DS,
        rules=("minimum daily event count",),
        data_docs="/srv/gx/ds=2024-03-05/index.html")  # fmt: skip
    try:  # wrapped, as an operator may: the gate's failure is the cause
        raise AirflowFailException(str(gate)) from gate
    except AirflowFailException as failed:
        return failed


def test_a_gate_failure_names_dag_task_ds_table_rule_and_links():
    from include.alerts import alert_for

    alert = alert_for({"ti": FakeTI(), "ds": DS, "exception": _gate_failure(),
                       "task": FakeTask(jobs=["silver.gate_fct_website_events"])})  # fmt: skip
    assert alert.subject == ("[lakehouse] lakehouse_daily.silver.gate_fct_website_events failed "
                             "for ds=2024-03-05: silver.fct_website_events")  # fmt: skip
    assert alert.rule == "minimum daily event count"
    assert alert.log_url == LOG_URL
    assert alert.data_docs == "file:///srv/gx/ds=2024-03-05/index.html"
    text = alert.text()
    for expected in ("DAG: lakehouse_daily", "task: silver.gate_fct_website_events",
                     "ds: 2024-03-05", "table: silver.fct_website_events",
                     "rule: minimum daily event count", f"task log: {LOG_URL}"):  # fmt: skip
        assert expected in text


def test_a_job_failure_names_its_jobs_and_the_error(tmp_path, monkeypatch):
    from include.alerts import alert_for

    monkeypatch.setenv("LAKEHOUSE_GX_DIR", str(tmp_path))  # no report for the day
    error = ValueError("silver.fct_website_events: column 'ts' cannot be parsed\nstack...")
    alert = alert_for({"ti": FakeTI(task_id="silver.fct_website_events"), "ds": DS,
                       "exception": error, "task": FakeTask()})  # fmt: skip
    assert alert.table == "silver.fct_website_events"
    assert alert.rule == ("the task failed: ValueError: silver.fct_website_events: column 'ts' "
                          "cannot be parsed")  # fmt: skip
    assert alert.data_docs is None and "none for this ds" in alert.text()


def test_html_of_the_alert_escapes_what_it_quotes():
    from include.alerts import Alert

    alert = Alert(dag_id="d", task_id="t", ds=DS, table="gold.x", rule="<script>x</script>",
                  log_url="http://h/?a=1&b=2", data_docs=None)  # fmt: skip
    page = alert.html()
    assert "<script>" not in page and "&lt;script&gt;" in page and "a=1&amp;b=2" in page


def test_the_alert_reaches_the_smtp_server(smtp_sink, monkeypatch):
    from include.alerts import FailureAlert
    from tests.conftest import smtp_connection

    port, received = smtp_sink
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_LAKEHOUSE",
                       smtp_connection(port, "oncall@example.com, data@example.com"))
    FailureAlert().notify({"ti": FakeTI(), "ds": DS, "exception": _gate_failure(),
                           "task": FakeTask()})  # fmt: skip
    assert len(received) == 1
    message = received[0]
    assert message["X-Envelope-To"] == "oncall@example.com, data@example.com"
    assert message["From"] == "lakehouse@example.com"
    assert "lakehouse_daily.silver.gate_fct_website_events failed for ds=2024-03-05" in (
        message["Subject"])
    body = message.get_body(("html",)).get_content()
    assert "minimum daily event count" in body and "silver.fct_website_events" in body
    assert "try_number=1" in body and "file:///srv/gx/ds=2024-03-05/index.html" in body


def test_without_the_connection_nothing_is_sent(smtp_sink, monkeypatch):
    from include.alerts import FailureAlert

    _, received = smtp_sink
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_LAKEHOUSE", raising=False)
    FailureAlert().notify({"ti": FakeTI(), "ds": DS, "exception": _gate_failure(),
                           "task": FakeTask()})  # fmt: skip
    assert received == []
