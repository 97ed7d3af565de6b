"""One day through the Airflow scheduler against the same jobs in one warm session.

What a platform team waits for, against what the Spark work costs. In one run, on the
project's own stack (``make setup`` done; nothing else running):

1. **scheduled**: any earlier ``lakehouse_daily`` run of ``--ds`` is deleted (so the scheduler
   really runs the day), then ``scripts/demo.sh DS 1 SCALE``: Airflow (LocalExecutor,
   PostgreSQL) with the Spark Connect engine, the DAG unpaused over that one day, every task
   a session on the warm server. From the REST API and the task logs: the DAG run's wall
   time, ``land_raw`` apart (it generates the raw files: upstream's work, not Spark's), the
   task durations and the jobs' own seconds (``bench_pipeline.bench_airflow``). The server's
   resident memory is sampled all along.
2. **warm session**: the same Spark tasks of the DAG for the same ``ds`` and scale, one after
   another in one session on the same server (warm after the day), in a private prefix
   (``bench/<id>``, removed afterwards), the raw files generated apart
   (``bench_pipeline.child_pipeline``).

The figure: (scheduled wall - land_raw) / warm session seconds. Results go to
``bench/results/scheduled_<commit>.json``.

    python bench/bench_scheduled.py --ds 2024-01-04 --scale 20000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_pipeline import (  # noqa: E402
    _tree_rss,
    bench_airflow,
    bench_env,
    cleanup,
    dag_spark_tasks,
    generate,
    run_child,
    source_commit,
)

DAG = "lakehouse_daily"


def delete_runs(ds: str) -> list[str]:
    """Delete ``lakehouse_daily``'s runs of ``ds`` (Airflow must be up): the scheduler then
    runs the day again instead of finding it done."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from trigger_run import _request, login, password_for

    base = f"http://127.0.0.1:{os.environ.get('LAKEHOUSE_AIRFLOW_PORT', '8080')}"
    token = login(base, "admin", password_for("admin"))
    runs = _request("GET", f"{base}/api/v2/dags/{DAG}/dagRuns?limit=1000", token=token)
    gone = []
    for run in runs["dag_runs"]:
        if (run.get("logical_date") or "")[:10] == ds:
            _request("DELETE", f"{base}/api/v2/dags/{DAG}/dagRuns/{run['dag_run_id']}",
                     token=token)  # fmt: skip
            gone.append(run["dag_run_id"])
    return gone


class ServerRss:
    """Peak resident memory of the engine server's process tree, sampled every 0.5 s."""

    def __init__(self, pid_file: Path):
        self.pid_file, self.peak, self._stop = pid_file, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, _tree_rss(int(self.pid_file.read_text().split()[0])))
            except (OSError, ValueError, IndexError):
                pass
            self._stop.wait(0.5)

    def __enter__(self) -> ServerRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ds", default="2024-01-04")
    p.add_argument("--scale", type=int, default=20_000)
    p.add_argument("--timeout", type=int, default=3600)
    p.add_argument("--output", type=Path)
    args = p.parse_args(argv)
    from include.settings import load_settings

    settings = load_settings()
    commit = source_commit()
    report: dict = {"benchmark": "scheduled_vs_warm_session", "commit": commit, "ds": args.ds,
                    "events_per_day": args.scale,
                    "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "load_average_at_start": os.getloadavg(),
                    "engine_memory": settings.connect_memory}  # fmt: skip

    # 1. the day through the scheduler
    subprocess.run([str(ROOT / "scripts" / "airflow.sh"), "start"], check=True, cwd=ROOT)
    report["deleted_runs"] = delete_runs(args.ds)
    started = time.perf_counter()
    with ServerRss(settings.state_dir / "spark-connect.pid") as rss:
        subprocess.run([str(ROOT / "scripts" / "demo.sh"), args.ds, "1", str(args.scale)],
                       check=True, cwd=ROOT, timeout=args.timeout)  # fmt: skip
        report["demo_script_seconds"] = round(time.perf_counter() - started, 1)
        (run,) = bench_airflow(DAG, [args.ds])["runs"]
        report["scheduled"] = run

        # 2. the same jobs in one warm session on the same server
        tasks = dag_spark_tasks()
        with tempfile.TemporaryDirectory(prefix="bench_scheduled_") as tmp:
            env = bench_env(f"bench/{uuid.uuid4().hex[:8]}", Path(tmp))
            env["BENCH_ENGINE_PID"] = (settings.state_dir / "spark-connect.pid").read_text()
            try:
                gen = generate(args.ds, args.scale, env)
                warm = run_child(["pipeline", "--ds", args.ds, "--tasks", json.dumps(tasks)],
                                 env, args.timeout)  # fmt: skip
            finally:
                cleanup(env)
    report["warm_session"] = {
        "seconds": warm["seconds"], "generate_seconds": gen["seconds"],
        "jobs_seconds": round(sum(j["seconds"] for j in warm["jobs"]), 2),
        "tasks": warm["tasks"], "client_peak_rss_mib": warm["peak_rss_mib"],
    }  # fmt: skip
    report["server_peak_rss_mib"] = round(rss.peak / 2**20)
    wall_less_land = run["wall_seconds"] - run["land_raw_seconds"]
    report["scheduled_over_warm"] = round(wall_less_land / warm["seconds"], 3)
    report["scheduled_wall_over_warm"] = round(run["wall_seconds"] / warm["seconds"], 3)
    report["load_average_at_end"] = os.getloadavg()
    out = args.output or ROOT / "bench" / "results" / f"scheduled_{commit}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"scheduled {args.ds}: wall {run['wall_seconds']} s (land_raw "
          f"{run['land_raw_seconds']} s), {run['tasks']} tasks, jobs' own seconds "
          f"{run['spark_job_seconds']} s; warm session {warm['seconds']} s: "
          f"(wall - land_raw) / warm = {report['scheduled_over_warm']}; engine server peak RSS "
          f"{report['server_peak_rss_mib']} MiB")  # fmt: skip
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
