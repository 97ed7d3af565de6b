"""``write_day``: put one day's files under a local directory or an S3 prefix.

A day's write replaces that day's folders only: ``ds`` is validated and the day generated
first (a bad ``ds``, config or a day before the epoch fails with nothing deleted), then the
objects under every ``{source}/ds={ds}/`` prefix (and the truth folder) are deleted, the data
files written, and the truth manifest goes last, so a present manifest marks a complete day.
S3 access uses ``include.settings.load_settings()`` (endpoint, keys, region) with path-style
addressing, which is what MinIO expects.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterable
from pathlib import Path

from include.generator.config import GeneratorConfig
from include.generator.generate import iter_day
from include.raw_sources import RAW_SOURCES, TRUTH_SOURCE
from include.tables import validate_ds


def day_prefixes(ds: str) -> list[str]:
    """Every folder that belongs to ``ds`` (relative to the root)."""
    return [f"{source}/ds={ds}/" for source in (*RAW_SOURCES, TRUTH_SOURCE)]


def write_day(ds: str, root: str, config: GeneratorConfig | None = None) -> list[str]:
    """Generate ``ds`` and write it under ``root`` (path, ``s3://`` or ``s3a://``).

    Returns the relative paths written, manifest last.
    """
    # ds names the folders deleted below: validate it, and run the (lazy) generator up to its
    # first file, so a bad ds or config fails before anything is deleted.
    validate_ds(ds)
    day = iter_day(ds, config)
    first = next(day)  # iter_day computes the whole day before its first yield
    files = itertools.chain([first], day)
    if root.startswith(("s3://", "s3a://")):
        return _write_s3(ds, root, files)
    return _write_local(ds, Path(root), files)


def _write_local(ds: str, root: Path, files: Iterable[tuple[str, bytes]]) -> list[str]:
    for prefix in day_prefixes(ds):
        shutil.rmtree(root / prefix, ignore_errors=True)
    written = []
    for rel, data in files:  # iter_day yields the manifest last
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        written.append(rel)
    return written


def split_s3_root(root: str) -> tuple[str, str]:
    """``s3a://bucket/some/prefix`` -> (``bucket``, ``some/prefix/``)."""
    rest = root.split("://", 1)[1]
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    return bucket, (prefix + "/") if prefix else ""


def s3_client():
    """The project's boto3 client (endpoint, keys, path-style: ``include.storage``)."""
    from include.storage import s3_client as project_client

    return project_client()


def _write_s3(ds: str, root: str, files: Iterable[tuple[str, bytes]], client=None) -> list[str]:
    client = client or s3_client()
    bucket, base = split_s3_root(root)
    _ensure_bucket(client, bucket)
    for prefix in day_prefixes(ds):
        _delete_prefix(client, bucket, base + prefix)
    written = []
    for rel, data in files:  # iter_day yields the manifest last
        client.put_object(Bucket=bucket, Key=base + rel, Body=data)
        written.append(rel)
    return written


def _ensure_bucket(client, bucket: str) -> None:
    try:
        client.head_bucket(Bucket=bucket)
    except Exception:  # noqa: BLE001 - any failure to find it: try to create it
        client.create_bucket(Bucket=bucket)


def _delete_prefix(client, bucket: str, prefix: str) -> None:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
