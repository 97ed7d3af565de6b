"""The truth run (issue 29, item 12): a world where both experiments reach their decision day,
run through the daily DAG's jobs, each readout compared with the generator's planted truth.

The world is :func:`include.generator.worlds.truth_world`: homepage_cta_test with activation
planted +80 % (planted verdict: ship) and pdp_redesign with purchase and revenue planted -50 %
(planted verdict: do not ship), both decided within 12 days at 50k events a day. Every day is
generated into a private prefix of the raw and warehouse buckets (``bench/<run id>``, removed
afterwards unless ``--keep``; metastore off, so the demo lakehouse is never touched), then
every Spark task of ``lakehouse_daily`` runs for it in a topological order of the DAG itself
(``bench_pipeline.dag_spark_tasks``), in one session on a Connect server of the bench's own,
with the world's experiment files (``LAKEHOUSE_EXPERIMENTS_DIR``). On each experiment's
decision day its readout job runs, as the experiment's readout DAG would.

Checks (``include.truth_check.compare``), per experiment, on the decision day's readout
(overall segment):

* each primary metric's planted relative lift lies inside the readout's interval of the
  relative lift (a metric the world cannot show, with no interval, is reported as such);
* the verdict is the planted one: ``ship`` for a planted win (a primary metric planted up,
  none down), ``do_not_ship`` for a planted loss or a flat metric.

Beside each estimate: the lift the generated sample actually holds (from the manifests' per-arm
realised outcomes of the exposed cohorts), so a miss can be told apart from sampling noise.
Exit status 1 when a check fails. Figures go to ``bench/results/truth.json``.

    python bench/bench_truth.py                 # about 12 days x 2-3 min on 2 cores
    python bench/bench_truth.py --scale 20000 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_pipeline import (  # noqa: E402
    BENCH_PREFIX,
    BenchEngine,
    bench_env,
    child_pipeline,
    cleanup,
    dag_spark_tasks,
    run_child,
    source_commit,
)
from include.truth_check import READOUT_FIELDS, format_table, judge  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "truth.json"


# --------------------------------------------------------------------------- child process
def child_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["truth"])
    p.add_argument("--scale", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--tasks", required=True)
    args = p.parse_args(argv)
    from include.generator import write_day
    from include.generator.worlds import truth_world
    from include.settings import load_settings
    from include.storage import get_bytes
    from include.table_catalog import READOUTS
    from include.tables import read_partition
    from spark_jobs.run import job_session, run

    world = truth_world(args.scale, args.seed)
    specs = world.specs()
    settings = load_settings()
    tasks = json.loads(args.tasks)
    days, manifests, readouts = [], [], {}
    with job_session("bench truth") as spark:
        for ds in world.days():
            g0 = time.perf_counter()
            paths = write_day(ds, settings.raw_root, world.generator)
            generated = round(time.perf_counter() - g0, 2)
            manifest = json.loads(get_bytes(f"{settings.raw_root}/{paths[-1]}"))
            manifests.append({"ds": ds, "experiments": manifest["experiments"]})
            day = child_pipeline(spark, ds, tasks)
            day["generate_seconds"] = generated
            for name, spec in specs.items():
                if spec.decision_day.isoformat() != ds:
                    continue
                out = run("readouts.experiment", ds, {"experiment": name}, spark=spark)
                day.setdefault("readouts", {})[name] = out["seconds"]
                rows = (
                    read_partition(spark, READOUTS, ds, settings)
                    .where(f"readout = 'experiment_{name}' AND segment = 'overall'")
                    .select(*READOUT_FIELDS)
                    .collect()
                )
                readouts[name] = {"ds": ds, "rows": [r.asDict() for r in rows]}
            days.append(day)
            print(f"  {ds}: {day['seconds']} s", file=sys.stderr, flush=True)
    print(BENCH_PREFIX + json.dumps({"days": days, "manifests": manifests,
                                     "readouts": readouts}), flush=True)  # fmt: skip
    return 0


# --------------------------------------------------------------------------- parent side
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        return child_main(argv[1:])
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--scale", type=int, default=50_000, help="events per day")
    p.add_argument("--seed", type=int, default=29)
    p.add_argument("--timeout", type=int, default=4 * 3600, help="seconds for the whole run")
    p.add_argument("--engine-memory", default=None,
                   help="heap of the bench's Connect server (default LAKEHOUSE_CONNECT_MEMORY)")
    p.add_argument("--keep", action="store_true", help="keep the bench prefix afterwards")
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    from include.generator.worlds import truth_world
    from include.settings import load_settings

    settings = load_settings()
    world = truth_world(args.scale, args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_truth_") as tmp:
        work = Path(tmp)
        # the DAG is parsed here with the world's experiment files, as the children run it
        os.environ["LAKEHOUSE_EXPERIMENTS_DIR"] = str(world.write_experiments(work / "exp"))
        tasks = dag_spark_tasks()
        env = bench_env(f"bench/truth-{uuid.uuid4().hex[:8]}", work)
        engine = BenchEngine("connect", args.engine_memory or settings.connect_memory, work)
        print(f"== truth run: {len(world.days())} days ({world.first_day} .. "
              f"{world.last_day}) at {args.scale:,} events/day", flush=True)  # fmt: skip
        try:
            out = run_child(["truth", "--scale", str(args.scale), "--seed", str(args.seed),
                             "--tasks", json.dumps(tasks)], {**env, **engine.fresh()},
                            args.timeout, script=__file__)  # fmt: skip
        finally:
            engine.stop()
            if not args.keep:
                cleanup(env)
    specs = world.specs()
    results = []
    for name, spec in specs.items():
        readout = out["readouts"].get(name)
        if readout is None:
            raise SystemExit(f"no readout of {name} on its decision day {spec.decision_day}")
        results.append(judge(spec, out["manifests"], readout["rows"]))
    table = format_table(results)
    print(table)
    report = {
        "benchmark": "truth",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": source_commit(),
        "machine": {"cpus": os.cpu_count(), "arch": platform.machine(),
                    "python": platform.python_version()},  # fmt: skip
        "world": {"name": world.name, "days": world.days(), "events_per_day": args.scale,
                  "seed": args.seed},  # fmt: skip
        "seconds": round(time.perf_counter() - started, 1),
        "day_seconds": [d["seconds"] for d in out["days"]],
        "results": results,
        "table": table.splitlines(),
        "passed": all(r["passed"] for r in results),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"{report['seconds']} s in all; days {report['day_seconds']}; "
          f"{'PASS' if report['passed'] else 'FAIL'}; {args.output}")  # fmt: skip
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
