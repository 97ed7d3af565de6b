"""Fixtures shared by every test: the repo on sys.path, one local Spark session, temp tables.

The Spark session follows delta-io's testing utils: local[2], UI off, few shuffle partitions,
the Delta extension and catalog, no metastore; every test gets its own warehouse directory
(``lakehouse_env``), so tests never touch MinIO or each other's tables.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from include.settings import load_settings
    from include.spark import build_spark

    session = build_spark(
        "lakehouse-tests",
        load_settings(),
        metastore=False,
        overrides={
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            # the session catalog's own directory: local, so unit tests need no object store
            "spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("spark-warehouse")),
        },
    )
    yield session
    session.stop()
    # py4j logs "Closing down clientserver connection" from __del__ at interpreter exit, after
    # pytest has closed the streams its handlers write to: a "Logging error" traceback.
    logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture
def lakehouse_env(tmp_path, monkeypatch):
    """Point the settings at a fresh local warehouse and raw zone; returns the Settings."""
    from include.settings import load_settings

    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    monkeypatch.setenv("LAKEHOUSE_RAW_ROOT", str(tmp_path / "raw"))
    monkeypatch.setenv("LAKEHOUSE_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("LAKEHOUSE_EXPORTS_DIR", str(tmp_path / "exports"))
    return load_settings()
