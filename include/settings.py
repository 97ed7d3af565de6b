"""One place for every setting the lakehouse reads: environment variables with local defaults.

Everything that differs between a laptop and a cluster lives here (the Spark master,
the S3 endpoint, the warehouse location, the metastore), so moving to a cluster is a
configuration change, not a code change. Credentials are read from the environment only
(locally ``scripts/setup.sh`` generates them once into ``var/credentials.env``, which
``scripts/env.sh`` loads); no file in the repository holds one.

The pseudonym key (``LAKEHOUSE_PSEUDONYM_KEY``) is such a secret too: the silver job keys the
visitor pseudonym ``logged_out_user_id`` with it (``spark_jobs/silver/fct_website_events.py``).
It reaches every path through the environment only: ``scripts/env.sh`` exports the
credentials file to every script, the Airflow processes it starts and the ``spark-submit``
they run (whose driver runs ``spark_jobs/run.py`` -> :func:`load_settings`); tests set a fixed,
public test key (``tests/conftest.py``). It is deliberately not a Spark setting: only the
Python driver needs it, so it is in no ``spark-defaults.conf``, JVM argument or Spark UI page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PSEUDONYM_KEY_ENV = "LAKEHOUSE_PSEUDONYM_KEY"
MIN_PSEUDONYM_KEY_LENGTH = 16


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def validate_pseudonym_key(key: str | None) -> str:
    """``key`` if it may key the visitor pseudonym, else a ``RuntimeError`` saying what to do.

    The key must stay the same for the life of the tables: changing it changes every
    visitor's ``logged_out_user_id`` (silver and everything derived from it in gold).
    The messages never include the key.
    """
    if not key:
        raise RuntimeError(
            f"{PSEUDONYM_KEY_ENV} is not set: it keys the visitor pseudonym "
            "(silver.fct_website_events.logged_out_user_id). Run `make setup` (it adds a "
            "generated key to $LAKEHOUSE_STATE_DIR/credentials.env, keeping an existing one) "
            "and source scripts/env.sh, or set it in the environment (on a cluster: from the "
            "secret store, the same key for every run)"
        )
    if len(key) < MIN_PSEUDONYM_KEY_LENGTH:
        raise RuntimeError(
            f"{PSEUDONYM_KEY_ENV} is too short ({len(key)} characters, at least "
            f"{MIN_PSEUDONYM_KEY_LENGTH}): a short key can be guessed, and with it every "
            "visitor's IP address recovered from logged_out_user_id"
        )
    return key


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Build it with :func:`load_settings`, never by hand in jobs."""

    state_dir: Path
    spark_master: str
    shuffle_partitions: int
    min_partitions: int
    driver_memory: str
    s3_endpoint: str
    # Secrets (these, pseudonym_key and connect_token) are kept out of repr(), so that
    # printing or logging the settings never shows them (tests/unit/test_security.py).
    s3_access_key: str = field(repr=False)
    s3_secret_key: str = field(repr=False)
    s3_region: str
    raw_bucket: str
    warehouse_bucket: str
    jars_dir: Path
    metastore_url: str
    metastore_user: str
    metastore_password: str = field(repr=False)
    metastore_driver: str
    reports_dir: Path
    exports_dir: Path
    # Great Expectations' projects and Data Docs, one per ds (include/quality.py)
    gx_dir: Path
    extra_spark_conf: dict[str, str] = field(default_factory=dict)
    # Secret: kept out of repr() so that printing or logging the settings never shows it.
    pseudonym_key: str = field(default="", repr=False)
    # The Spark Connect server (include/engine.py, include/engine_server.py): where clients
    # reach it, the heap of its driver (the one JVM every task shares) and its token (secret).
    connect_host: str = "127.0.0.1"
    connect_port: int = 15002
    connect_memory: str = "6g"
    connect_token: str = field(default="", repr=False)

    def require_pseudonym_key(self) -> str:
        """The pseudonym key; a clear error when it is missing or too short (see
        :func:`validate_pseudonym_key`)."""
        return validate_pseudonym_key(self.pseudonym_key)

    @property
    def raw_root(self) -> str:
        """Root of the raw landing zone (one folder per source and per ``ds``)."""
        return _env("LAKEHOUSE_RAW_ROOT", f"s3a://{self.raw_bucket}")

    @property
    def warehouse_root(self) -> str:
        """Root under which bronze/silver/gold Delta tables live."""
        return _env("LAKEHOUSE_WAREHOUSE_ROOT", f"s3a://{self.warehouse_bucket}")

    def table_path(self, layer: str, table: str) -> str:
        return f"{self.warehouse_root}/{layer}/{table}"

    def raw_path(self, source: str, ds: str) -> str:
        return f"{self.raw_root}/{source}/ds={ds}"


def load_settings() -> Settings:
    state_dir = Path(_env("LAKEHOUSE_STATE_DIR", str(PROJECT_ROOT / "var")))
    return Settings(
        state_dir=state_dir,
        spark_master=_env("LAKEHOUSE_SPARK_MASTER", "local[2]"),
        # Shuffles start this wide and adaptive execution merges them back: into
        # min_partitions or more when the data allows partitions of >= 1 MB, else fewer (on
        # local[2] 10k rows ended in 1 partition, 3M rows in 4), so a small day runs no more
        # tasks than with 4; a 10M-event day no longer gets 2.5 GB partitions, which ran out
        # of memory (UNABLE_TO_ACQUIRE_MEMORY in gold.experiments.base at 4).
        shuffle_partitions=int(_env("LAKEHOUSE_SHUFFLE_PARTITIONS", "64")),
        min_partitions=int(_env("LAKEHOUSE_MIN_PARTITIONS", "4")),
        driver_memory=_env("LAKEHOUSE_DRIVER_MEMORY", "2g"),
        s3_endpoint=_env("LAKEHOUSE_S3_ENDPOINT", "http://127.0.0.1:9000"),
        s3_access_key=_env("LAKEHOUSE_S3_ACCESS_KEY", ""),
        s3_secret_key=_env("LAKEHOUSE_S3_SECRET_KEY", ""),
        s3_region=_env("LAKEHOUSE_S3_REGION", "us-east-1"),
        raw_bucket=_env("LAKEHOUSE_RAW_BUCKET", "raw"),
        warehouse_bucket=_env("LAKEHOUSE_WAREHOUSE_BUCKET", "warehouse"),
        jars_dir=Path(_env("LAKEHOUSE_JARS_DIR", str(state_dir / "jars"))),
        metastore_url=_env(
            "LAKEHOUSE_METASTORE_URL", "jdbc:postgresql://127.0.0.1:5433/metastore"
        ),
        metastore_user=_env("LAKEHOUSE_METASTORE_USER", "lakehouse"),
        metastore_password=_env("LAKEHOUSE_METASTORE_PASSWORD", ""),
        metastore_driver=_env("LAKEHOUSE_METASTORE_DRIVER", "org.postgresql.Driver"),
        reports_dir=Path(_env("LAKEHOUSE_REPORTS_DIR", str(state_dir / "reports"))),
        exports_dir=Path(_env("LAKEHOUSE_EXPORTS_DIR", str(state_dir / "exports"))),
        gx_dir=Path(_env("LAKEHOUSE_GX_DIR", str(state_dir / "gx"))),
        pseudonym_key=_env(PSEUDONYM_KEY_ENV, ""),
        connect_host=_env("LAKEHOUSE_CONNECT_HOST", "127.0.0.1"),
        connect_port=int(_env("LAKEHOUSE_CONNECT_PORT", "15002")),
        connect_memory=_env("LAKEHOUSE_CONNECT_MEMORY", "6g"),
        connect_token=_env("LAKEHOUSE_CONNECT_TOKEN", ""),
    )
