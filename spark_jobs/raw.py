"""Locating a day's raw files, with a clear error when a source did not land."""

from __future__ import annotations

from include.raw_sources import RAW_SOURCES
from include.tables import validate_ds


class MissingRawData(RuntimeError):
    """The raw zone has no files for this source and ds: fail loudly, never write empty."""


def require_raw_path(spark, settings, source: str, ds: str) -> str:
    validate_ds(ds)
    if source not in RAW_SOURCES:
        raise ValueError(f"unknown raw source {source!r}")
    folder = settings.raw_path(source, ds)
    jvm = spark._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(folder)
    fs = hpath.getFileSystem(spark._jsc.hadoopConfiguration())
    ext = RAW_SOURCES[source].fmt
    if not fs.exists(hpath):
        raise MissingRawData(f"no raw {source} for ds={ds}: {folder} does not exist")
    names = [s.getPath().getName() for s in fs.listStatus(hpath)]
    if not any(n.endswith("." + ext) for n in names):
        raise MissingRawData(f"no raw {source} for ds={ds}: {folder} has no *.{ext} file")
    return f"{folder}/*.{ext}"


def read_raw_lines(spark, path: str):
    """Every line of the raw files under ``path`` as (``value``, ``source_file``)."""
    from pyspark.sql import functions as F

    return (
        spark.read.option("lineSep", "\n")
        .text(path)
        .select(F.col("value"), F.col("_metadata.file_path").alias("source_file"))
    )
