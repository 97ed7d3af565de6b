"""Print what a demo run produced: gold rows via Spark SQL on the shared metastore, the
quarantine accounting, the quality gate results and where the readout pages are; in a world
other than the default (``LAKEHOUSE_WORLD``), each experiment's decision-day readout beside
the truth the generator planted (``include.truth_check``)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from include.quality import data_docs_index
from include.settings import load_settings
from spark_jobs.run import job_session


def main() -> int:
    start, end = sys.argv[1], sys.argv[2]
    settings = load_settings()
    with job_session("show-results", settings) as spark:  # the warm engine
        return show(spark, settings, start, end)


def show(spark, settings, start: str, end: str) -> int:
    q = f"ds BETWEEN '{dt.date.fromisoformat(start)}' AND '{dt.date.fromisoformat(end)}'"
    print("\n-- SELECT ds, m_total_events, m_distinct_users FROM gold.agg_website_events "
          "(overall rollup)")
    spark.sql(
        f"SELECT ds, m_total_events, m_distinct_users FROM gold.agg_website_events "
        f"WHERE aggregation_level = 'overall' AND {q} ORDER BY ds"
    ).show(truncate=False)
    print("-- quarantined rows by layer and reason (bronze.quarantine)")
    spark.sql(
        f"SELECT layer, reason, COUNT(*) AS n FROM bronze.quarantine WHERE {q} "
        "GROUP BY layer, reason ORDER BY layer, n DESC"
    ).show(50, truncate=False)
    print("-- quality gates (gold.quality_results)")
    spark.sql(
        f"SELECT ds, suite, SUM(CAST(success AS INT)) AS passed, COUNT(*) AS rules "
        f"FROM gold.quality_results WHERE {q} GROUP BY ds, suite ORDER BY ds"
    ).show(truncate=False)
    print("-- readouts (gold.readouts, overall segment)")
    spark.sql(
        "SELECT ds, experiment, metric, variant, ROUND(rel_lift, 4) AS rel_lift, "
        f"ROUND(p_value_adjusted, 4) AS p_adj, verdict FROM gold.readouts WHERE {q} "
        "AND segment = 'overall' ORDER BY ds, experiment, metric"
    ).show(50, truncate=False)
    pages = sorted(Path(settings.reports_dir).glob("*/*/*/readout.html"))
    print("readout pages:")
    for p in pages:
        print(f"  file://{p}")
    gx_days = settings.gx_dir.glob("ds=????-??-??")
    days = sorted(d.name.removeprefix("ds=") for d in gx_days)
    reports = [p for p in (data_docs_index(settings, ds) for ds in days) if p.exists()]
    if reports:
        print("validation reports (GX Data Docs, one per ds):")
        for docs in reports:
            print(f"  file://{docs}")
    if os.environ.get("LAKEHOUSE_WORLD", "default") != "default":
        show_truth(spark, settings, end)
    print("Spark SQL shell: make spark-sql   |   JDBC (Thrift server): make thrift")
    index = Path(settings.reports_dir) / "experiments" / "index.html"
    if index.exists():
        print(f"every experiment's readouts: file://{index}")
    port = os.environ.get("LAKEHOUSE_AIRFLOW_PORT", "8080")
    passwords = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "")
    print(f"in the Airflow UI (http://127.0.0.1:{port}, user admin, password in {passwords}): "
          "Browse > Experiment readouts; a DAG's Readouts tab; a readout task's links")
    return 0


def show_truth(spark, settings, end: str) -> None:
    """Each experiment decided by ``end``: its decision-day readout against the planted truth
    (the manifests the generator wrote beside the raw data)."""
    import json

    from include.dag_factory import readout_configs
    from include.storage import get_bytes
    from include.table_catalog import READOUTS
    from include.tables import read_partition
    from include.truth_check import READOUT_FIELDS, format_table, judge

    results = []
    for spec in readout_configs():
        day = spec.decision_day.isoformat()
        if day > end:
            print(f"-- {spec.name}: decision day {day} is after {end}: not decided yet")
            continue
        rows = [r.asDict() for r in read_partition(spark, READOUTS, day, settings)
                .where(f"readout = 'experiment_{spec.name}' AND segment = 'overall'")
                .select(*READOUT_FIELDS).collect()]  # fmt: skip
        if not rows:
            print(f"-- {spec.name}: no readout on its decision day {day}")
            continue
        manifests, d = [], spec.start_date
        while d.isoformat() <= day:
            uri = f"{settings.raw_root}/_truth/ds={d.isoformat()}/manifest.json"
            manifests.append(json.loads(get_bytes(uri)))
            d += dt.timedelta(days=1)
        results.append(judge(spec, manifests, rows))
    if results:
        print("-- each decision against the truth the generator planted "
              "(lifts relative to control; 'in sample': what the generated units hold)")
        print(format_table(results))


if __name__ == "__main__":
    sys.exit(main())
