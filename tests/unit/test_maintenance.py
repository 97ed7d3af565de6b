"""maintenance.delta_tables: compaction keeps rows and is idempotent; vacuum keeps what it must."""

from __future__ import annotations

import uuid

import pytest

from include.contracts import TableContract
from include.tables import read_table, write_partition
from spark_jobs.maintenance import delta_tables as M

T = TableContract(
    name="t_maint",
    layer="gold",
    ddl="k STRING, v BIGINT, ds STRING",
    primary_key=("k",),
    description="maintenance test table",
)
MONTHLY = TableContract(
    name="t_maint_monthly",
    layer="gold",
    ddl="k STRING, month STRING",
    primary_key=("k",),
    partition_by=("month",),
    description="monthly test table",
)


@pytest.fixture
def registered(monkeypatch):
    from include import contracts

    contracts._load_all()
    monkeypatch.setitem(contracts._CONTRACTS, T.qualified_name, T)
    return T


def _write(spark, settings, ds, n_rows, n_files, first=0):
    rows = [(f"k{first + i}", first + i, ds) for i in range(n_rows)]
    df = spark.createDataFrame(rows, T.ddl).repartition(n_files)
    write_partition(spark, df, T, ds, settings)


def _files_by_ds(spark, settings):
    from collections import Counter

    files = read_table(spark, T, settings).inputFiles()
    return Counter(f.split("ds=")[1][:10] for f in files)


def _rows(spark, settings):
    return sorted(tuple(r) for r in read_table(spark, T, settings).collect())


def _version(spark, settings):
    from include.tables import table_version

    return table_version(spark, T, settings)


def test_compacts_settled_partitions_keeps_rows_and_a_second_run_changes_nothing(
    spark, lakehouse_env, registered
):
    s = lakehouse_env
    _write(spark, s, "2024-01-01", 30, 6)
    _write(spark, s, "2024-01-02", 10, 1, first=100)
    _write(spark, s, "2024-01-03", 12, 3, first=200)  # the run's own ds: not settled
    assert _files_by_ds(spark, s) == {"2024-01-01": 6, "2024-01-02": 1, "2024-01-03": 3}
    before = _rows(spark, s)

    params = {"tables": [T.qualified_name], "vacuum": "false"}
    result = M.main(spark, "2024-01-03", s, params)

    assert _files_by_ds(spark, s) == {"2024-01-01": 1, "2024-01-02": 1, "2024-01-03": 3}
    assert _rows(spark, s) == before  # 52 rows, same values
    done = result.extra["tables"][T.qualified_name]
    assert (done["files_compacted"], done["files_written"]) == (6, 1)
    assert (done["files_before"], done["files_after"]) == (10, 5)
    assert result.rows_in == result.rows_out == 40  # the settled partitions: 30 + 10 rows

    version = _version(spark, s)
    again = M.main(spark, "2024-01-03", s, params)
    assert again.extra["files_compacted"] == 0
    assert _version(spark, s) == version  # nothing committed
    assert _rows(spark, s) == before


def test_vacuum_with_default_retention_keeps_files_replaced_minutes_ago(
    spark, lakehouse_env, registered, engine_server
):
    from tests.conftest import server_api

    s = lakehouse_env
    for _ in range(3):  # a day and two re-runs: 2 files each, 4 of them replaced
        _write(spark, s, "2024-01-01", 8, 2)
    tag = f"maintenance-vacuum-{uuid.uuid4().hex[:8]}"
    spark.addTag(tag)
    try:
        result = M.main(spark, "2024-01-02", s, {"tables": [T.qualified_name], "compact": False})
    finally:
        spark.removeTag(tag)
    done = result.extra["tables"][T.qualified_name]
    assert (done["files_before"], done["stored_before"]) == (2, 6)
    assert done["stored_after"] == 6  # replaced 0 hours ago: inside the 168-hour window
    assert result.extra["stored_files_deleted"] == 0
    # VACUUM's listing ran one task per directory up to 10,000 (120k tasks a table, ~20 s);
    # include/spark.py sets spark.sql.sources.parallelPartitionDiscovery.parallelism. The
    # server's UI (REST API) lists the jobs the tag marked and their stages' tasks.
    jobs = [j for j in server_api(engine_server, "jobs")
            if any(t.endswith(f"_Tag_{tag}") for t in j.get("jobTags", []))]  # fmt: skip
    assert jobs, "no job of the maintenance run found in the server's UI"
    assert sum(j["numTasks"] for j in jobs) < 500


def test_vacuum_deletes_replaced_files_past_retention_and_only_those(
    spark, lakehouse_env, registered, monkeypatch
):
    """With the retention shortened (test only), the 4 replaced files go, the 2 live stay."""
    s = lakehouse_env
    for _ in range(3):
        _write(spark, s, "2024-01-01", 8, 2)
    before = _rows(spark, s)
    monkeypatch.setattr(M, "MIN_RETAIN_HOURS", 0)
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        result = M.main(
            spark, "2024-01-02", s,
            {"tables": [T.qualified_name], "compact": "false", "retain_hours": 0},
        )
    finally:
        spark.conf.unset("spark.databricks.delta.retentionDurationCheck.enabled")
    done = result.extra["tables"][T.qualified_name]
    assert (done["stored_before"], done["stored_after"], done["files_after"]) == (6, 2, 2)
    assert result.extra["stored_files_deleted"] == 4
    assert _rows(spark, s) == before


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"retain_hours": 24}, "under 168"),
        ({"retain_hours": "a week"}, "whole number"),
        ({"retain_hours": "168; DROP TABLE x"}, "whole number"),
        ({"compact": "yes"}, "true or false"),
        ({"tables": "gold.readouts"}, "list of table names"),
        ({"keep": 3}, "unknown maintenance params"),
    ],
)
def test_params_are_validated_before_anything_runs(params, error):
    with pytest.raises(ValueError, match=error):
        M.parse_params(params)


def test_unknown_table_names_are_refused():
    with pytest.raises(KeyError, match="no contract"):
        M.parse_params({"tables": ["gold.readouts; DROP TABLE gold.readouts"]})


def test_defaults_cover_every_catalog_table_and_accept_ui_strings():
    from include.contracts import all_contracts

    parsed = M.parse_params({"retain_hours": "336", "compact": "true"})
    assert parsed["contracts"] == all_contracts() and len(parsed["contracts"]) > 30
    assert (parsed["retain_hours"], parsed["compact"], parsed["vacuum"]) == (336, True, True)


def test_settled_partitions_are_those_before_the_runs_day_or_month():
    assert M.settled_predicate(T, "2024-03-15") == "ds < '2024-03-15'"
    assert M.settled_predicate(MONTHLY, "2024-03-15") == "month < '2024-03'"
    with pytest.raises(ValueError, match="invalid ds"):
        M.settled_predicate(T, "2024-03-15' OR '1'='1")


def test_every_catalog_table_has_a_settled_rule():
    from include.contracts import all_contracts

    for contract in all_contracts():
        assert M.settled_predicate(contract, "2024-03-15")
