"""bronze.web_events: raw JSON lines -> typed Delta rows, unparsable lines -> quarantine.

Bronze keeps what upstream delivered (duplicates, bad hostnames, bots: those are silver's
business) but enforces the schema: a line that is not valid UTF-8, is not JSON, misses its
event_id, or has an event_time / user_id / properties that does not parse goes to
``bronze.quarantine`` with the reason (the order of the rules: :func:`with_reason`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.engine import keep
from include.table_catalog import BRONZE_WEB_EVENTS, QUARANTINE
from spark_jobs.common import JobResult, quarantine_rows
from spark_jobs.raw import line_reason

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

SOURCE = "web_events"
# Every field read as a string first, so a wrong type is a quarantine reason, not a null.
RAW_SCHEMA = (
    "event_id STRING, event_time STRING, user_id STRING, ip STRING, user_agent STRING, "
    "hostname STRING, url STRING, referrer STRING, utm_source STRING, session_id STRING, "
    "action_type STRING, properties MAP<STRING, STRING>, _corrupt_record STRING"
)
TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
# The same line with ``properties`` read as text. Every other field of RAW_SCHEMA is text, so
# a line the contract parse rejects but this one reads is a JSON object whose ``properties``
# is not an object of strings (a string, a number, an array): ``bad_properties``, the one
# typed field of the contract, instead of ``unparsable_json``.
TEXT_PROPERTIES_SCHEMA = "properties STRING, _corrupt_record STRING"
JSON_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"}


def with_parsed(lines: DataFrame) -> DataFrame:
    """Parse ``value`` (one JSON line) into ``r``; keep the raw line and its hash (sha256 of
    the line's bytes as delivered).

    ``t``: only where the contract parse rejects the line, the line parsed again with
    ``properties`` as text (``TEXT_PROPERTIES_SCHEMA``); null on the well-formed lines, so
    the second parse costs nothing on them.
    """
    from pyspark.sql import functions as F

    r = F.from_json("value", RAW_SCHEMA, JSON_OPTIONS)
    return lines.select(
        F.col("value"),
        F.col("source_file"),
        F.sha2(F.col("value"), 256).alias("record_hash"),
        r.alias("r"),
        F.when(
            r["_corrupt_record"].isNotNull(),
            F.from_json("value", TEXT_PROPERTIES_SCHEMA, JSON_OPTIONS),
        ).alias("t"),
    )


def _is_object_of_text() -> Column:
    """The line is a JSON object once ``properties`` is read as text (``with_parsed``'s rows)."""
    from pyspark.sql import functions as F

    r, t = F.col("r"), F.col("t")
    return r["_corrupt_record"].isNull() | (t.isNotNull() & t["_corrupt_record"].isNull())


def with_reason(parsed: DataFrame) -> DataFrame:
    """Name the first schema rule a line breaks (null when it is well formed).

    The rules, first match wins, from the bytes up: ``bad_encoding`` (the line's bytes are
    not valid UTF-8), ``empty_line``, ``unparsable_json`` (not a JSON object even with every
    field read as text), ``missing_event_id``, ``missing_event_time``, ``bad_event_time``,
    ``bad_user_id``, ``bad_properties`` (a JSON object whose ``properties`` is not an object
    of strings), i.e. the contract's fields in order after the line's structure.

    ``bad_encoding`` and ``empty_line`` come first for every raw line, and why:
    :func:`spark_jobs.raw.line_reason`.
    """
    from pyspark.sql import functions as F

    r = F.col("r")
    ts = F.try_to_timestamp(r["event_time"], F.lit(TIMESTAMP_FORMAT))
    return parsed.withColumn("event_timestamp", ts).withColumn(
        "reason",
        line_reason(F.col("value"))
        .when(r.isNull() | ~_is_object_of_text(), F.lit("unparsable_json"))
        .when(r["event_id"].isNull(), F.lit("missing_event_id"))
        .when(r["event_time"].isNull(), F.lit("missing_event_time"))
        .when(ts.isNull(), F.lit("bad_event_time"))
        .when(
            r["user_id"].isNotNull() & r["user_id"].try_cast("bigint").isNull(),
            F.lit("bad_user_id"),
        )
        .when(r["_corrupt_record"].isNotNull(), F.lit("bad_properties")),
    )


TEXT_FIELDS = (
    "event_id", "event_time", "user_id", "ip", "user_agent", "hostname", "url", "referrer",
    "utm_source", "session_id", "action_type",
)  # fmt: skip


def parse(lines: DataFrame) -> DataFrame:
    """Every line parsed once: what the drift checks, the bronze rows and the quarantine use.

    One row per line, flat (so that a persisted copy is column-compressed): the contract's
    fields as text, ``properties`` (null when absent, JSON null or not an object of strings),
    ``s_properties`` (the text of a ``properties`` that is not an object of strings, else
    null: the type-drift check's sample), ``event_timestamp``, ``reason`` (null: well
    formed), ``record_hash``, ``source_file``; ``value``, the raw line, only where a line is
    rejected (the quarantine keeps it; a good line is its parsed fields; a ``bad_encoding``
    line with each undecodable byte replaced by U+FFFD: ``raw.rejected_record``);
    ``well_formed`` (valid UTF-8 and a JSON object once ``properties`` is read as text: the
    lines the type-drift check reads) and ``keyset``, the line's top-level keys as a JSON
    array (for the key-drift check; one value for nearly every line, so it compresses to
    almost nothing).
    """
    from pyspark.sql import functions as F

    from spark_jobs import raw
    from spark_jobs.bronze import drift

    checked = with_reason(with_parsed(lines))
    r = F.col("r")
    well_formed = F.is_valid_utf8(F.col("value")) & r.isNotNull() & _is_object_of_text()
    return checked.select(
        *[r[c].alias(c) for c in TEXT_FIELDS],
        r["properties"].alias("properties"),
        F.when(
            r["_corrupt_record"].isNotNull() & _is_object_of_text(), F.col("t")["properties"]
        ).alias("s_properties"),
        "event_timestamp",
        "reason",
        "record_hash",
        "source_file",
        raw.rejected_record(F.col("value"), F.col("reason")).alias("value"),
        well_formed.alias("well_formed"),
        drift.keyset(F.col("value")).alias("keyset"),
    )


def split(parsed: DataFrame, ds: str) -> tuple[DataFrame, DataFrame]:
    """``parse``'s rows -> (bronze rows, quarantine rows): every line lands in exactly one."""
    from pyspark.sql import functions as F

    good = parsed.where(F.col("reason").isNull()).select(
        "event_id",
        "event_time",
        "event_timestamp",
        F.col("user_id").try_cast("bigint").alias("user_id"),
        *TEXT_FIELDS[3:],
        F.coalesce("properties", F.create_map().cast("map<string,string>")).alias("properties"),
        F.col("source_file").alias("_source_file"),
        F.col("record_hash").alias("_record_hash"),
        F.lit(ds).alias("ds"),
    )
    bad = quarantine_rows(
        parsed.where(F.col("reason").isNotNull()),
        source=SOURCE,
        layer="bronze",
        reason=F.col("reason"),
        ds=ds,
        record=F.col("value"),
        source_file=F.col("source_file"),
        record_hash=F.col("record_hash"),
    )
    return good, bad


def transform(lines: DataFrame, ds: str) -> tuple[DataFrame, DataFrame]:
    """``lines``: columns ``value`` (raw line) and ``source_file``. Returns (bronze, quarantine)."""
    return split(parse(lines), ds)


def check_drift(parsed: DataFrame) -> dict:
    """The schema-drift policy (``spark_jobs.bronze.drift``) on ``parse``'s rows: keys added
    to or gone from the day's JSON lines, and typed fields whose values mostly stopped parsing
    (``event_time``, ``user_id``, and ``properties``: a JSON object of strings, so a string, a
    number or an array in its place is a value that does not parse)."""
    from pyspark.sql import functions as F

    from include.raw_sources import RAW_SOURCES
    from spark_jobs.bronze import drift

    report = drift.key_drift(
        drift.keyset_counts(parsed, "keyset"), SOURCE, RAW_SOURCES[SOURCE].fields
    )
    drift.check_types(
        parsed.where("well_formed"),
        SOURCE,
        {
            "event_time": (F.col("event_time"), F.col("event_timestamp")),
            "user_id": (F.col("user_id"), F.col("user_id").try_cast("bigint")),
            # a parsed properties' text is never shown (samples come from the values that do
            # not parse), so a constant stands in for it: no re-serialisation of every line
            "properties": (
                F.coalesce(
                    F.col("s_properties"), F.when(F.col("properties").isNotNull(), F.lit("{}"))
                ),
                F.col("properties"),
            ),
        },
    )
    return report


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.raw_reader import raw_line_count, read_raw_lines, require_raw_files
    from include.tables import write_partition
    from spark_jobs.raw import count_records

    path, files = require_raw_files(spark, settings, SOURCE, ds)
    # The raw text is read and parsed once: the drift checks, the count and both writes
    # read the persisted parse (before, each of them parsed the JSON again).
    parsed = keep(parse(read_raw_lines(spark, path)))
    try:  # a failure must not leave the day's rows persisted for a later run in this session
        drift_report = check_drift(parsed)  # raises before anything is written
        good, bad = split(parsed, ds)
        result = count_records(
            JobResult(job="bronze.web_events", ds=ds),
            parsed,
            files,
            SOURCE,
            raw_lines=raw_line_count(spark, path),
        )
        if drift_report:
            result.extra["schema_drift"] = drift_report
        out = write_partition(spark, good, BRONZE_WEB_EVENTS, ds, settings)
        q = write_partition(
            spark, bad, QUARANTINE, ds, settings, {"layer": "bronze", "source": SOURCE}
        )
    finally:
        parsed.unpersist()
    result.rows_out, result.rows_quarantined = out["rows"], q["rows"]
    result.versions = {BRONZE_WEB_EVENTS.qualified_name: out["version"]}
    return result.check_accounting()
