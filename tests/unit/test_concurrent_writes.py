"""Writers of different ``ds`` of one table at once: Delta's optimistic concurrency lets
disjoint ``replaceWhere`` commits through, nothing is lost, and each writer reads its own row
count from its own commit. The table does not exist before the writers start, as on the
first days of a backfill.

Scope: the writers are threads of one Spark session, on a local path, where the log store's
put-if-absent is atomic. Separate JVMs (parallel DAG runs' spark-submits) writing one table on
S3 are covered by ``test_multi_driver_commits.py``: the lakehouse commits there through its own
log store (``io.lakehouse.delta.S3ConditionalPutLogStore``, a conditional PUT with
``If-None-Match: *``), so one driver wins each log version and the others retry, instead of
Delta's default single-driver S3 log store, which could lose one of two racing commits.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from include.table_catalog import QUARANTINE
from include.tables import read_table, table_version, write_partition

DAYS = [f"2024-01-{d:02d}" for d in range(1, 5)]
SOURCES = ["accounts", "billing_events"]


def _quarantine_rows(spark, ds: str, source: str, n: int):
    rows = [(source, "bronze", "bad_x", f"{ds}-{i}", "f", f"h-{ds}-{source}-{i}", ds)
            for i in range(n)]  # fmt: skip
    return spark.createDataFrame(rows, QUARANTINE.spark_schema())


def test_parallel_writers_of_one_table_lose_nothing(spark, lakehouse_env):
    expected = {
        (ds, source): 3 + i + j for i, ds in enumerate(DAYS) for j, source in enumerate(SOURCES)
    }

    def write(key):
        ds, source = key
        df = _quarantine_rows(spark, ds, source, expected[key])
        return key, write_partition(
            spark, df, QUARANTINE, ds, lakehouse_env, {"layer": "bronze", "source": source}
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(pool.map(write, expected))

    # every writer saw its own rows in its own commit, each commit a distinct version
    assert {k: r["rows"] for k, r in results.items()} == expected
    assert len({r["version"] for r in results.values()}) == len(expected)
    table = read_table(spark, QUARANTINE, lakehouse_env)
    counts = {(r.ds, r.source): r["count"] for r in table.groupBy("ds", "source").count().collect()}
    assert counts == expected

    # and a re-run of one slice, racing the others again, replaces exactly that slice
    before = table_version(spark, QUARANTINE, lakehouse_env)

    def rewrite(key):
        ds, source = key
        n = 1 if key == (DAYS[0], SOURCES[0]) else expected[key]
        df = _quarantine_rows(spark, ds, source, n)
        return write_partition(
            spark, df, QUARANTINE, ds, lakehouse_env, {"layer": "bronze", "source": source}
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(rewrite, expected))
    table = read_table(spark, QUARANTINE, lakehouse_env)
    counts = {(r.ds, r.source): r["count"] for r in table.groupBy("ds", "source").count().collect()}
    assert counts == {**expected, (DAYS[0], SOURCES[0]): 1}
    assert table_version(spark, QUARANTINE, lakehouse_env) >= before + len(expected)
