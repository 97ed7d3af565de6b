"""The log store's ``listFrom`` on S3 (MinIO): the same answer as Hadoop's plain listing,
from far fewer keys.

Delta lists ``_delta_log`` from its last checkpoint on every snapshot refresh. Hadoop's
``listFrom`` lists the whole directory (every commit, checkpoint and checksum the table ever
kept) and filters, so each refresh got slower as a table's commits accumulated.
``S3ConditionalPutLogStore.listFrom`` asks S3 for one directory level from the requested key on
(``start-after``). The log directory here is made of plain objects, with the shapes that
could trip a prefix listing: a sub-directory (``_commits/``), a sibling whose name extends the
directory's (``_delta_log_old/``), names around the start key and a page size smaller than
the answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LOG_FILES = (
    [f"{v:020d}.json" for v in range(0, 23)]
    + [f"{v:020d}.crc" for v in range(0, 23)]
    + [f"{v:020d}.checkpoint.parquet" for v in (10, 20)]
    + ["_last_checkpoint", "_commits/00000000000000000021.0a1b.json"]
)


def _names(it) -> list[tuple[str, bool, int]]:
    out = []
    while it.hasNext():
        s = it.next()
        out.append((s.getPath().getName(), s.isDirectory(), s.getLen()))
    return out


@pytest.mark.integration
def test_list_from_matches_hadoop_listing_and_reads_only_from_the_start(monkeypatch):
    from include.storage import put_bytes
    from tests.conftest import classic_env
    from tests.unit.test_multi_driver_commits import _drop_bucket, _minio

    bucket = f"logstore-list-{uuid.uuid4().hex[:8]}"
    settings = _minio(monkeypatch, bucket)
    try:
        log = f"s3a://{bucket}/wh/t/_delta_log"
        for i, name in enumerate(LOG_FILES):
            put_bytes(f"{log}/{name}", b"x" * (i + 1), settings)
        put_bytes(f"s3a://{bucket}/wh/t/_delta_log_old/{20:020d}.json", b"old", settings)
        out = subprocess.run([sys.executable, __file__, log], env=classic_env(), cwd=ROOT,
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        line = next((x for x in out.stdout.splitlines() if x.startswith("CHECKED ")), None)
        assert out.returncode == 0 and line, out.stdout[-3000:] + out.stderr[-5000:]
        assert json.loads(line[len("CHECKED "):]) == {"start_keys": 6, "asked_from_20": 9}
    finally:
        _drop_bucket(settings, bucket)


def check(log: str) -> dict:
    """The checks, in a process with a Spark JVM (the log store and Hadoop via py4j)."""
    from include.settings import load_settings
    from include.spark import build_spark

    spark = build_spark("logstore-listing", load_settings(), metastore=False)
    jvm = spark.sparkContext._jvm
    conf = jvm.org.apache.hadoop.conf.Configuration(spark.sparkContext._jsc.hadoopConfiguration())
    conf.set("fs.s3a.paging.maximum", "4")  # several pages per answer
    conf.setBoolean("fs.s3a.impl.disable.cache", True)
    ours = jvm.io.lakehouse.delta.S3ConditionalPutLogStore(conf)
    # Hadoop's plain listing: LocalLogStore keeps HadoopFileSystemLogStore.listFrom
    plain = jvm.io.delta.storage.LocalLogStore(conf)
    Path = jvm.org.apache.hadoop.fs.Path

    dir_entries = sorted({n.split("/")[0] for n in LOG_FILES})
    starts = [f"{10:020d}.", f"{20:020d}.checkpoint.parquet", f"{22:020d}.json",
              "00000000000000000000.", "_", "zzz"]  # fmt: skip
    for start in starts:
        got = _names(ours.listFrom(Path(f"{log}/{start}"), conf))
        assert got == _names(plain.listFrom(Path(f"{log}/{start}"), conf)), start
        assert [n for n, _, _ in got] == [n for n in dir_entries if n >= start], start
    # _commits is listed as a directory, like Hadoop's listStatus does
    assert ("_commits", True, 0) in _names(ours.listFrom(Path(f"{log}/_"), conf))

    # what S3 was asked for: only the keys from the start on (before filtering)
    s3a = Path(log).getFileSystem(conf)
    asked = ours.listFromKey(s3a, Path(log), f"{20:020d}.")
    assert sorted(s.getPath().getName() for s in asked) == [
        n for n in dir_entries if n >= f"{20:020d}."
    ]
    # 20-22 .crc/.json, checkpoint 20, _commits, _last_checkpoint

    # a table that does not exist: FileNotFoundException, as Delta expects
    missing = log.replace("/wh/t/", "/wh/none/")
    try:
        ours.listFrom(Path(f"{missing}/{0:020d}."), conf)
        raise AssertionError("listing a missing log did not fail")
    except Exception as exc:  # py4j's Py4JJavaError
        assert "FileNotFoundException" in str(exc), exc
    # an existing log listed past its end: empty, not an error
    assert _names(ours.listFrom(Path(f"{log}/zzzz"), conf)) == []
    spark.stop()
    return {"start_keys": len(starts), "asked_from_20": len(asked)}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print("CHECKED " + json.dumps(check(sys.argv[1])), flush=True)
