"""Create the Hive metastore's schema in PostgreSQL before any Spark session uses it.

Letting DataNucleus create tables lazily (``datanucleus.schema.autoCreateAll``) deadlocks on
PostgreSQL: one connection holds an open insert into TBLS while another tries to add a
foreign key that references it. Hive's schematool SQL scripts are not in pyspark's jars, so
this runs DataNucleus' own SchemaTool once over the metastore's ``package.jdo`` (from
pyspark's hive-metastore jar), creating every table up front. Idempotent: it does nothing
when the schema exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pyspark

from include.settings import load_settings
from include.spark import jvm_classpath


def _connect(settings):
    url = urlparse(settings.metastore_url.removeprefix("jdbc:"))
    return psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        dbname=url.path.lstrip("/"),
        user=settings.metastore_user,
        password=settings.metastore_password,
    )


def schema_exists(settings) -> bool:
    with _connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('public.\"TBLS\"') IS NOT NULL")
        return bool(cur.fetchone()[0])


def main() -> int:
    settings = load_settings()
    if schema_exists(settings):
        print("metastore schema present")
        return 0
    jars = Path(pyspark.__file__).parent / "jars"
    hive_jar = next(jars.glob("hive-metastore-*.jar"))
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(hive_jar) as zf:
            zf.extract("package.jdo", tmp)
        props = Path(tmp) / "datanucleus.properties"
        fd = os.open(props, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(
                "\n".join(
                    [
                        f"javax.jdo.option.ConnectionURL={settings.metastore_url}",
                        f"javax.jdo.option.ConnectionDriverName={settings.metastore_driver}",
                        f"javax.jdo.option.ConnectionUserName={settings.metastore_user}",
                        f"javax.jdo.option.ConnectionPassword={settings.metastore_password}",
                        "datanucleus.schema.autoCreateAll=true",
                        "datanucleus.identifierFactory=datanucleus1",
                        "datanucleus.rdbms.useLegacyNativeValueStrategy=true",
                    ]
                )
            )
        classpath = os.pathsep.join([str(jars / "*"), *jvm_classpath(settings)])
        cmd = ["java", "-cp", classpath, "org.datanucleus.store.schema.SchemaTool",
               "-create", "-api", "JDO", "-props", str(props), "package.jdo"]
        result = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0 or not schema_exists(settings):
            print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
            print("metastore schema creation failed", file=sys.stderr)
            return 1
    print("metastore schema created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
