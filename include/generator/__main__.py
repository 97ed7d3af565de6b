"""CLI: ``python -m include.generator --ds 2024-01-01 [--days N] [--root PATH_OR_S3]``.

Writes each day under the root (default: the lakehouse raw root from settings, i.e. the
MinIO raw bucket) and prints one summary line per day.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from include.generator.calendar import day_range
from include.generator.config import GeneratorConfig
from include.generator.writer import write_day


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m include.generator", description=__doc__)
    p.add_argument("--ds", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--days", type=int, default=1, help="number of consecutive days")
    p.add_argument("--root", default=None, help="local dir or s3a://bucket/prefix")
    p.add_argument("--scale", type=int, default=None, help="mean web events per day")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--epoch", default=None, help="company's first day (default 2023-10-01)")
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> GeneratorConfig:
    cfg = GeneratorConfig()
    changes = {}
    if args.scale is not None:
        changes["events_per_day"] = args.scale
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.epoch is not None:
        changes["epoch"] = args.epoch
    return dataclasses.replace(cfg, **changes).validate()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = config_from_args(args)
    root = args.root
    if root is None:
        from include.settings import load_settings

        root = load_settings().raw_root
    for ds in day_range(args.ds, args.days):
        started = time.perf_counter()
        paths = write_day(ds, root, cfg)
        summary = {
            "ds": ds,
            "root": root,
            "files": len(paths),
            "seconds": round(time.perf_counter() - started, 2),
        }
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
