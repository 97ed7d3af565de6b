"""Object-store helpers (boto3) for what Spark does not do itself: buckets, listing, raw files.

Paths are written the way Spark reads them (``s3a://bucket/key``); ``s3://`` is accepted too.
The endpoint and credentials come from :mod:`include.settings`.
"""

from __future__ import annotations

import argparse
from functools import lru_cache

from include.settings import Settings, load_settings


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3a://bucket/a/b`` -> ``("bucket", "a/b")``."""
    for scheme in ("s3a://", "s3://", "s3n://"):
        if uri.startswith(scheme):
            bucket, _, key = uri[len(scheme) :].partition("/")
            if not bucket:
                raise ValueError(f"no bucket in {uri!r}")
            return bucket, key
    raise ValueError(f"not an S3 URI: {uri!r}")


def is_s3_uri(path: str) -> bool:
    return path.startswith(("s3a://", "s3://", "s3n://"))


def s3_client(settings: Settings | None = None):
    """A boto3 S3 client for the configured endpoint (cached per endpoint and credentials)."""
    settings = settings or load_settings()
    return _client(
        settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key, settings.s3_region
    )


@lru_cache(maxsize=4)
def _client(endpoint: str, access_key: str, secret_key: str, region: str):
    import boto3
    from botocore.config import Config

    if not access_key:
        raise RuntimeError(
            "LAKEHOUSE_S3_ACCESS_KEY is not set: source scripts/env.sh (after `make setup`) "
            "or export the object store's credentials"
        )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


def ensure_buckets(settings: Settings | None = None) -> list[str]:
    settings = settings or load_settings()
    client = s3_client(settings)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    created = []
    for bucket in (settings.raw_bucket, settings.warehouse_bucket):
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
            created.append(bucket)
    return created


def list_keys(uri: str, settings: Settings | None = None) -> list[str]:
    bucket, prefix = split_s3_uri(uri)
    client = s3_client(settings or load_settings())
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def _local_path(uri: str) -> str:
    return uri[len("file:"):] if uri.startswith("file:") else uri


def list_names(folder: str, settings: Settings | None = None, *,
               start_after: str = "") -> list[str] | None:  # fmt: skip
    """Names of the files directly under ``folder`` (an ``s3a://`` URI or a local path),
    sorted; None when the folder does not exist (no object under it).

    How jobs list what Spark will read without the JVM's Hadoop FileSystem, which a Spark
    Connect client does not have: the object store is asked directly (boto3, one paginated
    listing with a delimiter), a local folder with ``os``. ``start_after``: only names that
    sort after it (S3's ``StartAfter``: the store returns only those, however many came
    before; a Delta log's commits after its checkpoint).
    """
    import os

    if not is_s3_uri(folder):
        path = _local_path(folder)
        if not os.path.isdir(path):
            return None
        return sorted(n for n in os.listdir(path)
                      if n > start_after and os.path.isfile(os.path.join(path, n)))  # fmt: skip
    bucket, prefix = split_s3_uri(folder.rstrip("/") + "/")
    client = s3_client(settings or load_settings())
    extra = {"StartAfter": prefix + start_after} if start_after else {}
    names: list[str] = []
    seen_any = False
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/", **extra
    ):
        seen_any = seen_any or bool(page.get("Contents") or page.get("CommonPrefixes"))
        names.extend(obj["Key"][len(prefix):] for obj in page.get("Contents", []))
    return sorted(n for n in names if n) if seen_any else None


def count_files(folder: str, settings: Settings | None = None, *, skip: str = "") -> int:
    """How many files are stored under ``folder`` at any depth, not counting paths that
    contain ``skip`` (e.g. ``/_delta_log/``)."""
    import os

    if not is_s3_uri(folder):
        root = _local_path(folder)
        # Hadoop's local file system writes a hidden checksum beside each file
        # (".name.crc") and does not list it: neither does this
        return sum(1 for d, _, files in os.walk(root) for n in files
                   if not (n.startswith(".") and n.endswith(".crc"))
                   and (not skip or skip not in os.path.join(d, n)))  # fmt: skip
    keys = list_keys(folder.rstrip("/") + "/", settings)
    return sum(1 for k in keys if not skip or skip not in "/" + k)


def has_objects(prefix: str, settings: Settings | None = None) -> bool:
    """Is anything stored under ``prefix`` (a folder: ``.../_delta_log/``)?"""
    import os

    if not is_s3_uri(prefix):
        path = _local_path(prefix)
        return os.path.isdir(path) and bool(os.listdir(path))
    bucket, key = split_s3_uri(prefix)
    page = s3_client(settings or load_settings()).list_objects_v2(
        Bucket=bucket, Prefix=key, MaxKeys=1
    )
    return bool(page.get("Contents"))


def read_object(uri: str, settings: Settings | None = None) -> bytes | None:
    """The bytes of one object (``s3a://`` or a local path); None when it does not exist."""
    if not is_s3_uri(uri):
        try:
            with open(_local_path(uri), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
    bucket, key = split_s3_uri(uri)
    client = s3_client(settings or load_settings())
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None


def delete_prefix(uri: str, settings: Settings | None = None) -> int:
    """Delete every object under ``uri``; returns how many were deleted."""
    bucket, _ = split_s3_uri(uri)
    client = s3_client(settings or load_settings())
    keys = list_keys(uri, settings)
    for i in range(0, len(keys), 1000):
        client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]]}
        )
    return len(keys)


def put_bytes(uri: str, data: bytes, settings: Settings | None = None) -> None:
    bucket, key = split_s3_uri(uri)
    s3_client(settings or load_settings()).put_object(Bucket=bucket, Key=key, Body=data)


def get_bytes(uri: str, settings: Settings | None = None) -> bytes:
    """The bytes of one object that must exist (``read_object``, which may find none)."""
    data = read_object(uri, settings)
    if data is None:
        raise FileNotFoundError(f"no object at {uri}")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["ensure-buckets"])
    args = parser.parse_args()
    if args.command == "ensure-buckets":
        created = ensure_buckets()
        print(f"buckets ready (created: {', '.join(created) or 'none'})")


if __name__ == "__main__":
    main()
