"""What every job shares: quarantine rows, row accounting, the job result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


@dataclass
class JobResult:
    """What a job did for one ds; printed as JSON by the runner and pushed to XCom."""

    job: str
    ds: str
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def check_accounting(self) -> JobResult:
        """rows in = rows out + rows quarantined, or the job fails: nothing is lost silently."""
        if self.rows_in != self.rows_out + self.rows_quarantined:
            raise RuntimeError(
                f"{self.job} ds={self.ds}: row accounting broken: in={self.rows_in} "
                f"out={self.rows_out} quarantined={self.rows_quarantined}"
            )
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def quarantine_rows(
    df: DataFrame,
    *,
    source: str,
    layer: str,
    reason: Column,
    ds: str,
    record: Column,
    source_file: Column,
    record_hash: Column,
) -> DataFrame:
    """Shape rejected rows for ``bronze.quarantine`` (one schema for every job)."""
    from pyspark.sql import functions as F

    return df.select(
        F.lit(source).alias("source"),
        F.lit(layer).alias("layer"),
        reason.alias("reason"),
        record.cast("string").alias("record"),
        source_file.cast("string").alias("source_file"),
        record_hash.cast("string").alias("record_hash"),
        F.lit(ds).alias("ds"),
    )
