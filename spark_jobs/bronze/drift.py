"""Upstream schema drift: what bronze does when a day's raw files differ from their contract.

The policy, one rule per kind of change, decided before any row is written:

=========================================  ==================================================
change                                     what bronze does
=========================================  ==================================================
CSV columns in another order               read by name: each file is parsed with its own
                                           header; reported as ``reordered``
a field added (CSV column, JSON key)       additive: the contract's fields load as before,
                                           the new field is ignored and reported
                                           (``added``, with its line count for JSON) in the
                                           job result and the task log, so extending the
                                           contract is a decision, not an accident
a contract field gone (CSV header without  :class:`SchemaDrift`: the job fails naming the
it, a JSON key in no line of the day)      source, file and fields (a rename shows as one
                                           gone plus one added); nothing is written, the
                                           previous good partition stays
a field's type changed (most non-null      :class:`SchemaDrift` naming the field, the share
values no longer parse as its type; for    that does not parse and a sample; a few bad values
web_events' ``properties``, a JSON object  are ordinary bad input: quarantined (``bad_<f>``)
of strings, a string / number / array in
its place)
=========================================  ==================================================

The checks read the lines that decode as UTF-8: a line that does not is bad input, not
drift (quarantined as ``bad_encoding`` by the bronze jobs), and carries no keys here.

A ``SchemaDrift`` is a clear failure of the bronze task; after upstream is fixed, or the
contract is extended on purpose (``include/raw_sources.py`` and the bronze/silver contracts),
re-running the day loads it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

log = logging.getLogger(__name__)

# A field whose non-null values mostly fail to parse has changed type upstream; below this
# share (or on fewer values than MIN_VALUES) they are bad records, quarantined one by one.
TYPE_CHANGE_SHARE = 0.5
MIN_VALUES = 20
_IDENT_LIST = r"^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*$"


class SchemaDrift(RuntimeError):
    """A raw file's fields no longer match the contract in a way bronze will not guess at."""


def csv_headers(lines: DataFrame, key_field: str) -> dict[str, tuple[str, ...]]:
    """``{source_file: header fields}`` of the CSV files in ``lines``.

    A header is a line of plain identifiers that names the source's key field (a data line
    holding exactly the key's name as a value would be mistaken for one: ids never are). A
    file without a header keeps the contract's order.
    """
    from pyspark.sql import functions as F

    found = (
        lines.where(
            F.col("value").rlike(_IDENT_LIST)
            & F.array_contains(F.split(F.col("value"), ","), key_field)
        )
        .select("source_file", "value")
        .distinct()
        .collect()
    )
    headers: dict[str, tuple[str, ...]] = {}
    for row in found:
        if row.source_file in headers and ",".join(headers[row.source_file]) != row.value:
            raise SchemaDrift(f"{row.source_file}: two different header lines")
        headers[row.source_file] = tuple(row.value.split(","))
    return headers


def field_changes(contract_fields: Sequence[str], seen: Sequence[str]) -> dict[str, list[str]]:
    """Fields ``added`` to and ``missing`` from ``seen`` relative to the contract."""
    return {
        "added": [f for f in seen if f not in contract_fields],
        "missing": [f for f in contract_fields if f not in seen],
    }


def check_csv_headers(
    source: str, contract_fields: Sequence[str], headers: Mapping[str, Sequence[str]]
) -> dict[str, dict]:
    """Apply the policy to every file's header: the drift report, or :class:`SchemaDrift`."""
    report: dict[str, dict] = {}
    problems = []
    for path, fields in sorted(headers.items()):
        if len(set(fields)) != len(fields):
            problems.append(f"{path}: duplicate columns in header {list(fields)}")
            continue
        changes = field_changes(contract_fields, fields)
        if changes["missing"]:
            problems.append(
                f"{path}: missing {changes['missing']}"
                + (f" (new: {changes['added']})" if changes["added"] else "")
            )
            continue
        reordered = [f for f in fields if f in contract_fields] != list(contract_fields)
        if changes["added"] or reordered:
            report[path] = {"added": changes["added"], "reordered": reordered}
    if problems:
        raise SchemaDrift(
            f"raw {source}: the CSV header no longer has every contract field; "
            + "; ".join(problems)
            + ". Fix upstream or change the contract (include/raw_sources.py), then re-run."
        )
    for path, change in report.items():
        log.warning("schema drift in raw %s %s: %s (loaded by name)", source, path, change)
    return report


def json_key_drift(
    lines: DataFrame, source: str, contract_fields: Sequence[str]
) -> dict[str, object]:
    """Keys of the day's JSON lines (column ``value``) against the contract (``key_drift``)."""
    from pyspark.sql import functions as F

    keysets = lines.select(keyset(F.col("value")).alias("keyset"))
    return key_drift(keyset_counts(keysets, "keyset"), source, contract_fields)


def keyset(line: Column) -> Column:
    """A line's top-level keys as a JSON array string (null if it is not a JSON object or
    its bytes are not valid UTF-8: such a line is quarantined, ``bad_encoding``)."""
    from pyspark.sql import functions as F

    return F.when(F.is_valid_utf8(line), F.to_json(F.json_object_keys(line)))


def keyset_counts(df: DataFrame, column: str) -> dict[str, int]:
    """``{key: lines carrying it}`` from a column of :func:`keyset` values."""
    import json
    from collections import Counter

    counts: Counter[str] = Counter()
    for row in df.where(df[column].isNotNull()).groupBy(column).count().collect():
        for key in json.loads(row[column]):
            counts[key] += row["count"]
    return dict(counts)


def key_drift(
    counts: Mapping[str, int], source: str, contract_fields: Sequence[str]
) -> dict[str, object]:
    """The key-drift policy on ``{key: lines carrying it}``: the report, or SchemaDrift.

    ``counts`` covers every line of the day that is a JSON object. A key outside the
    contract is reported (additive drift); a contract key carried by no line at all (while
    some lines parse) means the field was removed or renamed upstream.
    """
    if not counts:  # no parsable line at all: every line is quarantined as unparsable
        return {}
    changes = field_changes(contract_fields, list(counts))
    if changes["missing"]:
        raise SchemaDrift(
            f"raw {source}: no line of the day has {changes['missing']}"
            + (f" (new keys: {changes['added']})" if changes["added"] else "")
            + ". Fix upstream or change the contract (include/raw_sources.py), then re-run."
        )
    if not changes["added"]:
        return {}
    added = {k: int(counts[k]) for k in changes["added"]}
    log.warning("schema drift in raw %s: new keys %s (ignored, contract unchanged)", source, added)
    return {"added": added}


def check_types(
    checked: DataFrame, source: str, fields: Mapping[str, tuple[Column, Column]]
) -> None:
    """Raise SchemaDrift if most non-null values of a field no longer parse as its type.

    ``fields``: ``{field: (raw string value, typed value)}`` for the typed fields; ``checked``
    holds the day's records (well-formed lines: JSON that parses, CSV of the right width).
    """
    from pyspark.sql import functions as F

    if not fields:
        return
    aggs = []
    for name, (raw, typed) in fields.items():
        aggs.append(F.count(raw).alias(f"n_{name}"))
        aggs.append(
            F.sum(F.when(raw.isNotNull() & typed.isNull(), 1).otherwise(0)).alias(f"bad_{name}")
        )
        aggs.append(F.first(F.when(typed.isNull(), raw), ignorenulls=True).alias(f"eg_{name}"))
    row = checked.agg(*aggs).first()
    changed = []
    for name in fields:
        n, bad = row[f"n_{name}"] or 0, row[f"bad_{name}"] or 0
        if n >= MIN_VALUES and bad / n > TYPE_CHANGE_SHARE:
            changed.append(f"{name}: {bad} of {n} values do not parse (e.g. {row[f'eg_{name}']!r})")
    if changed:
        raise SchemaDrift(
            f"raw {source}: field type changed upstream; "
            + "; ".join(changed)
            + ". Fix upstream or change the contract, then re-run."
        )
