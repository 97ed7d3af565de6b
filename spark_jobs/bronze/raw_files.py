"""Generic bronze ingestion of the JSONL / CSV raw sources: parse, type, quarantine.

Every line is read as text first (so the raw record and its sha256 survive for the
quarantine table and for lineage), then parsed with every field as a string, then typed per
the source's bronze contract (``include.table_catalog_bronze_sources``). A line whose bytes
are not valid UTF-8, that is blank, is not JSON, has the wrong number of CSV fields or an
unclosed quote, misses a required field or holds a value that does not parse as its type
goes to ``bronze.quarantine`` with the reason (``bad_encoding``, ``empty_line``,
``unparsable_json``, ``wrong_field_count``, ``unbalanced_quote``, ``missing_<field>``,
``bad_<field>``; first match wins, in this order: :func:`with_typed_and_reason`); nothing is
dropped or altered silently and ``rows in = rows out + rows quarantined`` is checked by the
job. CSV header lines are not records and are not counted; a file of the day without any
record is counted as an empty file (the policy: ``spark_jobs.raw``). Before anything is
written, the schema-drift policy of ``spark_jobs.bronze.drift`` runs on the day's files:
columns are read by their header's names, added fields are reported, a field gone or a
changed type fails the job clearly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from include.engine import keep
from include.raw_sources import RAW_SOURCES
from include.table_catalog import QUARANTINE
from include.table_catalog_bronze_sources import BRONZE_SOURCES, column_types
from spark_jobs.common import JobResult, quarantine_rows
from spark_jobs.raw import line_reason, rejected_record

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

TIMESTAMP_FORMATS = ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "yyyy-MM-dd'T'HH:mm:ssXXX")
DATE_FORMAT = "yyyy-MM-dd"

# Fields without which a record means nothing (beyond the silver primary key).
REQUIRED: dict[str, tuple[str, ...]] = {
    "experiment_assignments": (
        "assignment_id", "experiment", "variant", "anonymous_id", "assigned_at",
    ),
    "accounts": ("user_id", "updated_at"),
    "billing_events": ("billing_event_id", "user_id", "event_type", "event_time"),
    "products": ("product_id",),
    "sessions": ("session_id", "started_at"),
    "orders": ("order_id", "ordered_at"),
    "product_usage": ("user_id", "usage_date"),
    "support_tickets": ("ticket_id", "created_at"),
    "nps_responses": ("response_id", "user_id", "score", "responded_at"),
}


def header_line(source: str) -> str:
    return ",".join(RAW_SOURCES[source].fields)


def filter_records(
    lines: DataFrame, source: str, headers: Mapping[str, Sequence[str]] | None = None
) -> DataFrame:
    """Drop CSV header lines: they are file structure, not records.

    ``headers`` (``{source_file: fields}``, see ``drift.csv_headers``) names each file's own
    header; without it a line equal to the contract's header is one.
    """
    from pyspark.sql import functions as F

    if RAW_SOURCES[source].fmt != "csv":
        return lines
    is_header = F.col("value") == F.lit(header_line(source))
    for path, fields in (headers or {}).items():
        is_header = is_header | (
            (F.col("source_file") == F.lit(path)) & (F.col("value") == F.lit(",".join(fields)))
        )
    return lines.where(~is_header)


def _string_schema(source: str, corrupt: bool) -> str:
    cols = [f"`{f}` STRING" for f in RAW_SOURCES[source].fields]
    return ", ".join(cols + (["_corrupt_record STRING"] if corrupt else []))


def csv_field_count(value: Column) -> Column:
    """Fields on a CSV line: commas outside double-quoted strings, plus one."""
    from pyspark.sql import functions as F

    unquoted = F.regexp_replace(value, r'"([^"]|"")*"', "")
    return F.length(unquoted) - F.length(F.regexp_replace(unquoted, ",", "")) + 1


def with_parsed(
    lines: DataFrame, source: str, headers: Mapping[str, Sequence[str]] | None = None
) -> DataFrame:
    """``value`` (one raw line) -> struct ``r`` of string fields, plus ``record_hash``.

    A CSV file whose header orders or extends the columns differently (``headers``, from
    ``drift.csv_headers``; checked by ``drift.check_csv_headers``) is parsed with its own
    header and its fields are picked by name; other files use the contract's order.
    """
    from functools import reduce

    from pyspark.sql import functions as F

    contract = RAW_SOURCES[source].fields
    if RAW_SOURCES[source].fmt == "jsonl":
        parsed = F.from_json(
            "value",
            _string_schema(source, corrupt=True),
            {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"},
        )
        broken = F.when(
            parsed.isNull() | parsed["_corrupt_record"].isNotNull(), F.lit("unparsable_json")
        )
        return _with_record(lines, parsed, broken)

    layouts: dict[tuple[str, ...], list[str]] = {}
    for path, fields in (headers or {}).items():
        if tuple(fields) != tuple(contract):
            layouts.setdefault(tuple(fields), []).append(path)
    drifted = [p for paths in layouts.values() for p in paths]
    parts = [
        _csv_part(
            lines.where(~F.col("source_file").isin(drifted)) if drifted else lines,
            contract,
            contract,
        )
    ]
    for fields, paths in layouts.items():
        parts.append(_csv_part(lines.where(F.col("source_file").isin(paths)), fields, contract))
    return reduce(lambda a, b: a.unionByName(b), parts)


def _csv_part(lines: DataFrame, layout: Sequence[str], contract: Sequence[str]) -> DataFrame:
    """CSV lines of files with columns ``layout``, parsed and re-shaped to the contract."""
    from pyspark.sql import functions as F

    schema = ", ".join(f"`{f}` STRING" for f in layout)
    parsed = F.from_csv("value", schema, {"mode": "PERMISSIVE"})
    by_name = F.struct(*[parsed[f].alias(f) for f in contract])
    value = F.col("value")
    quotes = F.length(value) - F.length(F.regexp_replace(value, '"', ""))
    # an unclosed quote would swallow the rest of the line into one field: never guess
    broken = F.when(quotes % 2 == 1, F.lit("unbalanced_quote")).when(
        csv_field_count(value) != len(layout), F.lit("wrong_field_count")
    )
    return _with_record(lines, by_name, broken)


def _with_record(lines: DataFrame, record: Column, broken: Column) -> DataFrame:
    """The parsed record ``r`` and ``_broken``: why the line cannot be read, or null."""
    from pyspark.sql import functions as F

    return lines.select(
        "value",
        "source_file",
        F.sha2(F.col("value"), 256).alias("record_hash"),
        record.alias("r"),
        broken.alias("_broken"),
    )


def typed(raw: Column, dtype: str) -> Column:
    """A raw string typed as ``dtype`` (null when it does not parse)."""
    from pyspark.sql import functions as F

    t = dtype.upper()
    if t == "STRING":
        return raw
    if t == "TIMESTAMP":
        return F.coalesce(*[F.try_to_timestamp(raw, F.lit(f)) for f in TIMESTAMP_FORMATS])
    if t == "DATE":
        return F.try_to_timestamp(raw, F.lit(DATE_FORMAT)).cast("date")
    if t == "BOOLEAN":
        low = F.lower(F.trim(raw))
        return F.when(low == "true", F.lit(True)).when(low == "false", F.lit(False))
    return raw.try_cast(t.lower())


def with_typed_and_reason(parsed: DataFrame, source: str) -> DataFrame:
    """Add every field typed (``t_<field>``) and the first rule the line breaks (``reason``).

    The rules, first match wins, from the bytes up: ``bad_encoding`` (the line's bytes are
    not valid UTF-8), ``empty_line``, the line's structure (``unparsable_json``;
    ``unbalanced_quote``, ``wrong_field_count``), then per field of the contract
    ``missing_<field>`` (required fields) and ``bad_<field>`` (typed fields).

    ``bad_encoding`` and ``empty_line`` come first for every raw line, and why:
    :func:`spark_jobs.raw.line_reason`.
    """
    from pyspark.sql import functions as F

    types = column_types(BRONZE_SOURCES[source])
    fields = RAW_SOURCES[source].fields
    r = F.col("r")
    reason = line_reason(F.col("value")).when(F.col("_broken").isNotNull(), F.col("_broken"))
    for f in REQUIRED[source]:
        reason = reason.when(r[f].isNull(), F.lit(f"missing_{f}"))
    for f in fields:
        if types[f].upper() != "STRING":
            reason = reason.when(
                r[f].isNotNull() & typed(r[f], types[f]).isNull(), F.lit(f"bad_{f}")
            )
    return parsed.select(
        "*", *[typed(r[f], types[f]).alias(f"t_{f}") for f in fields], reason.alias("reason")
    )


def parse(
    lines: DataFrame, source: str, headers: Mapping[str, Sequence[str]] | None = None
) -> DataFrame:
    """Every record line parsed once: what the type check, the bronze rows and the
    quarantine use (``lines``: ``value``, ``source_file``; header lines removed).

    Flat, so that a persisted copy is column-compressed: ``t_<field>`` typed, ``s_<field>``
    the raw text of each typed (non-string) field for the type-drift check, ``reason`` (null:
    well formed), ``record_hash``, ``source_file``, ``well_formed`` (JSON that parses / CSV of
    the right width, not empty, valid UTF-8), and ``value``, the raw line, only where a line
    is rejected (a ``bad_encoding`` line with each undecodable byte replaced by U+FFFD:
    ``spark_jobs.raw.rejected_record``).
    """
    from pyspark.sql import functions as F

    types = column_types(BRONZE_SOURCES[source])
    fields = RAW_SOURCES[source].fields
    checked = with_typed_and_reason(with_parsed(lines, source, headers), source)
    r = F.col("r")
    return checked.select(
        *[f"t_{f}" for f in fields],
        *[r[f].alias(f"s_{f}") for f in fields if types[f].upper() != "STRING"],
        "reason",
        "record_hash",
        "source_file",
        (
            F.col("_broken").isNull()
            & (F.trim(F.col("value")) != "")
            & F.is_valid_utf8(F.col("value"))
        ).alias("well_formed"),
        rejected_record(F.col("value"), F.col("reason")).alias("value"),
    )


def split(parsed: DataFrame, source: str, ds: str) -> tuple[DataFrame, DataFrame]:
    """``parse``'s rows -> (bronze rows, quarantine rows): every line lands in exactly one."""
    from pyspark.sql import functions as F

    good = parsed.where(F.col("reason").isNull()).select(
        *[F.col(f"t_{f}").alias(f) for f in RAW_SOURCES[source].fields],
        F.col("source_file").alias("_source_file"),
        F.col("record_hash").alias("_record_hash"),
        F.lit(ds).alias("ds"),
    )
    bad = quarantine_rows(
        parsed.where(F.col("reason").isNotNull()),
        source=source,
        layer="bronze",
        reason=F.col("reason"),
        ds=ds,
        record=F.col("value"),
        source_file=F.col("source_file"),
        record_hash=F.col("record_hash"),
    )
    return good, bad


def transform(
    lines: DataFrame, source: str, ds: str, headers: Mapping[str, Sequence[str]] | None = None
) -> tuple[DataFrame, DataFrame]:
    """``lines`` (``value``, ``source_file``; header lines removed) -> (bronze, quarantine)."""
    return split(parse(lines, source, headers), source, ds)


def check_drift(lines: DataFrame, source: str) -> tuple[dict, dict | None]:
    """The schema-drift policy (``spark_jobs.bronze.drift``) on a day's raw lines, headers
    included: ``(report, csv headers)``, or :class:`~spark_jobs.bronze.drift.SchemaDrift`."""
    from spark_jobs.bronze import drift

    fields = RAW_SOURCES[source].fields
    if RAW_SOURCES[source].fmt == "csv":
        headers = drift.csv_headers(lines, REQUIRED[source][0])
        return drift.check_csv_headers(source, fields, headers), headers
    return drift.json_key_drift(lines, source, fields), None


def check_types(parsed: DataFrame, source: str) -> None:
    """SchemaDrift if a typed field's values mostly no longer parse (a changed type);
    ``parsed``: :func:`parse`'s rows."""
    from pyspark.sql import functions as F

    from spark_jobs.bronze import drift

    types = column_types(BRONZE_SOURCES[source])
    typed_fields = {
        f: (F.col(f"s_{f}"), F.col(f"t_{f}"))
        for f in RAW_SOURCES[source].fields
        if types[f].upper() != "STRING"
    }
    drift.check_types(parsed.where("well_formed"), source, typed_fields)


def run_source(spark: SparkSession, source: str, ds: str, settings) -> JobResult:
    """The whole bronze job of one source for one ds (what each thin module's main calls)."""
    from include.raw_reader import raw_line_count, read_raw_lines, require_raw_files
    from include.tables import write_partition
    from spark_jobs.raw import count_records

    contract = BRONZE_SOURCES[source]
    path, files = require_raw_files(spark, settings, source, ds)
    raw = keep(read_raw_lines(spark, path))  # the drift check and the parse read it
    parsed = None
    try:  # a failure must not leave the day's rows cached for a later run in this session
        drift_report, headers = check_drift(raw, source)  # raises before anything is written
        # Parsed once: the type check, the count and both writes read the persisted parse.
        parsed = keep(parse(filter_records(raw, source, headers), source, headers))
        check_types(parsed, source)
        result = count_records(
            JobResult(job=f"bronze.{source}", ds=ds),
            parsed,
            files,
            source,
            raw_lines=raw_line_count(spark, path),
            header_lines=len(headers or {}),
        )
        raw.unpersist()
        if drift_report:
            result.extra["schema_drift"] = drift_report
        good, bad = split(parsed, source, ds)
        out = write_partition(spark, good, contract, ds, settings)
        q = write_partition(
            spark, bad, QUARANTINE, ds, settings, {"layer": "bronze", "source": source}
        )
    finally:
        raw.unpersist()
        if parsed is not None:
            parsed.unpersist()
    result.rows_out, result.rows_quarantined = out["rows"], q["rows"]
    result.versions = {contract.qualified_name: out["version"]}
    return result.check_accounting()
