"""silver.fct_website_events (seed 003): conformed, deduplicated, enriched website events.

From ``bronze.web_events`` for ``ds``:
- conformance: rows without a timestamp, with a malformed hostname, an action type outside
  the enumeration, no IP / user agent, or a bot user agent go to quarantine with the reason;
- deduplication: one row per ``event_id`` (duplicate deliveries -> quarantine
  ``duplicate_event``), then one row per primary key (``logged_out_user_id``,
  ``event_timestamp``) (-> ``duplicate_primary_key``);
- enrichment: ``dim_country`` from the IP, ``dim_device_brand`` from the user agent,
  ``logged_out_user_id`` = a keyed pseudonym of the IP and user agent (below); the raw IP
  is dropped.

The raw IP never reaches silver (issue 9):

- ``logged_out_user_id`` = ``CAST(hash(sha2(K || ':' || length(ip) || ':' || ip ||
  user_agent, 256)) AS BIGINT)``: Spark's murmur3 ``hash`` (seed 003's hash family and
  BIGINT type) over a SHA-256 digest keyed with the secret ``K`` = ``LAKEHOUSE_PSEUDONYM_KEY``
  (``include.settings``; generated once by ``scripts/setup.sh``, never committed). An unkeyed
  ``hash(ip, user_agent)`` was reversible: ``dim_country`` leaves 1-4 /8 blocks and
  ``dim_device_brand`` about one user agent, so trying every candidate IP found it in
  minutes. Keying murmur3 directly, ``hash(K, ip, user_agent)``, is not enough: murmur3's
  steps are invertible, so one known (ip, user agent, id) - anyone's own visit - gives back
  the 32-bit state ``K`` leaves, and that state then serves as the key for every other row
  (``tests/unit/slice/test_ip_never_in_silver.py``). SHA-256 does not give ``K`` back.
  The key must be stable: changing it changes every visitor's id (silver and the gold tables
  and readouts built on it), so a visitor's history before and after the change no longer
  joins. The job fails before any Spark work when the key is missing or shorter than 16
  characters.
- The key never appears in a query plan (``explain``, the SQL UI's plan graph, event logs):
  it is not a literal but the one value of a broadcast one-row frame cross-joined in, so
  plans show only a column name. ``spark.sql.redaction.string.regex`` would not do: Spark
  4 redacts the plan text but not the plan graph's node descriptions.
- ``other_properties`` drops every entry whose key names an IP address (``ip``,
  ``ip_address``, ``client_ip``, ``remote_addr``, ``x_forwarded_for``, ``x_real_ip``, any
  key ending in ``_ip``; case, ``-`` and camelCase ignored) or whose whole value is an IPv4
  / IPv6 address or a comma-separated list of them (optionally ``:port`` or ``[v6]:port``).
  Only whole values: ``v1.2.3.4-beta``, ``1.2.3`` or a URL with an IP host are kept; a
  4-part dotted number such as a version ``1.2.3.4`` is dropped (it cannot be told from an
  address). The quarantined record carries the same filtered ``properties``; the count of
  dropped entries is the job result's ``extra["ip_properties_dropped"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.engine import keep
from include.enrichment import HOSTNAME_PATTERN, device_brand, is_bot, with_country
from include.raw_sources import ACTION_TYPES
from include.settings import validate_pseudonym_key
from include.table_catalog import BRONZE_WEB_EVENTS, FCT_WEBSITE_EVENTS, QUARANTINE
from spark_jobs.common import JobResult, quarantine_rows

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

SOURCE = "web_events"
# Columns of the raw event kept in other_properties (seed 003: "any other valid properties").
CARRIED_PROPERTIES = ("event_id", "url", "referrer", "utm_source", "session_id")

# A property key naming an IP address, matched on the key in snake case (``clientIp``,
# ``Client-IP`` and ``CLIENT_IP`` all become ``client_ip``): ip, ip_address, ip_addr, ipv4,
# ipv6, client_ip and any other *_ip (*_ip_address), remote_addr, x_forwarded_for, x_real_ip,
# forwarded. Not zip, tip or is_vip: ``ip`` must start the key or follow an underscore.
IP_KEY_PATTERN = (
    r"^(?:.*_)?ip(?:v[46])?(?:_?addr(?:ess)?)?$"
    r"|^remote_?addr(?:ess)?$|^x_?forwarded(?:_?for)?$|^forwarded(?:_?for)?$|^x_?real_?ip$"
)
_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_H16 = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (
    rf"(?:(?:{_H16}:){{7}}{_H16}"  # full form
    rf"|(?:{_H16}(?::{_H16}){{0,6}})?::(?:{_H16}(?::{_H16}){{0,6}})?"  # compressed (::)
    rf"|(?:{_H16}:){{6}}{_IPV4}"  # IPv4 tail
    rf"|(?:{_H16}(?::{_H16}){{0,5}})?::(?:{_H16}:){{0,5}}{_IPV4})"  # ::ffff:1.2.3.4
    r"(?:%[0-9A-Za-z._-]+)?"  # zone id
)
_ADDRESS = rf"(?:{_IPV4}(?::\d{{1,5}})?|{_IPV6}|\[{_IPV6}\](?::\d{{1,5}})?)"
# A whole value that is an IP address, or a list of them (X-Forwarded-For); not a value that
# merely contains one (a URL, "v1.2.3.4-beta").
IP_VALUE_PATTERN = rf"^\s*{_ADDRESS}(?:\s*,\s*{_ADDRESS})*\s*$"


def with_conformance_reason(df: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    return df.withColumn(
        "reason",
        F.when(F.col("event_timestamp").isNull(), F.lit("missing_event_time"))
        .when(F.col("hostname").isNull(), F.lit("missing_hostname"))
        .when(~F.col("hostname").rlike(HOSTNAME_PATTERN), F.lit("bad_hostname"))
        .when(F.col("action_type").isNull(), F.lit("missing_action_type"))
        .when(~F.col("action_type").isin(*ACTION_TYPES), F.lit("unknown_action_type"))
        .when(F.col("ip").isNull() | F.col("user_agent").isNull(), F.lit("missing_ip_or_ua"))
        .when(is_bot(F.col("user_agent")), F.lit("bot_traffic")),
    )


def with_rank(df: DataFrame, keys: list, name: str) -> DataFrame:
    """Deterministic rank within ``keys``: earliest event first, then by raw-record hash."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    window = Window.partitionBy(*keys).orderBy("event_timestamp", "_record_hash")
    return df.withColumn(name, F.row_number().over(window))


def pseudonym(key: Column, ip: Column, user_agent: Column) -> Column:
    """``logged_out_user_id``: murmur3 (Spark's ``hash``, as BIGINT) of a SHA-256 digest of the
    key, the IP and the user agent. The IP's length is spelled out so that no other (ip, user
    agent) pair gives the same digest input. Null when the IP or user agent is null (those rows
    are quarantined)."""
    from pyspark.sql import functions as F

    material = F.concat(key, F.lit(":"), F.length(ip).cast("string"), F.lit(":"), ip, user_agent)
    return F.hash(F.sha2(material, 256)).cast("bigint")


def with_enrichment(df: DataFrame, spark: SparkSession, key: str) -> DataFrame:
    from pyspark.sql import functions as F

    # The key joins as data, not as a literal: a literal is printed in every plan (explain,
    # the SQL UI's plan graph, event logs); a broadcast one-row frame prints as a column name.
    keyed = F.broadcast(
        spark.createDataFrame([(validate_pseudonym_key(key),)], "_pseudonym_key STRING")
    )
    return (
        with_country(df, "ip", spark)
        .crossJoin(keyed)
        .select(
            "*",
            pseudonym(F.col("_pseudonym_key"), F.col("ip"), F.col("user_agent")).alias(
                "logged_out_user_id"
            ),
            device_brand(F.col("user_agent")).alias("dim_device_brand"),
        )
        .drop("_pseudonym_key")
    )


def is_ip_key(key: Column) -> Column:
    """The property key names an IP address (``IP_KEY_PATTERN``, on the key in snake case)."""
    from pyspark.sql import functions as F

    snake = F.lower(
        F.regexp_replace(F.regexp_replace(key, r"([a-z0-9])([A-Z])", "$1_$2"), r"[-.\s]+", "_")
    )
    return snake.rlike(IP_KEY_PATTERN)


def is_ip_value(value: Column) -> Column:
    """The whole value is an IPv4 / IPv6 address or a list of them (``IP_VALUE_PATTERN``)."""
    from pyspark.sql import functions as F

    return F.coalesce(value.rlike(IP_VALUE_PATTERN), F.lit(False))


def without_ip_entries(properties: Column) -> Column:
    """``properties`` less every entry whose key names an IP or whose value is one."""
    from pyspark.sql import functions as F

    return F.map_filter(properties, lambda k, v: ~(is_ip_key(k) | is_ip_value(v)))


def with_safe_properties(df: DataFrame) -> DataFrame:
    """The raw properties without IP entries, worked out once per row (``label``'s frame is
    persisted, so the facts, the quarantine and the dropped-entries count reuse them):
    ``_safe_properties``, the ``properties`` map (facts and quarantine), and
    ``_safe_carried``, the non-null carried columns whose value is not an IP (facts)."""
    from pyspark.sql import functions as F

    carried = F.create_map(*[x for c in CARRIED_PROPERTIES for x in (F.lit(c), F.col(c))])
    return df.withColumn("_safe_properties", without_ip_entries(df["properties"])).withColumn(
        "_safe_carried", F.map_filter(carried, lambda _, v: v.isNotNull() & ~is_ip_value(v))
    )


def with_other_properties(df: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    own = F.map_filter("_safe_properties", lambda k, _: ~k.isin(*CARRIED_PROPERTIES))
    return df.withColumn("other_properties", F.map_concat(own, F.col("_safe_carried")))


def ip_entries_dropped() -> Column:
    """Per labelled row: the property entries kept out of silver because they named or held an
    IP (from ``properties`` for every row; a carried column whose value is an IP, for facts)."""
    from pyspark.sql import functions as F

    def size(name: str) -> Column:
        return F.coalesce(F.size(F.col(name)), F.lit(0))

    carried = sum(
        (F.when(F.col(c).isNotNull(), 1).otherwise(0) for c in CARRIED_PROPERTIES), F.lit(0)
    )
    return (
        size("properties")
        - size("_safe_properties")
        + F.when(F.col("reason").isNull(), carried - size("_safe_carried")).otherwise(0)
    )


def label(bronze: DataFrame, spark: SparkSession, key: str) -> DataFrame:
    """Every bronze row, enriched, with ``reason`` why it is rejected (null: it is a fact).

    In order: a conformance rule; ``duplicate_event`` for all but the first delivery of an
    ``event_id`` among conforming rows; ``duplicate_primary_key`` for all but the first of
    the remaining rows sharing (``logged_out_user_id``, ``event_timestamp``). One frame, so
    the job computes the ranks once and writes the facts and the quarantine from it.
    """
    from pyspark.sql import functions as F

    validate_pseudonym_key(key)  # before any Spark work
    checked = with_safe_properties(with_enrichment(with_conformance_reason(bronze), spark, key))
    conforming = F.col("reason").isNull()
    ranked = with_rank(
        checked.withColumn("_conforming", conforming), ["_conforming", "event_id"], "_event_rank"
    )
    candidate = F.col("_conforming") & (F.col("_event_rank") == 1)
    ranked = with_rank(
        ranked.withColumn("_candidate", candidate),
        ["_candidate", "logged_out_user_id", "event_timestamp"],
        "_pk_rank",
    )
    return ranked.withColumn(
        "reason",
        F.when(~F.col("_conforming"), F.col("reason"))
        .when(F.col("_event_rank") > 1, F.lit("duplicate_event"))
        .when(F.col("_pk_rank") > 1, F.lit("duplicate_primary_key")),
    ).drop("_conforming", "_candidate", "_event_rank", "_pk_rank")


def split(labeled: DataFrame, bronze_columns: list[str], ds: str) -> tuple[DataFrame, DataFrame]:
    """``label``'s rows -> (fct_website_events rows for ds, quarantine rows)."""
    from pyspark.sql import functions as F

    facts = with_other_properties(labeled.where(F.col("reason").isNull())).select(
        "user_id",
        "logged_out_user_id",
        F.col("hostname").alias("dim_hostname"),
        "dim_country",
        "dim_device_brand",
        F.col("action_type").alias("dim_action_type"),
        "event_timestamp",
        "other_properties",
        F.lit(ds).alias("ds"),
    )
    # The quarantined record drops the raw IP too: it must not outlive bronze. Its properties
    # are the filtered ones, like other_properties.
    record = F.to_json(
        F.struct(
            *[
                F.col("_safe_properties").alias(c) if c == "properties" else F.col(c)
                for c in bronze_columns
                if c not in ("ip", "ds")
            ]
        )
    )
    quarantine = quarantine_rows(
        labeled.where(F.col("reason").isNotNull()),
        source=SOURCE,
        layer="silver",
        reason=F.col("reason"),
        ds=ds,
        record=record,
        source_file=F.col("_source_file"),
        record_hash=F.col("_record_hash"),
    )
    return facts, quarantine


def transform(
    bronze: DataFrame, ds: str, spark: SparkSession, key: str
) -> tuple[DataFrame, DataFrame]:
    """Returns (fct_website_events rows for ds, quarantine rows); ``key``: the pseudonym key."""
    return split(label(bronze, spark, key), bronze.columns, ds)


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from pyspark.sql import functions as F

    from include.tables import read_partition, table_version, write_partition

    key = settings.require_pseudonym_key()  # before any Spark work: fail fast and clearly
    bronze = read_partition(spark, BRONZE_WEB_EVENTS, ds, settings)
    # Labelled once: the count and both writes read the persisted rows (before, the
    # quarantine write ranked and enriched the day's events a second time).
    labeled = keep(label(bronze, spark, key))
    try:  # a failure must not leave the day's rows persisted for a later run in this session
        rows_in, dropped = labeled.agg(
            F.count(F.lit(1)), F.coalesce(F.sum(ip_entries_dropped()), F.lit(0))
        ).first()
        result = JobResult(job="silver.fct_website_events", ds=ds, rows_in=rows_in)
        # Not silent: an upstream that starts sending IPs in properties shows here.
        result.extra["ip_properties_dropped"] = int(dropped)
        facts, quarantine = split(labeled, bronze.columns, ds)
        out = write_partition(spark, facts, FCT_WEBSITE_EVENTS, ds, settings)
        q = write_partition(
            spark, quarantine, QUARANTINE, ds, settings, {"layer": "silver", "source": SOURCE}
        )
    finally:
        labeled.unpersist()
    result.rows_out, result.rows_quarantined = out["rows"], q["rows"]
    result.versions = {
        BRONZE_WEB_EVENTS.qualified_name: table_version(spark, BRONZE_WEB_EVENTS, settings),
        FCT_WEBSITE_EVENTS.qualified_name: out["version"],
    }
    return result.check_accounting()
