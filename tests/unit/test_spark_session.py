"""The Spark engine's driver: the long-lived Connect server every session shares."""

from __future__ import annotations

import time

from tests.conftest import server_api


def test_the_driver_forgets_old_sql_executions(spark, engine_server):
    """A long-lived driver must not keep every SQL execution it ran: Spark's default of
    1,000 filled a 2g heap over days of jobs (the Connect server runs for days). Run more
    executions than the limit and check that the status store, as the server's UI reports
    it, trims back to it (trimming is asynchronous)."""
    limit = int(spark.conf.get("spark.sql.ui.retainedExecutions"))
    assert limit == 100
    for _ in range(limit + 40):
        spark.range(1).collect()  # one SQL execution each

    def kept() -> int:
        return len(server_api(engine_server, "sql?details=false&length=100000"))

    deadline = time.monotonic() + 60
    while kept() > limit and time.monotonic() < deadline:
        time.sleep(0.5)
    assert 0 < kept() <= limit
