"""Airflow plugin: the experiment readouts and the Data Docs inside the Airflow UI.

Loaded from ``AIRFLOW__CORE__PLUGINS_FOLDER`` (``scripts/env.sh`` points it at this folder).
What it adds is described in ``include/report_links.py``: a FastAPI app on the API server at
``/lakehouse`` (login required), the *Experiment readouts* entry of the *Browse* menu, a
*Readouts* tab on every DAG page, and the extra links of readout and gate tasks.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from include.report_links import LINKS, READOUTS, reports_app


class LakehousePlugin(AirflowPlugin):
    name = "lakehouse"
    fastapi_apps = [{"app": reports_app(), "url_prefix": "/lakehouse",
                     "name": "Lakehouse readouts and Data Docs"}]  # fmt: skip
    external_views = [
        {"name": "Experiment readouts", "href": f"{READOUTS}/", "destination": "nav",
         "category": "browse", "url_route": "lakehouse-readouts"},
        {"name": "Readouts", "href": f"{READOUTS}/dag/{{DAG_ID}}", "destination": "dag",
         "url_route": "lakehouse-dag-readouts"},
    ]  # fmt: skip
    operator_extra_links = list(LINKS)
