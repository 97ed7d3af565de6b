"""Render include.spark.spark_conf into $SPARK_CONF_DIR/spark-defaults.conf.

spark-sql, spark-submit, the Thrift server and the Spark Connect server read that file, so
they see the same catalog, object store and Delta settings as the jobs. The file holds
credentials: it is written with mode 600 under the ignored state directory, never committed.
"""

from __future__ import annotations

import os
from pathlib import Path

from include.settings import load_settings
from include.spark import spark_conf, write_spark_defaults


def main() -> None:
    settings = load_settings()
    conf_dir = Path(os.environ.get("SPARK_CONF_DIR", settings.state_dir / "spark-conf"))
    target = write_spark_defaults(conf_dir, spark_conf(settings))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
