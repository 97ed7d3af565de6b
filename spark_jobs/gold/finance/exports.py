"""gold.finance.exports (seed 004 section 5): BI-ready files of the finance marts for ``ds``.

Reads the per-day snapshots (user_master, churn_flags) of ``ds`` and every month up to the
month of ``ds`` of the monthly marts (mrr_bridge, monthly_revenue, cohort_retention,
monthly_funnel, support_summary), drops the storage-only columns, collects them (they are
small aggregates; user_master is one row per account) and writes them with
``include.exports`` under ``settings.exports_dir/ds=YYYY-MM-DD/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog_finance import (
    CHURN_FLAGS,
    COHORT_RETENTION,
    FINANCE_EXPORT_TABLES,
    USER_MASTER,
)
from spark_jobs.common import JobResult
from spark_jobs.gold.finance._common import MonthWindow

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from include.contracts import TableContract

DAILY = (USER_MASTER, CHURN_FLAGS)


def select_export(df: DataFrame, contract: TableContract, ds: str) -> DataFrame:
    """Rows of ``contract`` the export of ``ds`` shows, without storage-only columns.

    Daily snapshots: the ``ds`` partition. Monthly marts: every month up to ``ds``'s month
    (``month`` kept: it is the key). Decimals become doubles: BI tools want plain numbers.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import DecimalType

    if contract in DAILY:
        df = df.where(F.col("ds") == ds).drop("ds")
    else:
        df = df.where(F.col("month") <= MonthWindow.of(ds).month).drop("as_of_ds")
    keys = [c for c in contract.primary_key if c in df.columns]
    if contract is COHORT_RETENTION:
        df = df.drop("month")
    elif "month" in df.columns:
        keys = ["month", *keys]
    doubles = [
        F.col(f.name).cast("double").alias(f.name)
        if isinstance(f.dataType, DecimalType)
        else F.col(f.name)
        for f in df.schema.fields
    ]
    return df.select(*doubles).orderBy(*keys)


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.engine import to_pandas
    from include.exports import write_exports
    from include.tables import read_table, table_version

    frames = {
        c.name: to_pandas(select_export(read_table(spark, c, settings), c, ds))
        for c in FINANCE_EXPORT_TABLES
    }
    written = write_exports(frames, settings.exports_dir, ds)
    return JobResult(
        job="gold.finance.exports",
        ds=ds,
        rows_out=sum(len(f) for f in frames.values()),
        versions={
            c.qualified_name: table_version(spark, c, settings) for c in FINANCE_EXPORT_TABLES
        },
        extra={"dir": written["dir"], "files": len(written["files"])},
    )
