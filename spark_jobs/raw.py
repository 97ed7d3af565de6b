"""The bronze jobs' raw-line policy (the reason a line is rejected) and the empty-file
policy; locating and reading the files is shared code (``include.raw_reader``).

Empty files (issue #9): a file of the day that holds no record (0 bytes, or a CSV file with
only its header) is *legitimate* upstream output, so it does not fail the job: the generator
writes a 0-byte ``experiment_assignments`` file on every day no experiment runs (every day
after 2024-03-31 at any scale) and header-only CSV files for ``orders``,
``support_tickets``, ``nps_responses`` and ``billing_events`` on quiet days at small scales
(1000 - 5000 events/day). It is never silent either: the bronze job counts those files in its
result (``extra["empty_files"]``) and logs a warning naming the source, ds and files, louder
when every file of the day is empty (the day loads 0 rows). A source folder that is missing,
or has no file of the source's format, is ``include.raw_reader.MissingRawData``.
A file of blank lines is not empty: each blank line is a record, quarantined as
``empty_line``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from spark_jobs.common import JobResult

log = logging.getLogger(__name__)


def line_reason(value: Column) -> Column:
    """The rules every raw line meets before its format is judged, as the start of a
    first-match-wins chain (each bronze path adds its own ``.when`` rules after them):
    ``bad_encoding`` (the line's bytes are not valid UTF-8), then ``empty_line``.

    ``bad_encoding`` comes first: a line that does not decode has no text to judge, and the
    JSON / CSV parser would read a replaced (altered) copy of it, so no later verdict on it
    is meaningful; a line holding an invalid byte is never blank, so its order relative to
    ``empty_line`` changes nothing. The check is on the bytes (``is_valid_utf8``), not on
    U+FFFD in a decoded line: a U+FFFD that the source encoded validly (EF BF BD) is text as
    delivered and loads unchanged. It may be the trace of a lossy decode further upstream,
    but bronze cannot tell that from a real character, and rejecting it would reject text
    that decodes exactly.
    """
    from pyspark.sql import functions as F

    return F.when(~F.is_valid_utf8(value), F.lit("bad_encoding")).when(
        F.trim(value) == "", F.lit("empty_line")
    )


def rejected_record(value: Column, reason: Column) -> Column:
    """What the quarantine keeps of a raw line: the line itself where it is rejected (null
    for a good line). A ``bad_encoding`` line is kept with each undecodable byte replaced by
    U+FFFD, so the quarantine table stays valid UTF-8 for every reader; its reason says so,
    and its ``record_hash`` (sha256 of the bytes as delivered) and ``source_file`` point at
    the exact bytes in the raw zone."""
    from pyspark.sql import functions as F

    return F.when(reason == "bad_encoding", F.make_valid_utf8(value)).when(
        reason.isNotNull(), value
    )


def records_per_file(parsed: DataFrame) -> dict[str, int]:
    """``{source_file: records}`` of a bronze job's parsed rows (a file without any is absent)."""
    return {r.source_file: r["count"] for r in parsed.groupBy("source_file").count().collect()}


def file_name(source_file: str) -> str:
    """The file name of a ``_metadata.file_path`` URI (percent-decoded, like Hadoop's names)."""
    return unquote(source_file.rstrip("/").rsplit("/", 1)[-1])


def empty_files(
    source: str, ds: str, names: Sequence[str], per_file: Mapping[str, int]
) -> list[str]:
    """The day's files (``names``, from ``include.raw_reader.require_raw_files``) that hold
    no record, with a warning in the task log when there are any (the policy in the module
    docstring)."""
    with_records = {file_name(path) for path, n in per_file.items() if n}
    empty = [name for name in names if name not in with_records]
    if empty and len(empty) == len(names):
        log.warning(
            "raw %s ds=%s: all %d files are empty (no record): the day loads 0 rows; %s",
            source, ds, len(empty), empty,
        )  # fmt: skip
    elif empty:
        log.warning(
            "raw %s ds=%s: %d of %d files are empty (no record): %s",
            source, ds, len(empty), len(names), empty,
        )  # fmt: skip
    return empty


def count_records(
    result: JobResult,
    parsed: DataFrame,
    names: Sequence[str],
    source: str,
    *,
    raw_lines: int,
    header_lines: int = 0,
) -> JobResult:
    """Set ``result.rows_in`` to the records the day's files hold, counted independently of
    the parse: ``raw_lines`` (``include.raw_reader.raw_line_count``) less the CSV
    ``header_lines`` (one per file with a header; a header line repeated inside a file is
    not dropped silently, it breaks the accounting). Count the empty files of ``parsed`` in
    ``result.extra["empty_files"]`` (only when there are any, like ``schema_drift``)."""
    per_file = records_per_file(parsed)
    result.rows_in = raw_lines - header_lines
    result.extra["raw_lines"] = raw_lines
    if header_lines:
        result.extra["header_lines"] = header_lines
    empty = empty_files(source, result.ds, names, per_file)
    if empty:
        result.extra["empty_files"] = len(empty)
    return result
