"""Benchmark the daily pipeline: raw -> gold per ``ds``, its I/O floor, growth with history,
Airflow's overhead and the experiment readout. Prints figures and writes
``bench/results/pipeline.json``.

Everything runs on the configured stack (Delta on MinIO), in a private prefix of the raw and
warehouse buckets (``bench/<run id>``, removed afterwards unless ``--keep``) with the
metastore off, so the demo lakehouse is never touched. The engine (``--engine``) is what the
DAG's tasks run on: ``connect`` (default), a Spark Connect server of the bench's own (the
lakehouse's Spark settings, ``local[2]``, heap ``--engine-memory``; a fresh JVM for each
part), each child process a client session on it; ``submit``, a Spark JVM in each child, as
a spark-submit'ed task has. Peak resident memory is reported for the child (the Python
client; with ``submit`` its JVM too) and for the server's process tree apart.

* **pipeline** (per ``--scales``): the synthetic sources of one ``ds`` are generated into
  the raw zone (timed apart: it stands in for upstream systems), then every Spark task of
  the ``lakehouse_daily`` DAG, in a topological order of the DAG itself, runs in one Spark
  session in a child process, followed by each experiment's readout job. Wall time, rows per
  second (raw web-event lines / raw -> gold seconds; ``events_per_second`` counts the
  generator's events instead: one event can be several lines, e.g. duplicates and bots),
  per-task seconds and the peak resident memory of the child's whole process tree (Python
  driver + JVM, sampled every 0.2 s; pages shared by processes count once per process).
* **floor**: the same day's raw files read as text and written once as Delta (no parsing,
  no checks): the least any raw -> bronze pipeline must spend. Both it and the pipeline are
  timed from before their Spark session starts. Ratio = pipeline / floor.
* **readout**: ``readouts.experiment`` of each experiment on that ``ds`` (its users and its
  metric x variant x segment cells are reported with the time). One day of data: pdp_redesign
  has no user whose 7-day outcome window has closed yet, so its readout runs on 0 users here;
  ``bench_readout.py`` times the readout at 1M users.
* **history** (``--history-days``, at ``--history-scale``): day 1 in a fresh child on empty
  tables, days 2..N-1 in one child, day N in a fresh child on N-1 days of history; each day
  is the daily DAG's Spark tasks plus the experiment readouts. Ratio = day N / day 1 (both
  in cold JVMs), with the jobs that grew most; then day 1 once more in an empty prefix right
  after day N (``control_day1``): the machine's speed drifts over a run of hours, so day N is
  also compared with a day 1 run beside it in time.
* **airflow**: from the metadata database of this checkout's Airflow (REST API) and the task
  logs: for every successful ``lakehouse_daily`` run (or those of ``--airflow-ds``), the DAG
  run's wall time over the sum of the Spark jobs' own seconds (``LAKEHOUSE_RESULT`` lines),
  with and without ``land_raw`` (raw data generation, no Spark), and the sum of task
  durations over it. Make the run first, e.g. ``make airflow`` then ``python
  scripts/trigger_run.py lakehouse_daily --ds 2024-03-11 --conf '{"scale": 20000}' --wait``.

    python bench/bench_pipeline.py                                  # 1M and 10M, history 30
    python bench/bench_pipeline.py --scales 1000000 --history-days 0
    python bench/bench_pipeline.py --only airflow --airflow-ds 2024-03-11
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "pipeline.json"
DS = "2024-01-10"
HISTORY_START = "2024-01-01"
RESULT_PREFIX = "LAKEHOUSE_RESULT "
BENCH_PREFIX = "BENCH_RESULT "
LOGS = ROOT / "var" / "bench" / "logs"  # every child's stderr (var/ is not committed)


# --------------------------------------------------------------------------- the DAG's jobs
def dag_spark_tasks(dag_id: str = "lakehouse_daily") -> list[dict]:
    """Every Spark task of ``dag_id``: task id, jobs and params, in a topological
    order of the DAG (upstream first), read from the DAG itself so the bench runs exactly
    what Airflow runs."""
    from airflow.dag_processing.dagbag import DagBag

    from include.airflow_tasks import spark_task_spec

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.dags[dag_id]
    order, done = [], set()
    pending = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
    while pending:
        ready = sorted(t for t, ups in pending.items() if ups <= done)
        if not ready:
            raise RuntimeError(f"cycle among {sorted(pending)}")
        for task_id in ready:
            order.append(task_id)
            done.add(task_id)
            del pending[task_id]
    tasks = []
    for task_id in order:
        spec = spark_task_spec(dag.get_task(task_id))
        if spec is None:  # land_raw: the bench generates raw itself
            continue
        tasks.append({"task": task_id, "jobs": list(spec.jobs), "params": spec.params})
    return tasks


def runs_on(task: dict, ds: str) -> bool:
    """Whether Airflow runs ``task`` for ``ds``: an experiment's tasks are skipped after its
    final day (the daily DAG's ``analysis_window``; no aggregated update, so no readout)."""
    from include.experiments import load_experiment

    name = task["params"].get("experiment")
    return name is None or not load_experiment(name).is_concluded(ds)


def experiment_readouts(ds: str) -> list[dict]:
    """The experiment readout jobs an ``experiment_<name>`` DAG would run for ``ds``."""
    from include.dag_factory import readout_configs

    out = []
    for spec in readout_configs():
        task = {"task": f"experiment_{spec.name}.readout", "jobs": ["readouts.experiment"],
                "params": {"experiment": spec.name}}  # fmt: skip
        if spec.start_date <= date.fromisoformat(ds) and runs_on(task, ds):
            out.append(task)
    return out


# --------------------------------------------------------------------------- child process
def child_pipeline(spark, ds: str, tasks: list[dict], started: float | None = None) -> dict:
    """Run ``tasks`` for ``ds`` in one Spark session; seconds per task and per job, from
    ``started`` (before the session was opened) or now."""
    from spark_jobs.run import run

    timings, results = [], []
    skipped = [t["task"] for t in tasks if not runs_on(t, ds)]
    started = started or time.perf_counter()
    for task in (t for t in tasks if t["task"] not in skipped):
        t0 = time.perf_counter()
        for job in task["jobs"]:
            out = run(job, ds, task["params"], spark=spark)
            results.append({"task": task["task"], "job": job, "seconds": out["seconds"],
                            "rows_in": out.get("rows_in"), "rows_out": out.get("rows_out"),
                            "rows_quarantined": out.get("rows_quarantined")})  # fmt: skip
        timings.append({"task": task["task"], "seconds": round(time.perf_counter() - t0, 2)})
        print(f"BENCH task {task['task']} {timings[-1]['seconds']} s", file=sys.stderr, flush=True)
    return {"ds": ds, "seconds": round(time.perf_counter() - started, 2), "tasks": timings,
            "jobs": results, "skipped_tasks": skipped}  # fmt: skip


def child_floor(spark, ds: str, started: float) -> dict:
    """Read every raw file of ``ds`` as text and write it once as Delta: the I/O floor.

    Timed like the pipeline: from ``started``, before the Spark session was opened, to the
    last write; the lines are counted afterwards, outside the timing. A source with no files
    for the day is listed in ``missing_sources``.
    """
    from include.raw_sources import RAW_SOURCES
    from include.settings import load_settings

    settings = load_settings()
    written, missing = [], []
    for source in RAW_SOURCES:
        try:
            df = spark.read.text(settings.raw_path(source, ds))
        except Exception as err:  # a source with no files for the day
            if "PATH_NOT_FOUND" in str(err) or "does not exist" in str(err):
                missing.append(source)
                continue
            raise
        target = f"{settings.warehouse_root}/_floor/{source}"
        df.write.format("delta").mode("overwrite").save(target)
        written.append(target)
    seconds = round(time.perf_counter() - started, 2)
    rows = sum(spark.read.format("delta").load(t).count() for t in written)
    return {"ds": ds, "seconds": seconds, "lines": rows, "missing_sources": missing}


def child_experiment_users(spark, ds: str) -> dict:
    """Users (clean cohort, overall) and readout cells of each experiment as of ``ds``."""
    from pyspark.sql import functions as F

    from include.contracts import get_contract
    from include.dag_factory import readout_configs
    from include.settings import load_settings
    from include.tables import read_table

    settings = load_settings()
    out = {}
    for spec in readout_configs():
        table = read_table(spark, get_contract(f"gold.{spec.name}_aggregated"), settings)
        day = table.where(F.col("ds") == ds)
        users = day.where(F.col("segment") == "overall").agg(F.sum("users")).first()[0]
        out[spec.name] = {
            "users": int(users or 0),
            "variant_segment_rows": day.count(),
            "metrics": len(spec.metrics),
        }
    return out


def child_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["pipeline", "floor", "history"])
    p.add_argument("--ds", nargs="+", required=True)
    p.add_argument("--tasks", help="JSON list of tasks (pipeline/history)")
    p.add_argument("--scale", type=int, default=0, help="generate raw first (history)")
    args = p.parse_args(argv)
    from spark_jobs.run import job_session

    if args.mode == "history":  # each day generates first, then opens its timing
        from include.generator import GeneratorConfig, write_day
        from include.settings import load_settings

        days = []
        with job_session(f"bench history {args.ds[0]}") as spark:
            for ds in args.ds:
                g0 = time.perf_counter()
                write_day(ds, load_settings().raw_root,
                          GeneratorConfig(events_per_day=args.scale))  # fmt: skip
                generated = round(time.perf_counter() - g0, 2)
                day = child_pipeline(spark, ds, json.loads(args.tasks))
                day["generate_seconds"] = generated
                days.append(day)
                print(f"  {ds}: {day['seconds']} s", file=sys.stderr, flush=True)
        print(BENCH_PREFIX + json.dumps({"days": days}), flush=True)
        return 0
    started = time.perf_counter()  # the session's start is inside the timing
    with job_session(f"bench {args.mode} ds={args.ds[0]}") as spark:
        if args.mode == "floor":
            out = child_floor(spark, args.ds[0], started)
        else:
            tasks = json.loads(args.tasks)
            daily = [t for t in tasks if not t["task"].startswith("experiment_")]
            readouts = [t for t in tasks if t["task"].startswith("experiment_")]
            out = child_pipeline(spark, args.ds[0], daily, started)
            out["readouts"] = child_pipeline(spark, args.ds[0], readouts) if readouts else None
            out["experiments"] = child_experiment_users(spark, args.ds[0])
    print(BENCH_PREFIX + json.dumps(out), flush=True)
    return 0


# --------------------------------------------------------------------------- parent side
def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_child(args: list[str], env: dict, timeout: int, script: str | None = None) -> dict:
    """Run a child mode of ``script`` (this file by default); return its BENCH_RESULT, wall
    seconds, the child's peak tree RSS and the engine server's (MiB; the server's pid is
    ``env["BENCH_ENGINE_PID"]``, absent with the ``submit`` engine)."""
    cmd = [sys.executable, str(Path(script or __file__).resolve()), "_child", *args]
    # the child's whole stderr (Spark's log) is kept: a failure's cause is rarely in its tail
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{time.strftime('%Y%m%dT%H%M%S')}-{Path(cmd[1]).stem}-{args[0]}.log"
    started = time.perf_counter()
    server = int(env["BENCH_ENGINE_PID"]) if env.get("BENCH_ENGINE_PID") else None
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=sink,
                                text=True)  # fmt: skip
        out = _wait(proc, args[0], timeout, log, peak := [0, 0], server)
    line = [x for x in out.splitlines() if x.startswith(BENCH_PREFIX)][-1]
    result = json.loads(line[len(BENCH_PREFIX) :])
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    result["peak_rss_mib"] = round(peak[0] / 2**20)
    result["server_peak_rss_mib"] = round(peak[1] / 2**20) if server else None
    result["log"] = str(log)
    return result


def _wait(proc, mode: str, timeout: int, log: Path, peak: list, server: int | None) -> str:
    """Wait for a child, sampling its tree's RSS into ``peak[0]`` (and the engine server's
    into ``peak[1]``); its stdout, or a clear error naming the log (with the log's lines that
    say why)."""
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            if server:
                peak[1] = max(peak[1], _tree_rss(server))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError(f"{mode} timed out after {timeout}s; log: {log}") from None
    finally:
        stop.set()
        sampler.join()
    if proc.returncode != 0:
        text = log.read_text(errors="replace").splitlines()
        # the Python error that ended the child, then the first JVM errors (not the WARN
        # lines Spark logs while probing a glob path for a metadata directory)
        tail = [x for x in text if re.match(r"(py4j\.protocol\.|: )\S+(Error|Exception)", x)]
        causes = [
            x
            for x in text
            if re.search(r"OutOfMemoryError|Exception:|Error:", x)
            and " WARN " not in x
            and not re.search(r"FileNotFoundException: .*\*", x)
        ]
        raise RuntimeError(
            f"{mode} failed ({proc.returncode}); log: {log}\nerror:\n"
            + "\n".join(x[:400] for x in tail[-2:])
            + "\nfirst causes:\n"
            + "\n".join(x[:400] for x in causes[:8])
            + "\nlast lines:\n"
            + "\n".join(text[-25:])
        )
    return out


class BenchEngine:
    """The engine of the bench's children: a Spark Connect server of the bench's own, fresh
    (a new JVM) for each measured child, or nothing (``submit``: each child has its JVM)."""

    def __init__(self, mode: str, memory: str, work: Path, conf: dict | None = None):
        self.mode, self.memory, self.work, self.server, self.starts = mode, memory, work, None, 0
        self.conf = conf or {}

    def fresh(self) -> dict:
        """Restart the server; the environment a child needs to use it."""
        if self.mode == "submit":
            return {"LAKEHOUSE_ENGINE": "submit"}
        from include.engine_server import start_private_server

        self.stop()
        self.starts += 1
        self.server = start_private_server(
            self.work / f"engine-{self.starts}", name="bench-connect", memory=self.memory,
            conf=self.conf, ui=False)  # fmt: skip
        return self.env()

    def env(self) -> dict:
        s = self.server
        return {"LAKEHOUSE_ENGINE": "connect", "LAKEHOUSE_CONNECT_HOST": s.host,
                "LAKEHOUSE_CONNECT_PORT": str(s.port), "LAKEHOUSE_CONNECT_TOKEN": s.token,
                "BENCH_ENGINE_PID": str(s.pid())}  # fmt: skip

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def bench_env(prefix: str, work: Path) -> dict:
    env = dict(os.environ)
    from include.settings import load_settings

    settings = load_settings()
    env.update({
        "LAKEHOUSE_WAREHOUSE_ROOT": f"s3a://{settings.warehouse_bucket}/{prefix}",
        "LAKEHOUSE_RAW_ROOT": f"s3a://{settings.raw_bucket}/{prefix}",
        "LAKEHOUSE_METASTORE": "false",
        "LAKEHOUSE_REPORTS_DIR": str(work / "reports"),
        "LAKEHOUSE_EXPORTS_DIR": str(work / "exports"),
        "PYTHONPATH": str(ROOT),
    })  # fmt: skip
    return env


def generate(ds: str, scale: int, env: dict) -> dict:
    """Land ``ds`` at ``scale`` in the bench raw zone (in a child, so env applies)."""
    code = (
        "import json, time; from include.generator import GeneratorConfig, write_day; "
        "from include.settings import load_settings; t = time.perf_counter(); "
        f"p = write_day({ds!r}, load_settings().raw_root, "
        f"GeneratorConfig(events_per_day={scale})); "
        "print(json.dumps({'seconds': round(time.perf_counter() - t, 2), 'manifest': p[-1]}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    from include.storage import get_bytes

    manifest = json.loads(get_bytes(f"{env['LAKEHOUSE_RAW_ROOT']}/{result['manifest']}"))
    result["web_event_lines"] = manifest["volumes"]["web_event_lines"]
    return result


def bench_scale(scale: int, env: dict, tasks: list[dict], timeout: int,
                engine: BenchEngine) -> dict:  # fmt: skip
    print(f"== {scale:,} web events, ds {DS}", flush=True)
    gen = generate(DS, scale, env)
    print(f"   generated {gen['web_event_lines']:,} lines in {gen['seconds']} s", flush=True)
    readouts = experiment_readouts(DS)
    pipe = run_child(["pipeline", "--ds", DS, "--tasks", json.dumps(tasks + readouts)],
                     {**env, **engine.fresh()}, timeout)  # fmt: skip
    raw_to_gold = pipe["seconds"]
    print(f"   raw -> gold {raw_to_gold} s (child wall {pipe['wall_seconds']} s, "
          f"peak RSS {pipe['peak_rss_mib']} MiB, engine server "
          f"{pipe['server_peak_rss_mib']} MiB)", flush=True)  # fmt: skip
    floor = run_child(["floor", "--ds", DS], {**env, **engine.fresh()}, timeout)
    print(f"   I/O floor {floor['seconds']} s ({floor['lines']:,} lines)", flush=True)
    readout = pipe["readouts"] or {"seconds": 0.0, "tasks": []}
    print(f"   readouts {readout['seconds']} s for {pipe['experiments']}", flush=True)
    return {
        "events_per_day": scale,
        "ds": DS,
        "web_event_lines": gen["web_event_lines"],
        "generate_seconds": gen["seconds"],
        "raw_to_gold_seconds": raw_to_gold,
        "rows_per_second": round(gen["web_event_lines"] / raw_to_gold),
        "events_per_second": round(scale / raw_to_gold),
        "child_wall_seconds": pipe["wall_seconds"],
        "engine": engine.mode,
        "peak_rss_mib": pipe["peak_rss_mib"],
        "server_peak_rss_mib": pipe["server_peak_rss_mib"],
        "floor_seconds": floor["seconds"],
        "floor_lines": floor["lines"],
        "floor_missing_sources": floor["missing_sources"],
        "floor_peak_rss_mib": floor["peak_rss_mib"],
        "floor_server_peak_rss_mib": floor["server_peak_rss_mib"],
        "pipeline_over_floor": round(raw_to_gold / floor["seconds"], 2),
        "tasks": pipe["tasks"],
        "jobs": pipe["jobs"],
        "readout_seconds": readout["seconds"],
        "readout_tasks": readout["tasks"],
        "experiments": pipe["experiments"],
    }


def bench_history(days: int, scale: int, env: dict, tasks: list[dict], timeout: int,
                  control_env: dict | None = None, first_day: str = HISTORY_START,
                  engine: BenchEngine | None = None) -> dict:  # fmt: skip
    """Day 1, days 2..N-1, day N; with ``control_env`` (an empty prefix), day 1 again right
    after day N, so day N is also compared with a day 1 run on the machine as it is then.
    Day 1, day N and the control each run in a fresh engine; the middle days share one."""
    engine = engine or BenchEngine("submit", "", Path())
    print(f"== history: {days} days at {scale:,} events/day from {first_day}", flush=True)
    start = date.fromisoformat(first_day)
    all_days = [(start + timedelta(d)).isoformat() for d in range(days)]
    # each day also runs the experiment readouts: their cumulative chart reads every
    # partition since the experiment's start, the one part of a day meant to grow with it
    spec = json.dumps(tasks + experiment_readouts(all_days[0]))

    first = run_child(["history", "--ds", all_days[0], "--scale", str(scale), "--tasks", spec],
                      {**env, **engine.fresh()}, timeout)["days"][0]  # fmt: skip
    print(f"   day 1 {first['seconds']} s", flush=True)
    middle = []
    if days > 2:
        middle = run_child(["history", "--ds", *all_days[1:-1], "--scale", str(scale),
                            "--tasks", spec], {**env, **engine.fresh()},
                           timeout * days)["days"]  # fmt: skip
    last = run_child(["history", "--ds", all_days[-1], "--scale", str(scale), "--tasks", spec],
                     {**env, **engine.fresh()}, timeout)["days"][0]  # fmt: skip
    print(f"   day {days} {last['seconds']} s", flush=True)
    again = None
    if control_env is not None:
        again = run_child(["history", "--ds", all_days[0], "--scale", str(scale), "--tasks",
                           spec], {**control_env, **engine.fresh()},
                          timeout)["days"][0]  # fmt: skip
        print(f"   day 1 again, after day {days}: {again['seconds']} s", flush=True)
    return history_summary(days, scale, first, middle, last, again)


def history_summary(days: int, scale: int, first: dict, middle: list[dict], last: dict,
                    again: dict | None = None) -> dict:
    """Day N against day 1 (and against ``again``, day 1 run after day N), job by job."""

    def jobs_seconds(day: dict) -> float:
        return round(sum(j["seconds"] for j in day["jobs"]), 2)

    def key(j: dict) -> str:  # quality.gate runs in several tasks
        return f"{j['task']}/{j['job']}"

    def growth_from(day1: dict) -> list[tuple[str, float | None, float]]:
        """(job, day-1 seconds or None, day-N seconds); a job day N skipped (a concluded
        experiment's) counts 0 s on day N, so it still counts on day 1."""
        per_job_first = {key(j): j["seconds"] for j in day1["jobs"]}
        per_job_last = {key(j): j["seconds"] for j in last["jobs"]}
        gone = [(k, a, 0.0) for k, a in per_job_first.items() if k not in per_job_last]
        return sorted(
            [(k, per_job_first.get(k), b) for k, b in per_job_last.items()] + gone,
            key=lambda x: -(x[2] - (x[1] or 0)),
        )

    growth = growth_from(first)
    out = {
        "days": days,
        "events_per_day": scale,
        "day1_seconds": first["seconds"],
        "dayN_seconds": last["seconds"],
        "dayN_over_day1": round(last["seconds"] / first["seconds"], 3),
        "day1_jobs_seconds": jobs_seconds(first),
        "dayN_jobs_seconds": jobs_seconds(last),
        "middle_days_seconds": [d["seconds"] for d in middle],
        "middle_days_trend": middle_trend(middle),
        "largest_job_growth": [{"job": t, "day1": a, f"day{days}": b} for t, a, b in growth[:8]],
        "every_job": [{"job": t, "day1": a, f"day{days}": b} for t, a, b in growth],
        "by_kind": by_kind(growth),
        "skipped_tasks": {"day1": first.get("skipped_tasks", []),
                          "dayN": last.get("skipped_tasks", [])},  # fmt: skip
    }
    if again is not None:
        out["control_day1"] = {
            "why": "the machine's speed drifts over a long run: the same day 1 (empty tables, "
                   "fresh JVM) run again right after day N",
            "day1_seconds": again["seconds"],
            "dayN_over_control_day1": round(last["seconds"] / again["seconds"], 3),
            "by_kind": by_kind(growth_from(again)),
            "every_job_day1": {key(j): j["seconds"] for j in again["jobs"]},
        }  # fmt: skip
    return out


def middle_trend(middle: list[dict]) -> dict:
    """Seconds a day, per kind, over days 2..N-1 (one warm JVM) and the least-squares slope.

    Day 1 and day N run in cold JVMs and pay one-off costs: day 1 creates every table; a day
    whose write is a table's 10th, 20th, ... commit also writes that table's Delta checkpoint
    (days 10, 20, 30 of a run, for tables written once a day); the gates' week-over-week
    checks read ds - 7 only from day 8 on. The slope over the middle days, leaving out the
    first (its JVM warms up) and the checkpoint days (``CHECKPOINT_EVERY``: periodic, not
    growth; their seconds stay in ``per_day``), is the cost each further day of history adds.
    """
    days = [
        {kind: round(sum(j["seconds"] for j in d["jobs"] if job_kind(f"{j['task']}/")
                         == kind), 2) for kind in KINDS}  # fmt: skip
        for d in middle
    ]
    for row, d in zip(days, middle, strict=True):
        row["all"] = round(sum(j["seconds"] for j in d["jobs"]), 2)
    numbers = range(2, len(days) + 2)  # middle[0] is day 2
    fit = [(n, row) for n, row in zip(numbers, days, strict=True)
           if n > 2 and n % CHECKPOINT_EVERY]  # fmt: skip
    out: dict = {"per_day": days, "fitted_days": len(fit),
                 "left_out_days": [n for n in numbers if n == 2 or not n % CHECKPOINT_EVERY]}
    if len(fit) >= 3:
        for kind in (*KINDS, "all"):
            x, y = [n for n, _ in fit], [row[kind] for _, row in fit]
            slope = statistics.linear_regression(x, y).slope
            mean = statistics.fmean(y)
            out[kind] = {
                "mean_seconds": round(mean, 2),
                "slope_seconds_per_day": round(slope, 3),
                "slope_over_mean_per_day": round(slope / mean, 4) if mean else None,
            }
    return out


# Delta's default checkpoint interval (delta.checkpointInterval): every 10th commit.
CHECKPOINT_EVERY = 10


# What a job reads, by its task: the part of a day whose cost may grow, and why.
KINDS = {
    "experiment_to_date": "experiment tasks: exposure/outcomes/readouts read every partition "
                          "from the experiment's start (to its end + outcome window)",
    "finance_history": "finance marts: account state from all billing history, a month's marts",
    "daily": "everything else: the day's partitions (gates' week-over-week: ds and ds-7)",
}


def job_kind(job_key: str) -> str:
    task = job_key.split("/", 1)[0]
    if task.startswith(("experiments.", "experiment_")):
        return "experiment_to_date"
    if task.startswith("finance."):
        return "finance_history"
    return "daily"


def by_kind(growth: list[tuple[str, float | None, float]]) -> dict:
    """Sum of the jobs' own seconds on day 1 and day N per kind (a job missing on day 1
    counts 0 there), so a flat daily part is told apart from parts that read history."""
    out: dict = {}
    for kind, why in KINDS.items():
        rows = [(a or 0.0, b) for t, a, b in growth if job_kind(t) == kind]
        first, last = round(sum(a for a, _ in rows), 2), round(sum(b for _, b in rows), 2)
        out[kind] = {"jobs": len(rows), "day1_seconds": first, "dayN_seconds": last,
                     "dayN_over_day1": round(last / first, 3) if first else None,
                     "reads": why}  # fmt: skip
    return out


def bench_airflow(dag_id: str = "lakehouse_daily", days: list[str] | None = None) -> dict:
    """DAG run wall time vs the Spark jobs' own seconds, per successful run on record.

    ``days``: only the runs of these logical dates (default: every successful run). Per run:
    the wall time (run start to end), the sum of task durations, the Spark jobs' own seconds
    (the ``LAKEHOUSE_RESULT`` line each job prints in its task log), and ``land_raw``'s
    seconds apart: it generates the day's raw files (it stands in for upstream systems, no
    Spark), so ``wall_less_land_raw_over_jobs`` is the overhead of Airflow itself
    (scheduling, one ``spark-submit`` and JVM per task, the operators). A task whose log has
    no result line is listed in ``tasks_without_result`` (its Spark seconds are missing).
    """
    sys.path.insert(0, str(ROOT / "scripts"))
    from trigger_run import _request, login, password_for

    from include.settings import load_settings

    base = os.environ.get("LAKEHOUSE_AIRFLOW_URL") or (
        f"http://127.0.0.1:{os.environ.get('LAKEHOUSE_AIRFLOW_PORT', '8080')}"
    )
    token = login(base, "admin", password_for("admin"))
    runs = _request("GET", f"{base}/api/v2/dags/{dag_id}/dagRuns?state=success&limit=100"
                    "&order_by=logical_date", token=token)["dag_runs"]  # fmt: skip
    if days:
        runs = [r for r in runs if r["logical_date"][:10] in set(days)]
    logs = load_settings().state_dir / "airflow" / "logs" / f"dag_id={dag_id}"
    out = []
    for run in runs:
        run_id = run["dag_run_id"]
        tis = _request("GET", f"{base}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
                       "?limit=200", token=token)["task_instances"]  # fmt: skip
        job_seconds, without = 0.0, []
        for ti in tis:
            if ti["state"] != "success":
                continue
            found = task_log_seconds(
                logs / f"run_id={run_id}" / f"task_id={ti['task_id']}"
                / f"attempt={ti['try_number']}.log"
            )
            if found is None:
                without.append(ti["task_id"])
            job_seconds += found or 0.0
        task_seconds = sum(ti["duration"] or 0 for ti in tis)
        land = sum(ti["duration"] or 0 for ti in tis if ti["task_id"] == "land_raw")
        wall = (_ts(run["end_date"]) - _ts(run["start_date"])).total_seconds()
        out.append({
            "run_id": run_id, "ds": run["logical_date"][:10], "conf": run.get("conf"),
            "wall_seconds": round(wall, 1), "task_seconds": round(task_seconds, 1),
            "land_raw_seconds": round(land, 1), "spark_job_seconds": round(job_seconds, 1),
            "tasks": len(tis), "tasks_skipped": sum(ti["state"] == "skipped" for ti in tis),
            "tasks_without_result": without,
            "wall_over_jobs": round(wall / job_seconds, 2) if job_seconds else None,
            "wall_less_land_raw_over_jobs":
                round((wall - land) / job_seconds, 2) if job_seconds else None,
            "tasks_over_jobs": round(task_seconds / job_seconds, 2) if job_seconds else None,
        })  # fmt: skip
    return {"dag_id": dag_id, "runs": out}


def task_log_seconds(log: Path) -> float | None:
    """Sum of the Spark jobs' own seconds in one task log (None: no log or no result line).

    Task logs are JSON lines (Airflow 3) or plain text; a job prints ``LAKEHOUSE_RESULT
    {json}`` with its ``seconds``.
    """
    if not log.exists():
        return None
    found = None
    for line in log.read_text(errors="replace").splitlines():
        text = line
        if line.startswith("{"):
            try:
                text = str(json.loads(line).get("event", ""))
            except ValueError:
                pass
        m = re.search(r"LAKEHOUSE_RESULT (\{.*\})", text)
        if m:
            found = (found or 0.0) + float(json.loads(m.group(1))["seconds"])
    return found


def _ts(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def source_commit() -> str:
    """The checkout's commit, ``+dirty`` when tracked files differ from it (figures belong
    to the code that produced them)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()  # fmt: skip

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def cleanup(env: dict) -> None:
    from include.storage import delete_prefix

    for key in ("LAKEHOUSE_RAW_ROOT", "LAKEHOUSE_WAREHOUSE_ROOT"):
        root = env[key].rstrip("/")
        if "/bench/" in root:  # never anything outside the bench prefix
            delete_prefix(root + "/")


def run_parts(parts: set, args, tasks: list[dict], tmp: Path, engine: BenchEngine,
              report: dict) -> None:  # fmt: skip
    if "pipeline" in parts and args.scales:
        env = bench_env(f"bench/{uuid.uuid4().hex[:8]}", tmp)
        try:
            report["pipeline"] = [bench_scale(s, env, tasks, args.timeout, engine)
                                  for s in args.scales]  # fmt: skip
        finally:
            if not args.keep:
                cleanup(env)
    if "history" in parts and args.history_days >= 2:
        env = bench_env(f"bench/{uuid.uuid4().hex[:8]}", tmp)
        control = bench_env(f"bench/{uuid.uuid4().hex[:8]}", tmp)
        try:
            report["history"] = bench_history(
                args.history_days, args.history_scale, env, tasks, args.timeout, control,
                str(args.history_start), engine)
        finally:
            cleanup(control)
            if not args.keep:
                cleanup(env)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        return child_main(argv[1:])
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--scales", type=int, nargs="*", default=[1_000_000, 10_000_000])
    p.add_argument("--history-days", type=int, default=30)
    p.add_argument("--history-scale", type=int, default=20_000)
    p.add_argument("--history-start", type=date.fromisoformat, default=HISTORY_START,
                   help="day 1 of the history (YYYY-MM-DD; default %(default)s)")
    p.add_argument("--only", choices=["pipeline", "history", "airflow"], nargs="+")
    p.add_argument("--airflow-ds", nargs="+", metavar="YYYY-MM-DD",
                   help="airflow: only the runs of these logical dates")
    p.add_argument("--timeout", type=int, default=7200, help="seconds per child process")
    p.add_argument("--engine", choices=["connect", "submit"], default="connect",
                   help="the children's engine (default: a Connect server of the bench's own)")
    p.add_argument("--engine-memory", default=None,
                   help="heap of the bench's Connect server (default LAKEHOUSE_CONNECT_MEMORY)")
    p.add_argument("--engine-conf", nargs="*", default=[], metavar="KEY=VALUE",
                   help="Spark settings of the bench's Connect server beyond the lakehouse's")
    p.add_argument("--keep", action="store_true", help="keep the bench prefix afterwards")
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    parts = set(args.only or ["pipeline", "history", "airflow"])
    from include.settings import load_settings

    settings = load_settings()
    report: dict = {
        "benchmark": "pipeline",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": source_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "arch": platform.machine(),
            "python": platform.python_version(),
            "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
            ),
            "load_average_at_start": os.getloadavg(),
        },  # fmt: skip
        "spark": {
            "engine": args.engine,
            "master": settings.spark_master,
            "driver_memory": (args.engine_memory or settings.connect_memory)
            if args.engine == "connect" else settings.driver_memory,
            "shuffle_partitions": settings.shuffle_partitions,
            "min_partitions": settings.min_partitions,
            "store": settings.s3_endpoint,
        },  # fmt: skip
    }
    tasks = dag_spark_tasks() if parts & {"pipeline", "history"} else []
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as tmp:
        engine_conf = dict(kv.split("=", 1) for kv in args.engine_conf)
        report["spark"]["engine_conf"] = engine_conf
        engine = BenchEngine(args.engine, args.engine_memory or settings.connect_memory,
                             Path(tmp), engine_conf)  # fmt: skip
        try:
            run_parts(parts, args, tasks, Path(tmp), engine, report)
        finally:
            engine.stop()
    if "airflow" in parts:
        try:
            report["airflow"] = bench_airflow(days=args.airflow_ds)
        except (OSError, SystemExit) as err:  # not running / refused: keep the other figures
            report["airflow"] = {"error": f"Airflow API: {err}"}
    report["load_average_at_end"] = os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "airflow"}, indent=1)[:6000])
    if "airflow" in report:
        for r in report["airflow"].get("runs", []):
            print(
                f"airflow {r['ds']} wall {r['wall_seconds']} s (land_raw "
                f"{r['land_raw_seconds']} s), tasks {r['task_seconds']} s, spark jobs "
                f"{r['spark_job_seconds']} s: wall/jobs {r['wall_over_jobs']}, without land_raw "
                f"{r['wall_less_land_raw_over_jobs']}; no result line: {r['tasks_without_result']}"
            )
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
