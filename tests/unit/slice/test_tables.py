"""The partition writer: replaces exactly one partition, atomically, per the contract."""

from __future__ import annotations

import pytest

from include.contracts import TableContract, validate_identifier
from include.tables import (
    SchemaMismatch,
    partition_predicate,
    read_table,
    table_version,
    validate_ds,
    write_partition,
)

T = TableContract(
    name="t_unit",
    layer="gold",
    ddl="k STRING, v BIGINT, ds STRING",
    primary_key=("k",),
    description="test table",
)


def _df(spark, rows):
    return spark.createDataFrame(rows, T.ddl)


def _rows(spark, settings):
    return sorted(tuple(r) for r in read_table(spark, T, settings).collect())


def test_rewrites_one_partition_only_and_is_idempotent(spark, lakehouse_env):
    s = lakehouse_env
    write_partition(spark, _df(spark, [("a", 1, "2024-01-01")]), T, "2024-01-01", s)
    write_partition(spark, _df(spark, [("b", 2, "2024-01-02")]), T, "2024-01-02", s)
    first = write_partition(spark, _df(spark, [("c", 3, "2024-01-02")]), T, "2024-01-02", s)
    assert _rows(spark, s) == [("a", 1, "2024-01-01"), ("c", 3, "2024-01-02")]
    again = write_partition(spark, _df(spark, [("c", 3, "2024-01-02")]), T, "2024-01-02", s)
    assert _rows(spark, s) == [("a", 1, "2024-01-01"), ("c", 3, "2024-01-02")]
    assert again["version"] == first["version"] + 1 and again["rows"] == 1


def test_rows_outside_the_partition_fail_the_commit_and_keep_old_data(spark, lakehouse_env):
    s = lakehouse_env
    write_partition(spark, _df(spark, [("a", 1, "2024-01-01")]), T, "2024-01-01", s)
    version = table_version(spark, T, s)
    with pytest.raises(Exception, match="(?i)replaceWhere|predicate|DELTA_REPLACE_WHERE"):
        write_partition(spark, _df(spark, [("x", 9, "2024-01-09")]), T, "2024-01-01", s)
    assert table_version(spark, T, s) == version
    assert _rows(spark, s) == [("a", 1, "2024-01-01")]


def test_schema_contract_is_enforced(spark, lakehouse_env):
    bad = spark.createDataFrame([("a", "1", "2024-01-01")], "k STRING, v STRING, ds STRING")
    with pytest.raises(SchemaMismatch, match="column v: expected bigint, got string"):
        write_partition(spark, bad, T, "2024-01-01", lakehouse_env)
    extra = spark.createDataFrame(
        [("a", 1, 2, "2024-01-01")], "k STRING, v BIGINT, w INT, ds STRING"
    )
    with pytest.raises(SchemaMismatch, match="unexpected columns"):
        write_partition(spark, extra, T, "2024-01-01", lakehouse_env)


@pytest.mark.parametrize("ds", ["2024-1-01", "2024-02-30", "2024-01-01' OR '1'='1", "", None])
def test_ds_is_validated_before_it_reaches_sql(ds):
    with pytest.raises((ValueError, TypeError)):
        validate_ds(ds)


def test_names_are_validated():
    for bad in ("Gold", "a-b", "x; drop table y", "1abc", ""):
        with pytest.raises(ValueError):
            validate_identifier(bad)
    q = TableContract(
        name="q",
        layer="bronze",
        ddl="a STRING, layer STRING, ds STRING",
        primary_key=(),
        partition_by=("ds", "layer"),
        description="",
    )
    assert partition_predicate(q, "2024-01-01", {"layer": "silver"}) == (
        "ds = '2024-01-01' AND layer = 'silver'"
    )
    with pytest.raises(ValueError):
        partition_predicate(q, "2024-01-01", {"layer": "x' OR 1=1 --"})


def test_row_counts_come_from_this_write_even_when_it_is_empty(spark, lakehouse_env):
    s = lakehouse_env
    write_partition(spark, _df(spark, [("a", 1, "2024-01-01"), ("b", 2, "2024-01-01")]), T,
                    "2024-01-01", s)
    # An empty day: Delta makes no commit; the count must be 0, not the last commit's 2.
    empty = write_partition(spark, _df(spark, []), T, "2024-01-02", s)
    assert empty["rows"] == 0
    assert write_partition(spark, _df(spark, [("c", 3, "2024-01-03")]), T, "2024-01-03", s)[
        "rows"
    ] == 1


def test_a_persisted_shuffled_day_is_written_as_few_files(spark, lakehouse_env):
    """A job that persists a ranked day and writes it (silver.fct_website_events) writes a
    few files per partition, not one per shuffle partition: every experiment-to-date job
    reads each day of its window, so 64 files a day meant 64 file opens a day read."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from include.tables import table_location

    previous = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "64")  # the pipeline's setting
    try:
        ranked = (
            spark.range(3_000)
            .select((F.col("id") % 500).cast("string").alias("k"), F.col("id").alias("v"))
            .withColumn("r", F.row_number().over(Window.partitionBy("k").orderBy("v")))
            .where("r = 1")
            .select("k", "v", F.lit("2024-01-01").alias("ds"))
            .persist()
        )
        assert ranked.count() == 500
        write_partition(spark, ranked, T, "2024-01-01", lakehouse_env)
        ranked.unpersist()
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", previous)
    files = spark.read.format("delta").load(table_location(T, lakehouse_env)).inputFiles()
    assert 1 <= len(files) <= 2, files  # 64 without coalescing (default parallelism: 2 here)
    assert len(_rows(spark, lakehouse_env)) == 500
