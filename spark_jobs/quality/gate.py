"""Quality gate job: validate one table's ds partition against its expectation suite.

params: {"table": "silver.fct_website_events"} (the suite comes from the table's contract).
Writes every rule's result to gold.quality_results, renders Data Docs, and fails (non-zero
exit, so the Airflow task fails and downstream tasks do not run) on a blocking failure.
The partition it validated stays as it is: the gate judges data, it does not delete it;
downstream layers simply never read it because they never run.
"""

from __future__ import annotations

import json

from include.contracts import get_contract
from include.quality import GateResult, enforce, validate
from include.table_catalog import QUALITY_RESULTS
from spark_jobs.common import JobResult


def results_frame(spark, result: GateResult):
    rows = [
        (
            result.suite, result.table, r.rule, r.expectation, json.dumps(r.kwargs, default=str),
            r.severity, r.success, r.observed, r.unexpected_count,
            json.dumps(r.sample[:20], default=str), result.data_docs, result.ds,
        )
        for r in result.rules
    ]
    return spark.createDataFrame(rows, QUALITY_RESULTS.ddl)


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import read_partition, write_partition

    params = params or {}
    contract = get_contract(params.get("table", ""))
    if not contract.suite:
        raise ValueError(f"{contract.qualified_name} has no expectation suite")
    df = read_partition(spark, contract, ds, settings)
    result = validate(df, contract.suite, ds, settings)
    write_partition(
        spark, results_frame(spark, result), QUALITY_RESULTS, ds, settings,
        {"suite": contract.suite},
    )
    enforce(result)
    return JobResult(
        job="quality.gate", ds=ds,
        extra={
            "table": contract.qualified_name, "status": result.status,
            "rules": len(result.rules), "warnings": [w.rule for w in result.warnings],
            "data_docs": result.data_docs,
        },
    )
