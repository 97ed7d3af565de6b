"""Quality gate job: validate one table's ds partition against its expectation suite.

params: {"table": "silver.fct_website_events"} or {"tables": [...]} (the suite comes from each
table's contract).
The gate runs the suite's row-level rules on the partition (a month-partitioned table: the
month containing ds) and then each derived check of the suite (``include.quality_checks``:
week-over-week counts, rollup sizes, hourly pattern, row accounting, the MRR bridge identity,
funnel ordering) on its small derived frame. Every rule's result is written to
gold.quality_results (one partition per ds and suite), Data Docs are rendered, and the job
fails (non-zero exit, so the Airflow task fails and downstream tasks do not run) on any
blocking failure, naming the table, ds, rule and sample rows.
A partition a blocking rule rejects is put back to its previous good state (or removed if it
is new) so readers of the table keep the last good data; the rejected rows stay readable by
Delta time travel, and downstream tasks never run.
"""

from __future__ import annotations

import json
from functools import reduce

from include.contracts import get_contract
from include.quality import (
    GateResult,
    QualityGateFailed,
    enforce,
    load_suite_file,
    merge,
    to_pandas,
    validate,
)
from include.quality_checks import derived_checks
from include.table_catalog import QUALITY_RESULTS
from spark_jobs.common import JobResult


def results_frame(spark, result: GateResult, suite: str | None = None):
    rows = [
        (
            suite or result.suite,
            result.table,
            r.rule,
            r.expectation,
            json.dumps(r.kwargs, default=str),
            r.severity,
            r.success,
            r.observed,
            r.unexpected_count,
            json.dumps(r.sample[:20], default=str),
            result.data_docs,
            result.ds,
        )
        for r in result.rules
    ]
    return spark.createDataFrame(rows, QUALITY_RESULTS.ddl)


# A partition up to this many rows is validated in the driver by GX's pandas engine: one
# collect instead of a few Spark jobs per rule (on the demo's day, 25 tables of a few
# thousand rows each). Larger partitions (a 1M-event day's web events) stay in Spark.
PANDAS_MAX_ROWS = 100_000


def batch_of(df, max_rows: int = PANDAS_MAX_ROWS):
    """The frame GX validates: the partition itself, or, when it holds at most ``max_rows``
    rows, its pandas copy (``include.quality.to_pandas``: decimals as floats, times as ISO
    text; the same rules give the same verdicts, tests/unit/quality/test_every_rule.py)."""
    return to_pandas(df) if df.count() <= max_rows else df


def partition_value(contract, ds: str) -> str:
    """The partition a ds gates: ds itself, or its month for month-partitioned tables."""
    return ds[:7] if contract.partition_by[0] == "month" else ds


def run_gate(spark, contract, ds: str, settings) -> GateResult:
    """Row-level suite on the partition plus every derived check; never raises on a rule."""
    from include.tables import read_partition

    spec = load_suite_file(contract.suite)
    table = contract.qualified_name
    results = []
    if any(not (e.get("meta") or {}).get("check") for e in spec["expectations"]):
        df = read_partition(spark, contract, partition_value(contract, ds), settings)
        results.append(
            validate(
                batch_of(df),
                contract.suite,
                ds,
                settings,
                spec=spec,
                table=table,
                batch_name=f"{table}__rows",
            )
        )
    checks = derived_checks(contract.suite)
    for name, check in checks.items():
        derived = check(spark, contract, ds, settings)
        results.append(
            validate(
                to_pandas(derived.frame),
                contract.suite,
                ds,
                settings,
                spec=spec,
                check=derived.check,
                index_columns=derived.index_columns,
                table=table,
                batch_name=f"{table}__{name}",
            )
        )
    return merge(table, contract.suite, ds, results)


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    """params: ``{"table": name}`` or ``{"tables": [name, ...]}`` (one JVM gates several).

    Every table is validated and its results recorded before the verdict, so one report
    shows all of a layer's failures; then any blocking failure fails the job. A rejected
    partition is restored to its previous good state (see :func:`restore_partition`).
    """
    from include.tables import restore_partition, validate_ds, write_partition

    params = params or {}
    validate_ds(ds)
    names = params.get("tables") or [params.get("table", "")]
    if isinstance(names, str):
        names = [names]
    contracts = [get_contract(name) for name in names]
    for contract in contracts:
        if not contract.suite:
            raise ValueError(f"{contract.qualified_name} has no expectation suite")
    failures: list[QualityGateFailed] = []
    notes: list[str] = []  # each failure with what was done about its partition
    tables: dict[str, dict] = {}
    judged: list[tuple[GateResult, str]] = []
    for contract in contracts:
        result = run_gate(spark, contract, ds, settings)
        judged.append((result, _suite_slice(contract)))
        tables[contract.qualified_name] = {
            "status": result.status,
            "rules": len(result.rules),
            "warnings": [w.rule for w in result.warnings],
            "data_docs": result.data_docs,
        }
        try:
            enforce(result)
        except QualityGateFailed as failure:
            try:
                restored = restore_partition(
                    spark, contract, partition_value(contract, ds), settings
                )
                note = _restore_note(contract, restored)
            except Exception as err:  # the verdict must survive a failed undo
                restored, note = None, f"{contract.qualified_name}: undo FAILED ({err!r})"
            tables[contract.qualified_name]["restored"] = restored
            failures.append(failure)
            notes.append(f"{failure}\n{note}")
    # every table's rules in one commit (a Delta write costs ~2.5 s on the warm engine, and
    # sources.gate judges four tables); written before the verdict, so a rejected table's
    # results are recorded too
    write_partition(
        spark,
        reduce(lambda a, b: a.unionByName(b), [results_frame(spark, r, s) for r, s in judged]),
        QUALITY_RESULTS,
        ds,
        settings,
        {"suite": tuple(s for _, s in judged)},
    )
    if failures:  # every failed table's rules, for the message and the alert (include/alerts)
        raise QualityGateFailed(
            "\n\n".join(notes), ds=ds,
            table=", ".join(f.table for f in failures if f.table),
            suite=", ".join(f.suite for f in failures if f.suite),
            rules=tuple(rule for f in failures for rule in f.rules),
            data_docs=next((f.data_docs for f in failures if f.data_docs), None),
        )  # fmt: skip
    return JobResult(job="quality.gate", ds=ds, extra={"tables": tables})


def _restore_note(contract, restored: dict | None) -> str:
    name = contract.qualified_name
    if restored is None:
        return (
            f"{name}: partition left as written (not a whole-partition write, or other "
            "commits followed it)."
        )
    if restored["rows"] == 0:
        kept = "the version before held no rows for it, so it is empty again"
    else:
        kept = f"the previous good rows ({restored['rows']}) are back"
    return (
        f"{name}: rejected write undone ({kept}); the rejected rows stay readable with "
        f"VERSION AS OF {restored['rejected_version']}."
    )


def _suite_slice(contract) -> str:
    """The quality_results slice of a gate: the suite, or suite + table for a shared suite
    (every experiment's outcomes share one suite but must not overwrite each other)."""
    spec = load_suite_file(contract.suite)
    if spec["table"] == contract.qualified_name:
        return contract.suite
    return f"{contract.suite}__{contract.name}"
