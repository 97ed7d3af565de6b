"""The readouts and Data Docs inside Airflow: the pages the plugin serves and the task links.

The Airflow plugin (``include/airflow_plugins/lakehouse.py``) mounts :func:`reports_app` on
the API server at ``/lakehouse`` and registers the extra links below, so from the Airflow UI:

* the navigation bar's *Browse* menu has *Experiment readouts*: the index of every
  experiment (``include.report.index``);
* each DAG page has a *Readouts* tab: the experiment's latest readout for an
  ``experiment_<name>`` DAG, the index for any other DAG;
* a readout task has the extra links *Readout* (the page it wrote), *All readouts* and
  *Data Docs* (the validation report of its day); a quality-gate task has *Data Docs*.

Every page needs an Airflow login (the UI's session cookie or a bearer token): readouts hold
business figures. Paths are resolved inside their folder (no ``..``, no symlink out).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from airflow.sdk import BaseOperatorLink

PREFIX = "/lakehouse"
READOUTS = f"{PREFIX}/readouts"
DATA_DOCS = f"{PREFIX}/datadocs"
_DS = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_RUN = re.compile(r"^(daily|manual_[0-9a-f]{10})$")
EXPERIMENT_DAG = re.compile(r"^experiment_([A-Za-z0-9_]+)$")


def _task_job(operator) -> tuple[list[str], str, dict] | None:
    """(jobs, ds, params) of a Spark task as rendered for its run, None for other tasks."""
    from include.airflow_tasks import spark_task_spec

    spec = spark_task_spec(operator)
    if spec is None:
        return None
    try:
        params = json.loads(spec.params_json or "{}")
    except ValueError:
        return None
    if not _DS.match(str(spec.ds)) or not isinstance(params, dict):
        return None
    return list(spec.jobs), str(spec.ds), params


def readout_path(name: str, ds: str, run: str | None = None) -> str | None:
    """The page of one readout under the readouts folder (as ``write_report`` names it),
    None for anything that is not a plain experiment name, day and run."""
    run = run or "daily"
    if not (_NAME.match(name) and _DS.match(ds) and _RUN.match(run)):
        return None
    return (f"{name}/{ds}/readout.html" if run == "daily"
            else f"runs/{run}/{name}/{ds}/readout.html")  # fmt: skip


class ReadoutLink(BaseOperatorLink):
    """The readout page a ``readouts.experiment`` task wrote for its day and run."""

    name = "Readout"

    def get_link(self, operator, *, ti_key) -> str:
        job = _task_job(operator)
        if job is None or "readouts.experiment" not in job[0]:
            return ""
        jobs, ds, params = job
        path = readout_path(str(params.get("experiment", "")), ds, params.get("run"))
        return f"{READOUTS}/{path}" if path else ""


class ReadoutIndexLink(BaseOperatorLink):
    """The index of every experiment's readouts, from a readout task."""

    name = "All readouts"

    def get_link(self, operator, *, ti_key) -> str:
        job = _task_job(operator)
        return f"{READOUTS}/" if job and "readouts.experiment" in job[0] else ""


class DataDocsLink(BaseOperatorLink):
    """The day's validation report (GX Data Docs), from a gate or readout task."""

    name = "Data Docs"

    def get_link(self, operator, *, ti_key) -> str:
        job = _task_job(operator)
        if job is None or not {"quality.gate", "readouts.experiment"} & set(job[0]):
            return ""
        return f"{DATA_DOCS}/{job[1]}/index.html"


LINKS = (ReadoutLink(), ReadoutIndexLink(), DataDocsLink())


def _inside(root: Path, relative: str) -> Path | None:
    """``root / relative`` if it is a file inside ``root`` once resolved, else None."""
    base = root.resolve()
    target = (base / relative).resolve()
    if base != target and base not in target.parents:
        return None
    return target if target.is_file() else None


def reports_app():
    """The FastAPI app the plugin mounts at ``/lakehouse`` (Airflow login required)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import requires_access_view
    from fastapi import Depends, FastAPI, HTTPException
    from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

    from include.settings import load_settings

    app = FastAPI(title="Lakehouse readouts",
                  dependencies=[Depends(requires_access_view(AccessView.WEBSITE))])  # fmt: skip

    def _file(root: Path, relative: str) -> FileResponse:
        target = _inside(root, relative)
        if target is None:
            raise HTTPException(404, "no such page")
        return FileResponse(target)

    @app.get("/readouts/", response_class=HTMLResponse)
    def index():
        folder = load_settings().reports_dir / "experiments"
        page = folder / "index.html"
        if not page.is_file():
            from include.report.index import render_index

            return HTMLResponse(render_index({}))
        return FileResponse(page)

    @app.get("/readouts/dag/{dag_id}")
    def dag_readout(dag_id: str):
        """The *Readouts* tab of a DAG page: an experiment DAG's latest readout, else the
        index."""
        from include.report.index import summaries

        match = EXPERIMENT_DAG.match(dag_id)
        folder = load_settings().reports_dir / "experiments"
        if match:
            days = summaries(folder).get(match.group(1))
            if days:
                return RedirectResponse(f"{READOUTS}/{days[0]['href']}", status_code=307)
        return RedirectResponse(f"{READOUTS}/", status_code=307)

    @app.get("/readouts/{path:path}")
    def readout_file(path: str):
        return _file(load_settings().reports_dir / "experiments", path)

    @app.get("/datadocs/{ds}/{path:path}")
    def data_docs(ds: str, path: str):
        if not _DS.match(ds):
            raise HTTPException(404, "no such day")
        from include.quality import data_docs_index

        return _file(data_docs_index(load_settings(), ds).parent, path or "index.html")

    return app
