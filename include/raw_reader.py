"""Locating and reading a day's raw files: shared by the bronze jobs (which load them) and
the gates' row accounting (``include.quality_checks``, which counts their lines on its own).

A source folder that is missing, or has no file of the source's format, is
:class:`MissingRawData` (nothing is written). The files are listed from the object store
itself (``include.storage``), never through the JVM: a job may run as a Spark Connect client.
"""

from __future__ import annotations

from include.raw_sources import RAW_SOURCES
from include.storage import list_names
from include.tables import validate_ds


class MissingRawData(RuntimeError):
    """The raw zone has no files for this source and ds: fail loudly, never write empty."""


def require_raw_files(spark, settings, source: str, ds: str) -> tuple[str, list[str]]:
    """``(glob of the day's files, their names)``, or :class:`MissingRawData`.

    The names are those the glob reads: the source's extension, not hidden (Spark's file
    listing skips names starting with ``_`` or ``.``).
    """
    validate_ds(ds)
    if source not in RAW_SOURCES:
        raise ValueError(f"unknown raw source {source!r}")
    folder = settings.raw_path(source, ds)
    ext = RAW_SOURCES[source].fmt
    # Listed from the object store itself (include.storage), not through the JVM: the job
    # may run as a Spark Connect client, which has no Hadoop FileSystem of its own.
    listed = list_names(folder, settings)
    if listed is None:
        raise MissingRawData(f"no raw {source} for ds={ds}: {folder} does not exist")
    names = [n for n in listed if n.endswith("." + ext) and not n.startswith(("_", "."))]
    if not names:
        raise MissingRawData(f"no raw {source} for ds={ds}: {folder} has no *.{ext} file")
    return f"{folder}/*.{ext}", names


def require_raw_path(spark, settings, source: str, ds: str) -> str:
    """The glob of the day's raw files of ``source``, or :class:`MissingRawData`."""
    return require_raw_files(spark, settings, source, ds)[0]


def read_raw_lines(spark, path: str):
    """Every line of the raw files under ``path`` as (``value``, ``source_file``).

    ``value`` holds the line's bytes as they are in the file (Spark's text reader does not
    decode them: an invalid UTF-8 byte stays in the string until something renders it), so
    the bronze jobs can tell an undecodable line (``bad_encoding``) from a decoded one.
    """
    from pyspark.sql import functions as F

    return (
        spark.read.option("lineSep", "\n")
        .text(path)
        .select(F.col("value"), F.col("_metadata.file_path").alias("source_file"))
    )


def raw_line_count(spark, path: str) -> int:
    """Lines of the raw files under ``path``, counted by a read of their own.

    The bronze jobs take their rows in from this count, not from the frame they parse and
    split, so a line lost anywhere between the file and the two writes (a filter, a parse
    that drops rows, a join) breaks the job's row accounting instead of going unseen. The
    reader's options are those of :func:`read_raw_lines`, so both see the same lines.
    """
    return spark.read.option("lineSep", "\n").text(path).count()
