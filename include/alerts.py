"""Failures reach a person: an e-mail for every failed task, a blocking gate included.

Every task of every DAG has :class:`FailureAlert` as its ``on_failure_callback``
(``include.airflow_tasks.dag_default_args``): when a task fails for good (its retries spent; a
gate task has none, ``include.airflow_tasks.quality_gate``), an e-mail names the DAG, the task,
the ``ds``, the table and the rule (a gate's failed rules; otherwise the error), with links to
the task's log in the Airflow UI and to the day's validation report (GX Data Docs).

The SMTP server, the sender and the recipients are one Airflow connection,
``smtp_lakehouse`` (the SMTP provider's ``smtp`` type: host, port, login and password; extra
``from_email``, ``alert_to`` (comma-separated), and ``disable_ssl`` / ``disable_tls`` for a
server without them). Without that connection the alert is written to the task log only:
a local demo sends no mail.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

ALERT_CONN_ID = "smtp_lakehouse"


@dataclass(frozen=True)
class Alert:
    dag_id: str
    task_id: str
    ds: str
    table: str
    rule: str
    log_url: str
    data_docs: str | None

    @property
    def subject(self) -> str:
        return f"[lakehouse] {self.dag_id}.{self.task_id} failed for ds={self.ds}: {self.table}"

    def text(self) -> str:
        return "\n".join([
            f"DAG: {self.dag_id}", f"task: {self.task_id}", f"ds: {self.ds}",
            f"table: {self.table}", f"rule: {self.rule}", f"task log: {self.log_url}",
            f"validation report (Data Docs): {self.data_docs or 'none for this ds'}",
        ])  # fmt: skip

    def html(self) -> str:
        rows = "".join(
            f"<tr><th align='left'>{html.escape(k)}</th><td>{v}</td></tr>"
            for k, v in [
                ("DAG", html.escape(self.dag_id)), ("task", html.escape(self.task_id)),
                ("ds", html.escape(self.ds)), ("table", html.escape(self.table)),
                ("rule", html.escape(self.rule)),
                ("task log", f"<a href='{html.escape(self.log_url)}'>"
                             f"{html.escape(self.log_url)}</a>"),
                ("validation report", f"<a href='{html.escape(self.data_docs)}'>Data Docs</a>"
                 if self.data_docs else "none for this ds"),
            ]
        )  # fmt: skip
        return f"<p>A lakehouse task failed.</p><table>{rows}</table>"


def _first_line(text: str, limit: int = 300) -> str:
    line = (str(text).strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def alert_for(context: dict[str, Any]) -> Alert:
    """What the e-mail says, from a failure callback's context."""
    from include.quality import QualityGateFailed, data_docs_index
    from include.settings import load_settings

    ti = context["ti"]
    ds = str(context.get("ds") or "")
    error = context.get("exception")
    gate = error  # the gate's failure itself, or what an operator wrapped it in
    while gate is not None and not isinstance(gate, QualityGateFailed):
        gate = gate.__cause__
    task = context.get("task")
    if gate is not None:
        table = gate.table or "?"
        rule = "; ".join(gate.rules) or _first_line(gate)
        data_docs = gate.data_docs
    else:
        jobs = getattr(task, "jobs", None) or [ti.task_id]
        table = ", ".join(jobs)
        rule = (f"the task failed: {type(error).__name__}: {_first_line(error)}" if error
                else "the task failed (see its log)")  # fmt: skip
        data_docs = None
    if not data_docs and ds:
        try:
            index = data_docs_index(load_settings(), ds)
            data_docs = f"file://{index}" if index.exists() else None
        except ValueError:  # not a ds (a DAG without one)
            data_docs = None
    elif data_docs and "://" not in data_docs:
        data_docs = f"file://{data_docs}"
    return Alert(dag_id=ti.dag_id, task_id=ti.task_id, ds=ds, table=table, rule=rule,
                 log_url=ti.log_url, data_docs=data_docs)  # fmt: skip


class FailureAlert(BaseNotifier):
    """An e-mail through the ``smtp_lakehouse`` connection when a task fails (module doc)."""

    def __init__(self, conn_id: str = ALERT_CONN_ID):
        super().__init__()
        self.conn_id = conn_id

    def notify(self, context: dict[str, Any]) -> None:
        from airflow.exceptions import AirflowNotFoundException
        from airflow.providers.smtp.hooks.smtp import SmtpHook
        from airflow.sdk import BaseHook

        alert = alert_for(context)
        self.log.error("ALERT %s\n%s", alert.subject, alert.text())
        try:
            conn = BaseHook.get_connection(self.conn_id)
        except AirflowNotFoundException:
            self.log.warning("no Airflow connection %r: the alert above was not e-mailed",
                             self.conn_id)  # fmt: skip
            return
        extra = conn.extra_dejson
        to = [a.strip() for a in str(extra.get("alert_to", "")).split(",") if a.strip()]
        if not to:
            self.log.warning("connection %r names no recipient (extra alert_to): the alert "
                             "above was not e-mailed", self.conn_id)  # fmt: skip
            return
        with SmtpHook(smtp_conn_id=self.conn_id) as smtp:
            smtp.send_email_smtp(
                to=to, subject=alert.subject, html_content=alert.html(),
                from_email=extra.get("from_email") or "lakehouse-alerts@localhost",
                custom_headers={"X-Lakehouse-Dag": alert.dag_id,
                                "X-Lakehouse-Task": alert.task_id},
            )  # fmt: skip
        self.log.info("alert e-mailed to %s", ", ".join(to))
