"""The one Spark session builder: Delta, ``s3a://`` on the configured endpoint, the metastore.

``spark_conf`` is the single definition of the Spark settings. The session builder uses it,
``scripts/spark_conf.py`` renders it into ``spark-defaults.conf`` for ``spark-sql``,
``spark-submit`` and the Thrift server, so every entry point sees the same catalog and store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from include.settings import Settings, load_settings

if TYPE_CHECKING:  # pyspark is heavy; import it only when a session is really built
    from pyspark.sql import SparkSession


LOGSTORE_JAR = "lakehouse-delta-logstore.jar"


def jvm_classpath(settings: Settings) -> list[str]:
    """Jars resolved by ``scripts/setup.sh`` from ``conf/jvm/pom.xml`` (Delta, hadoop-aws, JDBC)
    and the Delta log store it builds from ``conf/jvm/logstore``."""
    listing = settings.state_dir / "jvm.classpath"
    if not listing.exists():
        raise RuntimeError(
            f"{listing} is missing: run `make setup` (it resolves the pinned Delta and "
            "hadoop-aws jars from Maven Central)"
        )
    jars = [p for p in listing.read_text().strip().split(os.pathsep) if p]
    missing = [j for j in jars if not Path(j).exists()]
    if missing:
        raise RuntimeError(f"jars listed in {listing} are missing: {missing}; run `make setup`")
    if not any(Path(j).name == LOGSTORE_JAR for j in jars):
        # spark_conf names its log store class: without the jar every Delta commit on S3 fails
        raise RuntimeError(
            f"{listing} lacks {LOGSTORE_JAR} (the Delta log store, conf/jvm/logstore): "
            "run `make setup` (or scripts/jvm_classpath.sh) to build it"
        )
    return jars


def _jar_settings(settings: Settings) -> dict[str, str]:
    jars = jvm_classpath(settings)
    if os.environ.get("LAKEHOUSE_SPARK_JARS_MODE", "classpath") == "ship":
        return {"spark.jars": ",".join(jars)}
    classpath = os.pathsep.join(jars)
    return {"spark.driver.extraClassPath": classpath, "spark.executor.extraClassPath": classpath}


def spark_conf(settings: Settings, *, metastore: bool = True) -> dict[str, str]:
    """Every Spark setting the lakehouse needs, as plain key/value pairs."""
    conf = {
        "spark.master": settings.spark_master,
        "spark.driver.memory": settings.driver_memory,
        # On the JVM's own classpath, not spark.jars: spark.jars would make every local
        # executor copy the 690 MB AWS SDK bundle before its first task (about a minute).
        # On a cluster whose nodes lack these paths, ship them with spark.jars instead
        # (LAKEHOUSE_SPARK_JARS_MODE=ship).
        **_jar_settings(settings),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        # Also the partition count adaptive coalescing aims for before it merges below it
        # (coalescePartitions.parallelismFirst; partitions of at least 1 MB).
        "spark.default.parallelism": str(settings.min_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        # A persisted frame keeps the partitions of the shuffle it was built from unless
        # adaptive execution may coalesce them (off by default). silver.fct_website_events
        # writes its persisted, ranked day, so each ds partition was 64 files of about 20 kB
        # at 20k events a day, and every experiment-to-date job opened 64 files per day of
        # its window. Coalesced like any other shuffle: a few files per day.
        "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
        "spark.ui.enabled": os.environ.get("LAKEHOUSE_SPARK_UI", "false"),
        "spark.ui.showConsoleProgress": "false",
        # A driver keeps every SQL execution's plan and metrics, and its jobs, stages and tasks,
        # in its status store whether the UI is on or not: 1,000 executions by default. A
        # long-lived driver (the Thrift server, a task running many jobs, the benchmark's
        # history child) filled the 2g heap's old generation with them (stop 17: 82 % of it
        # live after a full GC, 87k plan metrics, GC running constantly). Keep the recent ones.
        "spark.sql.ui.retainedExecutions": "100",
        "spark.ui.retainedJobs": "200",
        "spark.ui.retainedStages": "200",
        "spark.ui.retainedTasks": "20000",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        # Delta: keep table history; checkpoints every 10 commits (the default) keep reads fast.
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        # Delta replays its log with 50 tasks by default; on 2 cores and daily-sized
        # partitions that overhead dominated every commit (measured: 93 s -> see README).
        "spark.databricks.delta.snapshotPartitions": os.environ.get(
            "LAKEHOUSE_DELTA_SNAPSHOT_PARTITIONS", "2"
        ),
        # Spark lists many directories in parallel with one task each, up to this many (10,000
        # by default): Delta's VACUUM (spark_jobs/maintenance) ran 120,000 tasks per table,
        # 17-25 s for a 12-day table of 12 files on 2 cores. With a few: 1.5-3 s.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(settings.min_partitions),
        # s3a on the configured S3-compatible endpoint (MinIO locally, S3 on a cluster).
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": settings.s3_endpoint,
        "spark.hadoop.fs.s3a.endpoint.region": settings.s3_region,
        "spark.hadoop.fs.s3a.access.key": settings.s3_access_key,
        "spark.hadoop.fs.s3a.secret.key": settings.s3_secret_key,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(
            settings.s3_endpoint.startswith("https")
        ).lower(),
        "spark.hadoop.fs.s3a.aws.credentials.provider": (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        ),
        # Fail fast when the object store is down instead of retrying for minutes.
        "spark.hadoop.fs.s3a.attempts.maximum": "3",
        "spark.hadoop.fs.s3a.retry.limit": "3",
        "spark.hadoop.fs.s3a.connection.establish.timeout": "5s",
        "spark.hadoop.fs.s3a.connection.timeout": "30s",
        # Delta commits on S3 with a conditional PUT (If-None-Match: *; S3 and MinIO honour
        # it): when several drivers (parallel DAG runs, spark-submits) commit to one table,
        # exactly one wins each log version and the others get FileAlreadyExistsException,
        # check for logical conflicts (disjoint replaceWhere partitions have none) and retry.
        # Delta's default S3SingleDriverLogStore locks inside one JVM only: two drivers could
        # both write _delta_log/N.json and one commit was silently lost. The class is built
        # from conf/jvm/logstore by scripts/setup.sh; it needs S3A's conditional create
        # (hadoop-aws >= 3.5.0, on by default) and fails a commit rather than write unsafely.
        "spark.delta.logStore.s3a.impl": "io.lakehouse.delta.S3ConditionalPutLogStore",
        "spark.delta.logStore.s3.impl": "io.lakehouse.delta.S3ConditionalPutLogStore",
        "spark.hadoop.fs.s3a.create.conditional.enabled": "true",
        "spark.sql.warehouse.dir": f"{settings.warehouse_root}/catalog",
    }
    if metastore:
        conf.update(
            {
                "spark.sql.catalogImplementation": "hive",
                "spark.hadoop.javax.jdo.option.ConnectionURL": settings.metastore_url,
                "spark.hadoop.javax.jdo.option.ConnectionDriverName": settings.metastore_driver,
                "spark.hadoop.javax.jdo.option.ConnectionUserName": settings.metastore_user,
                "spark.hadoop.javax.jdo.option.ConnectionPassword": settings.metastore_password,
                "spark.hadoop.datanucleus.schema.autoCreateAll": "true",
                "spark.hadoop.hive.metastore.schema.verification": "false",
                "spark.sql.hive.metastore.version": "2.3.10",
                "spark.sql.hive.metastore.jars": "builtin",
            }
        )
    else:
        conf["spark.sql.catalogImplementation"] = "in-memory"
    conf.update(settings.extra_spark_conf)
    return conf


# Credentials never go on a JVM's command line: PySpark starts its JVM with every builder
# setting as a ``--conf`` argument, which any local user can read (``ps``, /proc/PID/cmdline).
# build_spark sets these on the running context's Hadoop configuration instead, before
# anything touches S3A or the metastore. spark-submit (Airflow) reads them from
# $SPARK_CONF_DIR/spark-defaults.conf, a 0600 file (scripts/spark_conf.py).
SECRET_KEYS = (
    "spark.hadoop.fs.s3a.access.key",
    "spark.hadoop.fs.s3a.secret.key",
    "spark.hadoop.javax.jdo.option.ConnectionPassword",
)


def split_secrets(conf: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """``conf`` without its credentials; the credentials as Hadoop keys (no ``spark.hadoop.``)."""
    public = {k: v for k, v in conf.items() if k not in SECRET_KEYS}
    secrets = {k.removeprefix("spark.hadoop."): v for k, v in conf.items()
               if k in SECRET_KEYS and v}  # fmt: skip
    return public, secrets


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only, from the first byte on.

    The file is created with mode 600 (no write-then-chmod window), and an existing file of
    a wider mode is narrowed before the new content goes in.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


LOG4J2 = (
    "rootLogger.level = warn\nrootLogger.appenderRef.stdout.ref = console\n"
    "appender.console.type = Console\nappender.console.name = console\n"
    "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
    "appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex\n"
)


def write_spark_defaults(conf_dir: Path, conf: dict[str, str]) -> Path:
    """Render ``conf`` into ``conf_dir/spark-defaults.conf`` (mode 600: it holds credentials)
    and a quiet ``log4j2.properties`` beside it; returns the defaults file."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    target = conf_dir / "spark-defaults.conf"
    lines = [f"{k} {v}" for k, v in sorted(conf.items())]
    write_private(
        target, "# generated by scripts/spark_conf.py; do not edit\n" + "\n".join(lines) + "\n"
    )
    (conf_dir / "log4j2.properties").write_text(LOG4J2)
    return target


LAUNCH_ONLY_KEYS = (
    "spark.master",
    "spark.driver.memory",
    "spark.driver.extraClassPath",
    "spark.executor.extraClassPath",
    "spark.jars",
    "spark.driver.extraJavaOptions",
)


def build_spark(
    app_name: str,
    settings: Settings | None = None,
    *,
    metastore: bool | None = None,
    overrides: dict[str, str] | None = None,
) -> SparkSession:
    """Create (or reuse) the process's SparkSession with the lakehouse's settings.

    ``metastore`` defaults to ``LAKEHOUSE_METASTORE`` (true): tables are registered in the
    shared Hive metastore. Isolated runs (tests with their own warehouse prefix) turn it off
    and address tables by path only.
    """
    from pyspark.sql import SparkSession

    if metastore is None:
        from include.tables import metastore_wanted

        metastore = metastore_wanted()
    settings = settings or load_settings()
    builder = SparkSession.builder.appName(app_name)
    conf = spark_conf(settings, metastore=metastore)
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        # Launched by spark-submit: the JVM already exists with the master, memory and
        # classpath spark-submit was given (--master from the Airflow connection, the rest
        # from $SPARK_CONF_DIR/spark-defaults.conf); setting them again would override the
        # operator's --master or be ignored.
        for key in LAUNCH_ONLY_KEYS:
            conf.pop(key, None)
    conf.update(overrides or {})
    conf, secrets = split_secrets(conf)
    for key, value in conf.items():
        builder = builder.config(key, value)
    if metastore:
        builder = builder.enableHiveSupport()
    spark = builder.getOrCreate()
    # The context's Hadoop configuration is the base of every later copy; the session's shared
    # state may already hold its own copy (made when the session was built), so set both.
    jvm_session = spark._jsparkSession
    for hadoop_conf in (spark.sparkContext._jsc.hadoopConfiguration(),
                        jvm_session.sharedState().hadoopConf()):  # fmt: skip
        for key, value in secrets.items():
            hadoop_conf.set(key, value)
    spark.sparkContext.setLogLevel(os.environ.get("LAKEHOUSE_SPARK_LOG_LEVEL", "WARN"))
    return spark
