"""Bronze contracts of the nine non-web raw sources, derived from their silver contracts.

A bronze table keeps every raw field of ``include.raw_sources`` typed as in silver (so a
wrong type is a quarantine reason at the door, not a surprise later), plus the ingestion
metadata ``_source_file`` and ``_record_hash`` (sha256 of the raw line) and ``ds`` (the day
the file landed). Duplicates are kept as delivered, so there is no primary key. Deriving the
types from silver keeps the two layers from drifting apart.
"""

from __future__ import annotations

from include.contracts import TableContract, _split_column, _split_top_level, register
from include.raw_sources import RAW_SOURCES
from include.table_catalog_sources import (
    SILVER_ACCOUNTS,
    SILVER_BILLING_EVENTS,
    SILVER_EXPERIMENT_ASSIGNMENTS,
    SILVER_NPS_RESPONSES,
    SILVER_ORDERS,
    SILVER_PRODUCT_USAGE,
    SILVER_PRODUCTS,
    SILVER_SESSIONS,
    SILVER_SUPPORT_TICKETS,
)

SILVER_OF_SOURCE: dict[str, TableContract] = {
    c.name: c
    for c in (
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_PRODUCTS,
        SILVER_SESSIONS,
        SILVER_ORDERS,
        SILVER_PRODUCT_USAGE,
        SILVER_SUPPORT_TICKETS,
        SILVER_NPS_RESPONSES,
    )
}


def column_types(contract: TableContract) -> dict[str, str]:
    """``{column: spark DDL type}`` of a contract, in order."""
    return dict(_split_column(part) for part in _split_top_level(contract.ddl))


def bronze_contract(source: str) -> TableContract:
    """The bronze contract of ``source``: raw fields typed as in silver + ingestion metadata."""
    types = column_types(SILVER_OF_SOURCE[source])
    fields = RAW_SOURCES[source].fields
    missing = [f for f in fields if f not in types]
    if missing:
        raise ValueError(f"{source}: raw fields without a silver type: {missing}")
    ddl = ", ".join(
        [f"{f} {types[f]}" for f in fields]
        + ["_source_file STRING", "_record_hash STRING", "ds STRING"]
    )
    return TableContract(
        name=source,
        layer="bronze",
        ddl=ddl,
        primary_key=(),
        description=(
            f"Raw {source} ({RAW_SOURCES[source].fmt}) as delivered, typed; unparsable rows "
            "are in bronze.quarantine. " + RAW_SOURCES[source].doc
        ),
        suite=None,
    )


BRONZE_SOURCES: dict[str, TableContract] = {
    source: register(bronze_contract(source)) for source in SILVER_OF_SOURCE
}
