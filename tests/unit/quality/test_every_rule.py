"""Every row-level rule of every suite in ``expectations/``: clean data passes, and data
breaking exactly that rule fails exactly that rule, with its severity.

The clean partition is built from the table's contract (its Spark schema) and the suite's
own constraints (a value from the allowed set, a value inside the bounds, an id per row);
each case then changes one row (or the row count) in the way the expectation forbids. A new
suite or a new rule is covered without touching this file; an expectation type this file
cannot break fails :func:`test_every_row_level_rule_has_a_breaking_case`.

The derived checks (``meta.check``: week over week, rollup, hourly pattern, minimum
counts, MRR bridge identity, funnel order, row accounting) are checked on hand-made frames
in ``test_derived_checks.py`` and ``test_funnel_checks.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from include.contracts import get_contract
from include.quality import (
    EXPECTATIONS_DIR,
    QualityGateFailed,
    enforce,
    load_suite_file,
    suite_expectations,
    validate,
)

DS = "2024-01-05"
# A suite guarding a family of tables (every experiment's outcomes) is tried on one member.
TABLE_OF_FAMILY = {
    "gold.{experiment}_outcomes": "gold.homepage_cta_test_outcomes",
    "gold.{experiment}_aggregated": "gold.homepage_cta_test_aggregated",
    "gold.{experiment}_details": "gold.homepage_cta_test_details",
}
# Values no generic rule can invent: a well-formed hostname (the suite checks its format).
CLEAN_VALUES = {"dim_hostname": "www.learnlake.io", "hostname": "www.learnlake.io"}
BREAKABLE = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_table_row_count_to_be_between",
    "expect_table_row_count_to_equal",
}


def _suites() -> list[str]:
    return sorted(p.stem for p in Path(EXPECTATIONS_DIR).glob("*.json"))


def _rules(suite: str) -> list[dict]:
    return suite_expectations(load_suite_file(suite), None)


def _cases() -> list[tuple[str, int]]:
    return [(s, i) for s in _suites() for i in range(len(_rules(s)))]


def _table(suite: str) -> str:
    table = load_suite_file(suite)["table"]
    return TABLE_OF_FAMILY.get(table, table)


def _row_count(rules: list[dict]) -> int:
    for e in rules:
        if e["type"] == "expect_table_row_count_to_equal":
            return int(e["kwargs"]["value"])
        if e["type"] == "expect_table_row_count_to_be_between":
            return int(e["kwargs"]["min_value"])
    return 3


def _default(type_name: str, column: str, i: int):
    if type_name == "string":
        return "2024-01" if column == "month" else f"{column}-{i}"
    if type_name in ("bigint", "int", "smallint"):
        return i + 1
    if type_name.startswith("decimal"):
        return Decimal("10.00")
    if type_name == "double":
        return 1.0
    if type_name == "timestamp":
        return dt.datetime(2024, 1, 5) + dt.timedelta(seconds=i)
    if type_name == "date":
        return dt.date(2024, 1, 5)
    if type_name == "boolean":
        return False
    if type_name.startswith("map"):
        return {}
    if type_name.startswith("array"):
        return [f"{column}-{i}"]
    raise NotImplementedError(f"no clean value for {column} {type_name}")


def _cast(type_name: str, value):
    if value is None:
        return None
    if type_name.startswith("decimal"):
        return Decimal(str(value))
    if type_name in ("bigint", "int", "smallint"):
        return int(value)
    return value


def _clean_rows(table: str, rules: list[dict]) -> tuple[list[dict], dict[str, str]]:
    schema = get_contract(table).spark_schema()
    types = {f.name: f.dataType.simpleString() for f in schema.fields}
    fixed: dict[str, object] = {}
    for e in rules:
        kw, column = e["kwargs"], e["kwargs"].get("column")
        if e["type"] == "expect_column_values_to_be_in_set":
            fixed[column] = kw["value_set"][0]
        elif e["type"] == "expect_column_values_to_be_between":
            bound = kw.get("min_value")
            fixed[column] = _cast(types[column], bound if bound is not None else kw["max_value"])
    fixed.update({c: v for c, v in CLEAN_VALUES.items() if c in types})
    rows = []
    for i in range(_row_count(rules)):
        row = {c: _default(t, c, i) for c, t in types.items()}
        row.update(fixed)
        if "ds" in types:
            row["ds"] = DS
        rows.append(row)
    return rows, types


def _break(rule: dict, rows: list[dict], types: dict[str, str]) -> list[dict]:
    """``rows`` changed so that exactly ``rule`` no longer holds."""
    rows = [dict(r) for r in rows]
    kind, kw = rule["type"], rule["kwargs"]
    column = kw.get("column")
    if kind == "expect_column_values_to_not_be_null":
        rows[0][column] = None
    elif kind == "expect_column_values_to_be_unique":
        rows[1][column] = rows[0][column]
    elif kind == "expect_compound_columns_to_be_unique":
        for c in kw["column_list"]:
            rows[1][c] = rows[0][c]
    elif kind == "expect_column_values_to_be_in_set":
        if types[column] in ("bigint", "int", "smallint"):  # e.g. a 0/1 flag
            rows[0][column] = max(kw["value_set"]) + 1
        else:
            rows[0][column] = "not-in-the-set"
    elif kind == "expect_column_values_to_be_between":
        low, high = kw.get("min_value"), kw.get("max_value")
        rows[0][column] = _cast(types[column], low - 1 if low is not None else high + 1)
    elif kind == "expect_column_values_to_match_regex":
        rows[0][column] = "not a hostname!"
    elif kind == "expect_table_row_count_to_be_between":
        rows = rows[: int(kw["min_value"]) - 1]
    elif kind == "expect_table_row_count_to_equal":
        rows = rows + [dict(rows[0])]
    else:
        raise NotImplementedError(kind)
    return rows


ENGINES = ("pandas", "spark")  # a small partition is validated as its pandas copy


def _validate(spark, suite: str, rows: list[dict], settings, engine: str = "spark"):
    from spark_jobs.quality.gate import batch_of

    table = _table(suite)
    schema = get_contract(table).spark_schema()
    df = spark.createDataFrame([tuple(r[f.name] for f in schema.fields) for r in rows], schema)
    # the gate's own choice: every partition here is small, so max_rows picks the engine
    batch = batch_of(df, max_rows=len(rows) if engine == "pandas" else -1)
    assert isinstance(batch, type(df)) == (engine == "spark")
    return validate(batch, suite, DS, settings, table=table)


def test_every_row_level_rule_has_a_breaking_case():
    kinds = {e["type"] for s in _suites() for e in _rules(s)}
    assert kinds <= BREAKABLE, kinds - BREAKABLE
    assert len(_cases()) >= 50


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("suite", _suites())
def test_a_clean_partition_passes_every_rule(spark, settings, suite, engine):
    rules = _rules(suite)
    rows, _ = _clean_rows(_table(suite), rules)
    result = enforce(_validate(spark, suite, rows, settings, engine))
    assert result.status == "pass", [r.rule for r in result.rules if not r.success]
    assert len(result.rules) == len(rules)


def _column_types(table: str) -> list[tuple[str, str]]:
    """(column, DDL type) of a table, read off its contract (no Spark session at collection)."""
    from include.contracts import _split_column, _split_top_level

    return [_split_column(p) for p in _split_top_level(get_contract(table).ddl)]


def _representative_cases() -> list[tuple[str, int]]:
    """One rule per (expectation type, column type, severity): what GX's Spark engine could
    treat differently from the pandas one the gates use on small partitions."""
    seen, out = set(), []
    for suite, i in _cases():
        rule = _rules(suite)[i]
        column = rule["kwargs"].get("column")
        types = dict(_column_types(_table(suite)))
        key = (rule["type"], types.get(column, "-").lower(), rule["meta"]["severity"])
        if key not in seen:
            seen.add(key)
            out.append((suite, i))
    return out


# The gates validate a partition of up to 100,000 rows as its pandas copy (every table of
# the demo's and the tests' days), larger ones in Spark: every rule on the pandas copy, and
# a representative rule per kind in Spark too (each Spark validation is several jobs on the
# shared test server).
ENGINE_CASES = [(s, i, "pandas") for s, i in _cases()] + [
    (s, i, "spark") for s, i in _representative_cases()
]


@pytest.mark.parametrize(
    "suite, index, engine", ENGINE_CASES, ids=[f"{s}-{i}-{e}" for s, i, e in ENGINE_CASES]
)
def test_breaking_exactly_one_rule_fails_exactly_that_rule(spark, settings, suite, index, engine):
    rules = _rules(suite)
    rule = rules[index]
    clean, types = _clean_rows(_table(suite), rules)
    result = _validate(spark, suite, _break(rule, clean, types), settings, engine)

    failed = [r for r in result.rules if not r.success]
    assert [r.rule for r in failed] == [rule["meta"]["rule"]]
    assert failed[0].severity == rule["meta"]["severity"]
    if rule["meta"]["severity"] == "block":
        with pytest.raises(QualityGateFailed) as err:
            enforce(result)
        message = str(err.value)
        assert _table(suite) in message and DS in message and rule["meta"]["rule"] in message
    else:  # a warning is recorded and shown, and lets the run go on
        assert enforce(result).status == "warn"
