"""maintenance.catalog: the metastore's data dictionary and ``_current`` views, up to date.

New tables get both when they are created (``include.tables.ensure_table``); this job brings
a warehouse created before them (or after a comment changed in ``include.data_dictionary``)
up to date: one ``ALTER COLUMN ... COMMENT`` per column whose comment differs, and
``CREATE OR REPLACE VIEW gold.<table>_current`` for every experiment-to-date table
(``include.catalog``). Idempotent: a second run sets no comment. ``make catalog`` runs it.
"""

from __future__ import annotations

from spark_jobs.common import JobResult


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.catalog import sync_catalog
    from include.tables import validate_ds

    validate_ds(ds)
    done = sync_catalog(spark, settings)
    return JobResult(job="maintenance.catalog", ds=ds, extra=done)
