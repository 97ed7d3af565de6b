"""Compact small files and vacuum unreferenced ones in every lakehouse table (weekly).

Why: each daily job rewrites its ``ds`` partition with ``replaceWhere``. The files it replaces
stay in storage (Delta keeps them for time travel) and nothing ever deleted them, so every
re-run, backfill and rejected-then-restored partition grew the bucket for good. A day of a
small table is a few files of a few kB each (a 20k-event day of ``silver.fct_website_events``
is 4 files; partitions written before cd550d6 are 64), and every job that reads a window of
days opens all of them.

For each table of the catalog (or ``params["tables"]``) that exists:

1. **compact** (``OPTIMIZE``, Delta's bin-packing): the settled partitions, ``ds < run ds``
   (monthly tables: months before the run's month), which the daily runs no longer rewrite:
   the scheduler starts the weekly run and the day's daily run at the same midnight.
   A partition of one file is left alone, so a second run rewrites nothing. The rows of the
   compacted range are counted before and after from the Delta log: the job fails unless
   they are equal (``rows_in == rows_out``).
2. **vacuum** (``VACUUM ... RETAIN n HOURS``): delete files no version of the last ``n`` hours
   references. ``n`` is at least 168 (Delta's default ``deletedFileRetentionDuration``):
   shorter would break readers and writers that started on an older version, and the quality
   gate's restore (``include.tables.restore_partition``) reads the version before a rejected
   write.

Compaction commits with ``dataChange = false``: readers see the same rows. A daily write to
the same partition at the same moment conflicts with it; one of the two fails and its retry
succeeds (the DAG runs weekly and compacts only partitions before its own ``ds``).

Params (all optional): ``tables`` (qualified names), ``retain_hours`` (int >= 168, default
168), ``compact`` / ``vacuum`` (booleans, default true). Result ``extra`` has per table: files
referenced before/after, files in storage before/after (outside ``_delta_log``), files
compacted, seconds.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from spark_jobs.common import JobResult

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from include.contracts import TableContract

MIN_RETAIN_HOURS = 168


def _flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"maintenance param {name} must be true or false, got {value!r}")


def parse_params(params: dict | None) -> dict:
    """Validate the job's params (they may come from the Airflow UI as strings)."""
    from include.contracts import all_contracts, get_contract

    params = dict(params or {})
    unknown = set(params) - {"tables", "retain_hours", "compact", "vacuum"}
    if unknown:
        raise ValueError(f"unknown maintenance params {sorted(unknown)}")
    names = params.get("tables")
    if names is None:
        contracts = all_contracts()
    else:
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"tables must be a list of table names, got {names!r}")
        contracts = [get_contract(n) for n in names]  # unknown names fail here
    raw = params.get("retain_hours", MIN_RETAIN_HOURS)
    try:
        retain = int(str(raw))
    except ValueError:
        raise ValueError(f"retain_hours must be a whole number of hours, got {raw!r}") from None
    if retain < MIN_RETAIN_HOURS:
        raise ValueError(
            f"retain_hours={retain} is under {MIN_RETAIN_HOURS} (7 days): older versions that "
            "running readers, writers and the quality gate's restore may need would be deleted"
        )
    return {
        "contracts": contracts,
        "retain_hours": retain,
        "compact": _flag(params.get("compact", True), "compact"),
        "vacuum": _flag(params.get("vacuum", True), "vacuum"),
    }


def settled_predicate(contract: TableContract, ds: str) -> str:
    """The partitions a run for ``ds`` compacts (SQL on validated partition values only)."""
    from include.tables import validate_ds

    validate_ds(ds)
    first = contract.partition_by[0] if contract.partition_by else None
    if first == "ds":
        return f"ds < '{ds}'"
    if first == "month":
        return f"month < '{ds[:7]}'"
    raise ValueError(f"{contract.qualified_name}: no rule for partition column {first!r}")


def stored_files(location: str, settings) -> int:
    """Files under the table's location outside ``_delta_log`` (what storage holds), counted
    in the object store itself (``include.storage``), not through the JVM."""
    from include.storage import count_files

    return count_files(location, settings, skip="/_delta_log/")


def maintain(spark: SparkSession, contract: TableContract, ds: str, settings, options) -> dict:
    """Compact then vacuum one table; returns what it did (counts, seconds).

    Delta's SQL (``OPTIMIZE``, ``VACUUM``): the Python ``DeltaTable`` API needs Delta's
    Connect plugin when the job runs on the Spark Connect server (``include/engine.py``).
    """
    from include.tables import delta_ref, table_location

    started = time.monotonic()
    location = table_location(contract, settings)
    table = delta_ref(location)
    where = settled_predicate(contract, ds)

    def current():
        return spark.read.format("delta").load(location)

    rows_before = current().where(where).count()
    out = {
        "files_before": len(current().inputFiles()),
        "stored_before": stored_files(location, settings),
        "rows_before": rows_before,
        "files_compacted": 0,
        "files_written": 0,
    }
    if options["compact"]:
        metrics = spark.sql(f"OPTIMIZE {table} WHERE {where}").collect()[0]["metrics"]
        out["files_compacted"] = int(metrics["numFilesRemoved"])
        out["files_written"] = int(metrics["numFilesAdded"])
    out["rows_after"] = current().where(where).count()
    if options["vacuum"]:
        spark.sql(f"VACUUM {table} RETAIN {int(options['retain_hours'])} HOURS").collect()
    out["files_after"] = len(current().inputFiles())
    out["stored_after"] = stored_files(location, settings)
    out["seconds"] = round(time.monotonic() - started, 2)
    return out


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import table_exists, validate_ds

    validate_ds(ds)
    options = parse_params(params)
    result = JobResult(job="maintenance.delta_tables", ds=ds)
    tables: dict[str, dict] = {}
    # VACUUM's listing runs one task per directory up to
    # spark.sql.sources.parallelPartitionDiscovery.parallelism: include/spark.py keeps it small.
    for contract in options["contracts"]:
        if not table_exists(spark, contract, settings):
            continue
        done = maintain(spark, contract, ds, settings, options)
        tables[contract.qualified_name] = done
        result.rows_in += done["rows_before"]
        result.rows_out += done["rows_after"]
        if done["rows_before"] != done["rows_after"]:
            raise RuntimeError(
                f"{contract.qualified_name}: compaction changed the row count of "
                f"{settled_predicate(contract, ds)}: {done['rows_before']} -> {done['rows_after']}"
            )
    done = tables.values()
    result.extra = {
        "retain_hours": options["retain_hours"],
        "tables": tables,
        "files_compacted": sum(t["files_compacted"] for t in done),
        "files_written": sum(t["files_written"] for t in done),
        "stored_files_deleted": sum(t["stored_before"] - t["stored_after"] for t in done),
    }
    return result.check_accounting()
