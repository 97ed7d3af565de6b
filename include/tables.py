"""Reading and writing contract tables: one ``ds`` partition at a time, atomically.

``write_partition`` is the only way a job writes a table. It checks the DataFrame against the
contract, then replaces exactly the rows of that partition in one Delta commit
(``replaceWhere``): re-running a day gives the same table, other days are untouched, and a
failed run leaves the previous commit (the previous good data) in place. Tables are
registered in the metastore (``{layer}.{name}``) so analysts can query them with Spark SQL.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING

from include.contracts import TableContract, validate_identifier
from include.delta_log import newest_commits
from include.settings import Settings, load_settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# [0-9], not \d: \d also matches other scripts' digits ('２０２４-０１'), which are no date.
_DS = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class SchemaMismatch(ValueError):
    """A job produced columns or types that differ from its table's contract."""


def validate_ds(ds: str) -> str:
    """``ds`` reaches SQL predicates and paths: accept only a real YYYY-MM-DD date."""
    import datetime as dt

    if not isinstance(ds, str) or not _DS.fullmatch(ds):
        raise ValueError(f"invalid ds {ds!r}: expected YYYY-MM-DD")
    dt.date.fromisoformat(ds)
    return ds


def table_location(contract: TableContract, settings: Settings | None = None) -> str:
    return (settings or load_settings()).table_path(contract.layer, contract.name)


def metastore_wanted() -> bool:
    """``LAKEHOUSE_METASTORE`` (default true): register tables in the shared metastore.

    Isolated runs (tests, the benchmark, the e2e DAG runs) set it false and address tables by
    path only: on the shared Connect server, whose catalog is the metastore, their tables
    would otherwise be registered over the lakehouse's own (``bronze.accounts`` pointing at a
    test prefix).
    """
    import os

    return os.environ.get("LAKEHOUSE_METASTORE", "true").strip().lower() != "false"


def uses_metastore(spark: SparkSession) -> bool:
    """Register tables by name: the run wants it and the engine's catalog is the metastore."""
    return metastore_wanted() and (
        spark.conf.get("spark.sql.catalogImplementation", "in-memory") == "hive"
    )


def check_schema(df: DataFrame, contract: TableContract) -> DataFrame:
    """Fail with a readable message unless ``df`` has exactly the contract's columns and types.

    Returns the DataFrame with columns in contract order (nullability is not compared: Spark
    derives it loosely, and not-null rules are the quality gates' job).
    """
    expected = contract.spark_schema()
    actual = {f.name: f.dataType for f in df.schema.fields}
    problems = []
    for field in expected.fields:
        if field.name not in actual:
            problems.append(f"missing column {field.name} {field.dataType.simpleString()}")
        elif actual[field.name] != field.dataType:
            problems.append(
                f"column {field.name}: expected {field.dataType.simpleString()}, "
                f"got {actual[field.name].simpleString()}"
            )
    extra = sorted(set(actual) - {f.name for f in expected.fields})
    if extra:
        problems.append(f"unexpected columns {extra}")
    if problems:
        raise SchemaMismatch(f"{contract.qualified_name} contract violated: " + "; ".join(problems))
    return df.select(*[f.name for f in expected.fields])


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal (quotes and backslashes escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def delta_ref(location: str) -> str:
    """The SQL name of the Delta table at ``location``: ``delta.`s3a://...```.

    Locations come from configuration (warehouse root) and validated table names, but they
    reach SQL here, so a backtick or a control character is refused rather than quoted.
    """
    if not location or any(ch == "`" or ord(ch) < 32 for ch in location):
        raise ValueError(f"unusable table location {location!r}")
    return f"delta.`{location}`"


def ensure_table(spark: SparkSession, contract: TableContract, settings: Settings | None = None):
    """Create the Delta table (empty, with the contract's schema) if it does not exist yet.

    Delta's SQL, not the Python ``DeltaTable`` builder: the jobs run as Spark Connect
    clients, and Delta's Connect plugin is not available (``include/engine.py``).
    """
    settings = settings or load_settings()
    location = table_location(contract, settings)
    if table_exists(spark, contract, settings) and (
        not uses_metastore(spark) or spark.catalog.tableExists(contract.qualified_name)
    ):
        return None  # every write asks: a storage listing, not a Spark command, answers
    partitioned = ", ".join(validate_identifier(c, "partition column")
                            for c in contract.partition_by)  # fmt: skip
    if uses_metastore(spark):
        if not spark.catalog.databaseExists(contract.layer):
            spark.sql(
                f"CREATE DATABASE IF NOT EXISTS {contract.layer} "
                f"LOCATION {sql_string(f'{settings.warehouse_root}/{contract.layer}')}"
            )
        target, where = contract.qualified_name, f" LOCATION {sql_string(location)}"
    else:
        target, where = delta_ref(location), ""
    from include.catalog import columns_ddl, create_current_view
    from include.data_dictionary import table_comment

    # every silver and gold column with its data-dictionary comment (DESCRIBE answers)
    statement = (
        f"CREATE TABLE IF NOT EXISTS {target} ({columns_ddl(contract)}) USING DELTA "
        f"PARTITIONED BY ({partitioned}){where} COMMENT {sql_string(table_comment(contract))}"
    )
    # Parallel runs (a backfill with several active runs) may all find the table missing and
    # race to create it: the losers' commit conflicts (ProtocolChanged / already exists). The
    # table then exists, and ``CREATE TABLE IF NOT EXISTS`` again is a no-op.
    for attempt in range(4):
        try:
            created = spark.sql(statement).collect()
            create_current_view(spark, contract)  # experiment-to-date tables: <name>_current
            return created
        except Exception as exc:  # Delta / catalog exceptions (classic or Connect)
            if attempt == 3 or not _lost_create_race(exc):
                raise
            time.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


_CREATE_RACE = ("ProtocolChangedException", "DELTA_PROTOCOL_CHANGED", "TableAlreadyExists",
                "TABLE_OR_VIEW_ALREADY_EXISTS", "ConcurrentTransactionException",
                "MetadataChangedException",
                # another writer's first commit is under way: files, no log entry yet
                "DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION")  # fmt: skip


def _lost_create_race(exc: Exception) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return any(marker in text for marker in _CREATE_RACE)


def partition_predicate(
    contract: TableContract, value: str, slice_: dict[str, str] | None = None
) -> str:
    """The SQL predicate selecting one partition (``ds = '…'`` or ``month = '…'``).

    ``slice_`` narrows it further on other partition columns (the quarantine table is
    partitioned by ds, layer and source so each job replaces only its own slice); a tuple of
    values selects several slices at once (``suite IN ('a', 'b')``: one gate task writes the
    results of all its tables in one commit).
    """
    column = contract.partition_by[0]
    if column == "month":
        if not _MONTH.fullmatch(value):
            raise ValueError(f"invalid month {value!r}: expected YYYY-MM")
    else:
        validate_ds(value)
    parts = [f"{column} = '{value}'"]
    for key, val in sorted((slice_ or {}).items()):
        if key not in contract.partition_by[1:]:
            raise ValueError(f"{key} is not a partition column of {contract.qualified_name}")
        if isinstance(val, tuple):
            if not val:
                raise ValueError(f"no value for {key} of {contract.qualified_name}")
            for v in val:
                validate_identifier(v, key)
            listed = ", ".join(f"'{v}'" for v in sorted(set(val)))
            parts.append(f"{key} IN ({listed})")
            continue
        validate_identifier(val, key)
        parts.append(f"{key} = '{val}'")
    return " AND ".join(parts)


def write_partition(
    spark: SparkSession,
    df: DataFrame,
    contract: TableContract,
    partition_value: str,
    settings: Settings | None = None,
    slice_: dict[str, str] | None = None,
) -> dict[str, int]:
    """Replace one partition of a contract table with ``df`` in a single Delta commit.

    Rows whose partition column differs from ``partition_value`` are a bug in the job and make
    the commit fail (Delta enforces ``replaceWhere`` on the written data).
    Returns ``{"rows": n, "version": v}``.
    """
    predicate = partition_predicate(contract, partition_value, slice_)
    df = check_schema(df, contract)
    ensure_table(spark, contract, settings)
    location = table_location(contract, settings)
    # Tag the commit so its metrics are read from *this* commit, even when other jobs
    # commit to the same table (the quarantine table is shared) right after it.
    token = f"write:{contract.qualified_name}:{predicate}:{uuid.uuid4().hex}"
    (
        df.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", predicate)
        # a column the contract added since the table was created (a new metric's sums, a
        # new readout field) joins the table; check_schema above already held the frame to
        # the contract, and a changed type still fails
        .option("mergeSchema", "true")
        .option("userMetadata", token)
        .partitionBy(*contract.partition_by)
        .save(location)
    )
    version, metrics = _find_commit(spark, location, token, settings)
    return {"rows": int(metrics.get("numOutputRows", 0)), "version": version}


def restore_partition(
    spark: SparkSession,
    contract: TableContract,
    partition_value: str,
    settings: Settings | None = None,
) -> dict[str, int | None] | None:
    """Undo the latest write of one partition: put back what the version before it held.

    Used when a blocking quality gate rejects a partition a job has just written, so readers
    keep the previous good data (or none, if the partition is new). The rejected rows stay
    readable by time travel (``VERSION AS OF rejected_version``) until the table is vacuumed.
    Only a whole-partition write of :func:`write_partition` that is still the table's newest
    commit is undone (not tables written in slices, like the shared quarantine, whose slices
    belong to different jobs, and not a write other commits have followed since).
    Returns ``{"rejected_version", "restored_version", "rows"}``, or None if nothing to undo.
    """
    predicate = partition_predicate(contract, partition_value)
    location = table_location(contract, settings)
    if not table_exists(spark, contract, settings):
        return None
    prefix = f"write:{contract.qualified_name}:{predicate}:"
    latest = newest_commits(location, 1, settings)[0]
    # Only the write the gate has just judged: the table's newest commit. If anything
    # committed after it (another partition, a re-run), undoing it could revert data some
    # other run relies on; the caller reports the partition as left in place instead.
    if not (latest["userMetadata"] or "").startswith(prefix):
        return None
    rejected = int(latest["version"])
    previous = (
        spark.read.format("delta").option("versionAsOf", rejected - 1).load(location)
        .where(predicate)
        if rejected > 0
        else None
    )
    if previous is None or previous.isEmpty():
        spark.sql(f"DELETE FROM {delta_ref(location)} WHERE {predicate}").collect()
        rows = 0
    else:
        (
            previous.write.format("delta")
            .mode("overwrite")
            .option("replaceWhere", predicate)
            .option("userMetadata", f"restore:{contract.qualified_name}:{predicate}:{rejected}")
            .partitionBy(*contract.partition_by)
            .save(location)
        )
        rows = previous.count()
    return {
        "rejected_version": rejected,
        "restored_version": _last_commit(spark, location, settings)[0],
        "rows": rows,
    }


def _find_commit(spark: SparkSession, location: str, token: str,
                 settings: Settings | None = None) -> tuple[int, dict[str, str]]:  # fmt: skip
    """Version and operation metrics of the commit ``token`` tagged, from the Delta log in
    storage (``include.delta_log``; ``DESCRIBE HISTORY`` answers the same as a Spark command,
    ~0.3 s each, several per job)."""
    # Nearly always our commit is the newest: read one commit file, not 50. Only when other
    # writers committed right after us (the shared quarantine) look deeper.
    history = newest_commits(location, 1, settings)
    if history and history[0].get("userMetadata") != token:
        history = newest_commits(location, 50, settings)
    for row in history:
        if row.get("userMetadata") == token:
            return int(row["version"]), dict(row.get("operationMetrics") or {})
    # Delta commits nothing when an overwrite adds no rows and removes no files: the
    # partition was empty and stays empty.
    return int(history[0]["version"]), {"numOutputRows": "0"}


def _last_commit(spark: SparkSession, location: str,
                 settings: Settings | None = None) -> tuple[int, dict[str, str]]:  # fmt: skip
    row = newest_commits(location, 1, settings)[0]
    return int(row["version"]), dict(row.get("operationMetrics") or {})


def read_table(spark: SparkSession, contract: TableContract, settings: Settings | None = None):
    return spark.read.format("delta").load(table_location(contract, settings))


def read_partition(
    spark: SparkSession,
    contract: TableContract,
    partition_value: str,
    settings: Settings | None = None,
) -> DataFrame:
    """One partition of a table, read by path (no 'latest' anything: the caller names it)."""
    return read_table(spark, contract, settings).where(
        partition_predicate(contract, partition_value)
    )


def table_exists(spark: SparkSession, contract: TableContract, settings=None) -> bool:
    """Is there a Delta table at the contract's location (a non-empty ``_delta_log``)?

    Asked of the object store (``include.storage``), as ``DeltaTable.isDeltaTable`` does
    through the JVM's file system: no Spark round trip, and no JVM needed in the client.
    """
    from include.storage import has_objects

    return has_objects(table_location(contract, settings).rstrip("/") + "/_delta_log/",
                       settings or load_settings())


def table_version(spark: SparkSession, contract: TableContract, settings=None) -> int:
    """The table's current Delta version (recorded by readouts for reproducibility)."""
    return _last_commit(spark, table_location(contract, settings), settings)[0]
