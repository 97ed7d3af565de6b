"""Table contracts as code: name, layer, schema, primary key, partitioning, expectation suite.

Defined once here; the writers (``include.tables``), the catalog registration, the schema
checks and the quality gates (``expectations/``) all derive from these objects. Schemas are
Spark DDL strings so that importing this module (e.g. while Airflow parses a DAG) does not
import pyspark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LAYERS = ("bronze", "silver", "gold")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def validate_identifier(name: str, what: str = "name") -> str:
    """Reject anything that is not a plain lower-case SQL identifier (no quoting games)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"invalid {what} {name!r}: use [a-z][a-z0-9_]* (at most 63 characters)")
    return name


@dataclass(frozen=True)
class TableContract:
    name: str
    layer: str
    ddl: str  # Spark DDL of every column, partition columns included
    primary_key: tuple[str, ...]
    description: str
    partition_by: tuple[str, ...] = ("ds",)
    suite: str | None = None  # expectation suite file in expectations/ (without .json)

    def __post_init__(self) -> None:
        validate_identifier(self.name, "table name")
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}")
        missing = [c for c in (*self.primary_key, *self.partition_by) if c not in self.columns]
        if missing:
            raise ValueError(f"{self.name}: key/partition columns not in schema: {missing}")

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def columns(self) -> list[str]:
        return [_split_column(part)[0] for part in _split_top_level(self.ddl)]

    @property
    def column_types(self) -> dict[str, str]:
        """``{column: its DDL type}``, e.g. ``{"ds": "STRING"}``."""
        return dict(_split_column(part) for part in _split_top_level(self.ddl))

    def spark_schema(self):
        """The schema as a pyspark StructType (needs an active SparkSession)."""
        from pyspark.sql.types import StructType

        schema = StructType.fromDDL(self.ddl)
        return schema


def _split_top_level(ddl: str) -> list[str]:
    """Split ``a INT, b MAP<STRING, STRING>`` on commas outside angle brackets."""
    parts, depth, current = [], 0, []
    for ch in ddl:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _split_column(part: str) -> tuple[str, str]:
    name, _, dtype = part.strip().partition(" ")
    return name.strip("`"), dtype.strip()


_CONTRACTS: dict[str, TableContract] = {}


def register(contract: TableContract) -> TableContract:
    key = contract.qualified_name
    if key in _CONTRACTS and _CONTRACTS[key] != contract:
        raise ValueError(f"two different contracts for {key}")
    _CONTRACTS[key] = contract
    return contract


def get_contract(qualified_name: str) -> TableContract:
    _load_all()
    try:
        return _CONTRACTS[qualified_name]
    except KeyError:
        raise KeyError(f"no contract for {qualified_name!r}; known: {sorted(_CONTRACTS)}") from None


def all_contracts() -> list[TableContract]:
    _load_all()
    return sorted(_CONTRACTS.values(), key=lambda c: (LAYERS.index(c.layer), c.name))


def _load_all() -> None:
    """Import every ``include/table_catalog*.py``: importing a catalog module registers it."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("table_catalog*.py")):
        importlib.import_module(f"include.{path.stem}")
