"""Benchmark the synthetic source generator: events per second and peak memory per scale.

Each scale runs in a fresh subprocess (so ``ru_maxrss`` is that run's peak), generates one
day with :func:`include.generator.iter_day` and writes it to a temporary directory, the way
``write_day`` does. Results are printed and saved to ``bench/results/generator.json``.

    python bench/bench_generator.py                 # 1M and 10M events/day
    python bench/bench_generator.py --scales 1000000
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "generator.json"
DS = "2024-01-10"


def run_one(scale: int, root: str) -> dict:
    """Generate and write one day at ``scale``; return timings (runs in the child process)."""
    import resource

    sys.path.insert(0, str(ROOT))
    from include.generator import GeneratorConfig
    from include.generator.writer import write_day

    cfg = GeneratorConfig(events_per_day=scale)
    started = time.perf_counter()
    paths = write_day(DS, root, cfg)
    seconds = time.perf_counter() - started
    manifest = json.loads((Path(root) / paths[-1]).read_text())
    lines = manifest["volumes"]["web_event_lines"]
    size = sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())
    return {
        "events_per_day": scale,
        "ds": DS,
        "web_event_lines": lines,
        "seconds": round(seconds, 2),
        "events_per_second": round(lines / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "bytes_written_mb": round(size / 2**20, 1),
        "files": len(paths),
    }


def bench(scale: int, timeout: int) -> dict:
    """Run one scale in a subprocess with a temporary output directory."""
    with tempfile.TemporaryDirectory(prefix="bench_gen_") as tmp:
        code = (
            "import json, sys; sys.path.insert(0, %r); "
            "from bench.bench_generator import run_one; "
            "print(json.dumps(run_one(%d, %r)))" % (str(ROOT), scale, tmp)
        )
        try:
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True,
                timeout=timeout, check=True, cwd=ROOT,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {"events_per_day": scale, "error": f"timed out after {timeout}s"}
        except subprocess.CalledProcessError as err:
            return {"events_per_day": scale, "error": err.stderr[-2000:]}
        return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scales", type=int, nargs="+", default=[1_000_000, 10_000_000])
    p.add_argument("--timeout", type=int, default=900, help="seconds per scale")
    args = p.parse_args(argv)
    results = []
    for scale in args.scales:
        result = bench(scale, args.timeout)
        print(json.dumps(result), flush=True)
        results.append(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "generator",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": __import__("os").cpu_count(),
        "results": results,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
