"""Enrichment rules for web events: IP -> country, user agent -> device brand, bot detection.

Written with Spark built-ins (no Python UDFs). The IP table is the project's stand-in for a
GeoIP database (``conf/reference/ip_country.csv``: /8 blocks -> ISO country); in production
the same join runs against a licensed GeoIP range table.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from typing import TYPE_CHECKING

from include.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

UNKNOWN = "unknown"
IP_COUNTRY_CSV = PROJECT_ROOT / "conf" / "reference" / "ip_country.csv"

# Ordered: the first matching rule names the brand. Tablets before phones, phones before OS.
DEVICE_BRAND_RULES: tuple[tuple[str, str], ...] = (
    (r"(?i)\bipad\b", "ipad"),
    (r"(?i)\biphone\b", "iphone"),
    (r"(?i)\bSM-[A-Z0-9]+|samsung", "samsung"),
    (r"(?i)\bpixel\b", "google"),
    (r"(?i)android", "android"),
    (r"(?i)macintosh|mac os x", "apple"),
    (r"(?i)windows", "windows"),
    (r"(?i)linux|x11", "linux"),
)
BOT_PATTERN = r"(?i)bot\b|bot/|crawler|spider|headless|python-requests|curl/"
# seed 003: "dim_hostname is well formatted (something like this www.xx.com)"
HOSTNAME_PATTERN = (
    r"^www\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$"
)


@lru_cache(maxsize=1)
def ip_country_rows() -> tuple[tuple[int, str], ...]:
    with IP_COUNTRY_CSV.open() as fh:
        return tuple((int(r["first_octet"]), r["country"]) for r in csv.DictReader(fh))


def ip_country_table(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(list(ip_country_rows()), "first_octet INT, country STRING")


def first_octet(ip: Column) -> Column:
    from pyspark.sql import functions as F

    octet = F.split(ip, r"\.").getItem(0)
    return F.when(ip.rlike(r"^\d{1,3}(\.\d{1,3}){3}\z"), octet.try_cast("int"))


def device_brand(user_agent: Column) -> Column:
    from pyspark.sql import functions as F

    expr = None
    for pattern, brand in DEVICE_BRAND_RULES:
        cond = user_agent.rlike(pattern)
        expr = F.when(cond, F.lit(brand)) if expr is None else expr.when(cond, F.lit(brand))
    return expr.otherwise(F.lit("other"))


def is_bot(user_agent: Column) -> Column:
    return user_agent.rlike(BOT_PATTERN)


def with_country(df: DataFrame, ip_col: str, spark: SparkSession, out: str = "dim_country"):
    """Left-join the (broadcast) IP table on the first octet; unmapped -> 'unknown'."""
    from pyspark.sql import functions as F

    table = F.broadcast(ip_country_table(spark))
    joined = df.withColumn("_octet", first_octet(F.col(ip_col))).join(
        table, F.col("_octet") == table["first_octet"], "left"
    )
    return joined.withColumn(out, F.coalesce(F.col("country"), F.lit(UNKNOWN))).drop(
        "_octet", "first_octet", "country"
    )
