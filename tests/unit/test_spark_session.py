"""The SparkSession every job builds (``include.spark.build_spark``)."""

from __future__ import annotations

import time


def test_the_driver_forgets_old_sql_executions(spark):
    """A long-lived driver must not keep every SQL execution it ran: Spark's default of
    1,000 filled a 2g heap over days of jobs. Run more executions than the limit and
    check that the status store trims back to it (trimming is asynchronous)."""
    limit = int(spark.conf.get("spark.sql.ui.retainedExecutions"))
    assert limit == 100
    store = spark._jsparkSession.sharedState().statusStore()
    for _ in range(limit + 40):
        spark.range(1).collect()  # one SQL execution each
    deadline = time.monotonic() + 60
    while store.executionsCount() > limit and time.monotonic() < deadline:
        time.sleep(0.5)
    assert 0 < store.executionsCount() <= limit
