"""What the metastore tells an analyst: column comments and the ``_current`` views.

* **Comments**: every silver and gold column carries its data-dictionary comment
  (``include.data_dictionary``), written into the table's DDL when ``ensure_table`` creates
  it, so ``DESCRIBE TABLE EXTENDED`` answers locally and over JDBC. ``sync_catalog`` brings
  tables created before (an older warehouse) up to date, one ``ALTER COLUMN`` per column
  whose comment differs.
* **Current views**: the experiment tables store the experiment-to-date state under each
  ``ds`` (a unit appears once per day run), so ``gold.<table>_current`` holds the latest
  state only: the newest ``ds`` (per experiment for the shared seed 002 tables, partitioned
  by ``ds`` and ``experiment``). A restored partition (a gate rejected the day) or a day
  that never ran leaves the previous good state current.

Views exist only in a metastore (``include.tables.uses_metastore``); the unit tests' path
tables get comments but no views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.contracts import TableContract, all_contracts, validate_identifier

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

def is_snapshot(contract: TableContract) -> bool:
    """True for the tables that hold an experiment-to-date state per ``ds``."""
    from include.data_dictionary import is_snapshot as snapshot

    return snapshot(contract)


def current_view(contract: TableContract, table: str | None = None) -> tuple[str, str]:
    """``(view name, SELECT)`` of a snapshot table's ``_current`` view (``table``: what the
    SELECT reads, by default the table's qualified name)."""
    if not is_snapshot(contract):
        raise ValueError(f"{contract.qualified_name} is not an experiment-to-date snapshot")
    table = table or contract.qualified_name
    view = f"{contract.layer}.{validate_identifier(contract.name + '_current', 'view name')}"
    columns = ", ".join(f"t.{c}" for c in contract.columns)
    if "experiment" in contract.partition_by:  # shared: the newest ds of each experiment
        select = (
            f"SELECT {columns} FROM {table} t JOIN (SELECT experiment, max(ds) AS ds "
            f"FROM {table} GROUP BY experiment) m ON t.experiment = m.experiment AND t.ds = m.ds"
        )
    else:
        select = f"SELECT {columns} FROM {table} t WHERE t.ds = (SELECT max(ds) FROM {table})"
    return view, select


def create_current_view(spark: SparkSession, contract: TableContract) -> str | None:
    """Create or replace the ``_current`` view of a snapshot table (a metastore-only,
    catalog-only statement); None where there is no metastore or nothing to view."""
    from include.tables import sql_string, uses_metastore

    if not is_snapshot(contract) or not uses_metastore(spark):
        return None
    view, select = current_view(contract)
    note = (
        f"The latest state of {contract.qualified_name}: its newest ds"
        + (" per experiment" if "experiment" in contract.partition_by else "")
        + ". One row per unit; the table keeps every day's state."
    )
    spark.sql(f"CREATE OR REPLACE VIEW {view} COMMENT {sql_string(note)} AS {select}").collect()
    return view


def experiment_views(
    spec, source: str | None = None, latest: str | None = None
) -> list[tuple[str, str, str]]:
    """``(view, SELECT, comment)`` of a shop-funnel experiment's per-user views: seed 002's
    user_outcomes rows of that experiment under the SaaS naming, ``gold.<name>_outcomes``
    (every day's state) and ``gold.<name>_outcomes_current`` (the latest); none for a SaaS
    experiment, whose ``_outcomes`` is a table. ``source`` / ``latest``: what the SELECTs
    read (by default gold.user_outcomes and its ``_current`` view)."""
    from include.table_catalog_experiments import USER_OUTCOMES
    from include.tables import sql_string

    if spec.funnel != "shop":
        return []
    name = validate_identifier(spec.name, "experiment name")
    columns = ", ".join(c for c in USER_OUTCOMES.columns if c != "experiment")
    where = f"WHERE experiment = {sql_string(name)}"
    source = source or USER_OUTCOMES.qualified_name
    latest = latest or f"{USER_OUTCOMES.qualified_name}_current"
    return [
        (
            f"gold.{name}_outcomes",
            f"SELECT {columns} FROM {source} {where}",
            f"{name} (seed 002): one row per user per ds from {source}; "
            f"{name}_outcomes_current holds the latest state, one row per user.",
        ),
        (
            f"gold.{name}_outcomes_current",
            f"SELECT {columns} FROM {latest} {where}",
            f"The latest state of {name}'s users (from {latest}): one row per user.",
        ),
    ]


def create_experiment_views(spark: SparkSession, spec) -> list[str]:
    """Create or replace ``experiment_views(spec)`` with the data dictionary's column
    comments (metastore only; the SELECTs read tables and views that exist by then)."""
    from include.data_dictionary import find_comment
    from include.table_catalog_experiments import USER_OUTCOMES
    from include.tables import sql_string, uses_metastore

    if not uses_metastore(spark):
        return []
    made = []
    for view, select, note in experiment_views(spec):
        cols = ", ".join(
            f"{c} COMMENT {sql_string(find_comment(USER_OUTCOMES, c) or '')}"
            for c in USER_OUTCOMES.columns
            if c != "experiment"
        )
        spark.sql(
            f"CREATE OR REPLACE VIEW {view} ({cols}) COMMENT {sql_string(note)} AS {select}"
        ).collect()
        made.append(view)
    return made


def columns_ddl(contract: TableContract) -> str:
    """The contract's DDL with each column's data-dictionary comment (silver and gold)."""
    from include.contracts import _split_column, _split_top_level
    from include.data_dictionary import find_comment
    from include.tables import sql_string

    if contract.layer == "bronze":
        return contract.ddl
    parts = []
    for part in _split_top_level(contract.ddl):
        name, dtype = _split_column(part)
        comment = find_comment(contract, name)  # None: a contract outside the dictionary
        parts.append(f"{name} {dtype}" + (f" COMMENT {sql_string(comment)}" if comment else ""))
    return ", ".join(parts)


def _column_types(contract: TableContract) -> list[tuple[str, str]]:
    from include.contracts import _split_column, _split_top_level

    return [_split_column(part) for part in _split_top_level(contract.ddl)]


def column_comments(spark: SparkSession, ref: str) -> dict[str, str]:
    """``{column: comment}`` from ``DESCRIBE TABLE`` (the columns, before its sections)."""
    out: dict[str, str] = {}
    for r in spark.sql(f"DESCRIBE TABLE {ref}").collect():
        if not r["col_name"] or r["col_name"].startswith("#"):
            break
        out[r["col_name"]] = r["comment"] or ""
    return out


def sync_catalog(spark: SparkSession, settings=None) -> dict[str, int]:
    """Bring every existing silver and gold table's columns, column comments and every
    ``_current`` view up to date (tables created before the data dictionary, or before a
    contract gained a column: added as nullable); idempotent: a second run changes nothing.
    Returns ``{"tables", "comments_set", "views"}`` (plus ``columns_added`` when any)."""
    from include.data_dictionary import find_comment
    from include.experiments import load_all
    from include.table_catalog_experiments import USER_OUTCOMES
    from include.tables import delta_ref, sql_string, table_exists, table_location, uses_metastore

    done = {"tables": 0, "comments_set": 0, "views": 0}
    for contract in all_contracts():
        if contract.layer == "bronze" or not table_exists(spark, contract, settings):
            continue
        done["tables"] += 1
        ref = (
            contract.qualified_name
            if uses_metastore(spark)
            else delta_ref(table_location(contract, settings))
        )
        current = column_comments(spark, ref)
        missing = [c for c in contract.columns if c not in current]
        if missing:  # a column the contract gained (e.g. base.first_paid_at): added, nullable
            types = dict(_column_types(contract))
            added = ", ".join(
                f"{c} {types[c]}"
                + (f" COMMENT {sql_string(find_comment(contract, c))}"
                   if find_comment(contract, c) else "")  # fmt: skip
                for c in missing
            )
            spark.sql(f"ALTER TABLE {ref} ADD COLUMNS ({added})").collect()
            done["columns_added"] = done.get("columns_added", 0) + len(missing)
            current = column_comments(spark, ref)
        for column in contract.columns:
            wanted = find_comment(contract, column)
            if wanted is not None and current.get(column, "") != wanted:
                spark.sql(
                    f"ALTER TABLE {ref} ALTER COLUMN {column} COMMENT {sql_string(wanted)}"
                ).collect()
                done["comments_set"] += 1
        if create_current_view(spark, contract):
            done["views"] += 1
    if uses_metastore(spark) and table_exists(spark, USER_OUTCOMES, settings):
        for spec in load_all():
            done["views"] += len(create_experiment_views(spark, spec))
    return done
