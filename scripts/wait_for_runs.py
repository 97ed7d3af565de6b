"""Wait for a DAG's runs over a date range to finish, printing progress; exit 1 if any failed.

``--settle SINCE DAG...`` waits instead for every run of the DAGs made at or after SINCE
(the Asset-triggered experiment DAGs, whose runs have no logical date) to finish.
``--forget DAG START END`` deletes the DAG's runs of those days (a demo of another world).
``--first-run DAG START END`` waits (up to a minute) until the scheduler has made a run of a
day in START..END after the DAG was unpaused.
``--unpause SINCE DAG...`` waits until the DAG processor has parsed each DAG at or after SINCE
(the Airflow start: the DAG as this start's environment defines it), then unpauses it;
``--pause DAG...`` pauses; ``--experiment-dags`` prints the readout DAGs' ids.
Asks Airflow's REST API (``scripts/trigger_run.py``'s login): each ``airflow dags list-runs``
CLI call imported all of Airflow (3-5 s of CPU), every 5 s, beside the tasks on 2 cores.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

TERMINAL = {"success", "failed"}


_TOKEN: list[str] = []


def _api(path: str, method: str = "GET", body: dict | None = None) -> dict:
    """``/api/v2/<path>`` of this checkout's Airflow API server (logging in once)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    from trigger_run import _request, login, password_for

    base = f"http://127.0.0.1:{os.environ.get('LAKEHOUSE_AIRFLOW_PORT', '8080')}"
    if not _TOKEN:
        _TOKEN.append(login(base, "admin", password_for("admin")))
    return _request(method, f"{base}/api/v2/{path}", body, token=_TOKEN[0])


def _when(value) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def parsed_since(dags: list[dict], since: str) -> set[str]:
    """Ids of the DAGs (``GET /dags`` entries) the DAG processor parsed at or after ``since``."""
    cutoff = _when(since)
    parsed = {d["dag_id"]: _when(d.get("last_parsed_time")) for d in dags}
    return {dag for dag, when in parsed.items() if when is not None and when >= cutoff}


def set_paused(dags: list[str], paused: bool, since: str | None = None, limit: float = 180) -> int:
    """(Un)pause the DAGs through the REST API; with ``since``, first wait until each is parsed
    at or after it (instead of ``airflow dags reserialize/list/unpause``: 3-5 s of CPU each)."""
    t0 = time.monotonic()
    while since is not None:
        listed = _api("dags?limit=1000")["dags"]
        missing = sorted(set(dags) - parsed_since(listed, since))
        if not missing:
            break
        if time.monotonic() - t0 > limit:
            print(f"not parsed within {limit:.0f} s: {missing}; see the DAG processor's log",
                  file=sys.stderr)  # fmt: skip
            return 1
        time.sleep(1)
    for dag in dags:
        _api(f"dags/{dag}", "PATCH", {"is_paused": paused})
    return 0


def experiment_dags() -> list[str]:
    """The readout DAGs' ids (``include.dag_factory``: one per experiment config)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    from include.dag_factory import DAG_PREFIX, readout_configs

    return [f"{DAG_PREFIX}{spec.name}" for spec in readout_configs()]


def runs(dag: str) -> list[dict]:
    """The DAG's runs: run_id, logical_date, run_after, state, start and end (newest first)."""
    out, offset = [], 0
    while True:
        page = _api(f"dags/{dag}/dagRuns?limit=100&offset={offset}&order_by=-run_after")
        out += [{"run_id": r["dag_run_id"], "logical_date": r.get("logical_date"),
                 "run_after": r.get("run_after"), "state": r.get("state"),
                 "start_date": r.get("start_date"), "end_date": r.get("end_date")}
                for r in page["dag_runs"]]  # fmt: skip
        offset += len(page["dag_runs"])
        if not page["dag_runs"] or offset >= page.get("total_entries", 0):
            return out


def first_run(dag: str, start: dt.date, end: dt.date, limit: float = 60) -> int:
    """Wait until a scheduled run of a day in start..end exists (catchup has begun)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        for r in runs(dag):
            day = str(r.get("logical_date") or "")[:10]
            if str(r["run_id"]).startswith("scheduled__") and start.isoformat() <= day <= (
                    end.isoformat()):  # fmt: skip
                return 0
        time.sleep(2)
    return 0  # none yet: backfill_range then treats the window as the backfill's


def backfill_range(
    all_runs: list[dict], start: dt.date, end: dt.date
) -> tuple[str, str] | None:
    """Days of start..end the scheduler's catchup will not run: (first, last) or None.

    Catchup creates runs only after the DAG's latest scheduled run, so a day before it with
    no run, or whose latest run failed, needs a backfill; later days are catchup's.
    """
    scheduled = [
        str(r.get("logical_date", ""))[:10]
        for r in all_runs
        if str(r.get("run_id", "")).startswith("scheduled__")
    ]
    horizon = max(scheduled) if scheduled else None
    latest: dict[str, tuple[str, str]] = {}
    for r in all_runs:
        day = str(r.get("logical_date", ""))[:10]
        after = str(r.get("run_after", ""))
        if day not in latest or after >= latest[day][0]:
            latest[day] = (after, r.get("state", "?"))
    need = []
    day = start
    while day <= end:
        iso = day.isoformat()
        state = latest.get(iso, (None, None))[1]
        if state == "failed" or (state is None and (horizon is None or iso <= horizon)):
            need.append(iso)
        day += dt.timedelta(days=1)
    return (need[0], need[-1]) if need else None


def forget(dag: str, start: dt.date, end: dt.date) -> int:
    """Delete the runs of ``dag`` whose logical date is in start..end (their task
    instances go with them), so the scheduler's catchup makes them again: demo.sh does it
    when the state's data came from another world. Prints how many went."""
    import urllib.parse

    gone = 0
    try:
        made = runs(dag)
    except SystemExit as err:  # the DAG is unknown yet (a new state): nothing to forget
        print(f"no runs of {dag} to forget ({err})")
        return 0
    for r in made:
        day = str(r.get("logical_date") or "")[:10]
        if start.isoformat() <= day <= end.isoformat():
            run_id = urllib.parse.quote(str(r["run_id"]), safe="")
            _api(f"dags/{dag}/dagRuns/{run_id}", method="DELETE")
            gone += 1
    print(f"forgot {gone} runs of {dag} in {start} .. {end}")
    return 0


def unfinished_and_failed(all_runs: list[dict], since: str) -> tuple[list[str], list[str]]:
    """Run ids made at or after ``since`` (ISO time, UTC) not finished yet, and those failed."""
    cutoff = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    recent = [
        r
        for r in all_runs
        if r.get("run_after")
        and dt.datetime.fromisoformat(str(r["run_after"]).replace("Z", "+00:00")) >= cutoff
    ]
    return (
        [r["run_id"] for r in recent if r.get("state") not in TERMINAL],
        [r["run_id"] for r in recent if r.get("state") == "failed"],
    )


def settle(since: str, dags: list[str], limit: float = 3600, quiet_checks: int = 3) -> int:
    """Wait until the DAGs' runs since ``since`` are all finished, seen ``quiet_checks`` times
    in a row 5 s apart (an Asset-triggered run is created a few seconds after its event)."""
    t0, quiet, last = time.monotonic(), 0, None
    while quiet < quiet_checks:
        pending, failed = [], []
        for dag in dags:
            p, f = unfinished_and_failed(runs(dag), since)
            pending += [f"{dag}/{r}" for r in p]
            failed += [f"{dag}/{r}" for r in f]
        quiet = 0 if pending else quiet + 1
        summary = f"{len(pending)} running or queued" + (f": {pending}" if pending else "")
        if summary != last:
            print(f"[{time.monotonic() - t0:6.0f}s] {summary}", flush=True)
            last = summary
        if time.monotonic() - t0 > limit:
            print("timed out waiting for the runs", file=sys.stderr)
            return 1
        time.sleep(5)
    if failed:
        print(f"runs failed: {failed}; see the Airflow UI or var/airflow/logs", file=sys.stderr)
        return 1
    print(f"every run of {', '.join(dags)} since {since} finished")
    return 0


def run_seconds(run: dict) -> float | None:
    """A DAG run's wall time from its start to its end (None while it has not ended)."""
    try:
        start = dt.datetime.fromisoformat(str(run["start_date"]).replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(str(run["end_date"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return None
    return (end - start).total_seconds()


def main() -> int:
    if len(sys.argv) > 3 and sys.argv[1] == "--unpause":
        return set_paused(sys.argv[3:], False, since=sys.argv[2])
    if len(sys.argv) > 2 and sys.argv[1] == "--pause":
        return set_paused(sys.argv[2:], True)
    if sys.argv[1:] == ["--experiment-dags"]:
        print(*experiment_dags())
        return 0
    if len(sys.argv) > 3 and sys.argv[1] == "--settle":
        return settle(sys.argv[2], sys.argv[3:])
    if len(sys.argv) == 5 and sys.argv[1] == "--first-run":
        return first_run(sys.argv[2], dt.date.fromisoformat(sys.argv[3]),
                         dt.date.fromisoformat(sys.argv[4]))  # fmt: skip
    if len(sys.argv) == 5 and sys.argv[1] == "--forget":
        return forget(sys.argv[2], dt.date.fromisoformat(sys.argv[3]),
                      dt.date.fromisoformat(sys.argv[4]))  # fmt: skip
    if "--backfill-range" in sys.argv:
        # demo.sh: print "FIRST LAST" of the days needing a backfill (nothing if none)
        args = [a for a in sys.argv[1:] if a != "--backfill-range"]
        span = backfill_range(
            runs(args[0]), dt.date.fromisoformat(args[1]), dt.date.fromisoformat(args[2])
        )
        if span:
            print(*span)
        return 0
    dag, start, end = (
        sys.argv[1],
        dt.date.fromisoformat(sys.argv[2]),
        dt.date.fromisoformat(sys.argv[3]),
    )
    wanted = {(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)}
    t0, last = time.monotonic(), None
    limit = float(sys.argv[4]) if len(sys.argv) > 4 else 7200
    while True:
        states: dict[str, str] = {}
        newest: dict[str, str] = {}
        took: dict[str, float | None] = {}
        for r in runs(dag):
            day = str(r.get("logical_date", ""))[:10]
            # the latest run of each wanted day is the one this backfill made
            if day in wanted and str(r.get("run_after", "")) >= newest.get(day, ""):
                newest[day] = str(r.get("run_after", ""))
                states[day] = r.get("state", "?")
                took[day] = run_seconds(r)
        summary = ", ".join(f"{d}={states.get(d, 'pending')}" for d in sorted(wanted))
        if summary != last:
            print(f"[{time.monotonic() - t0:6.0f}s] {summary}", flush=True)
            last = summary
        if len(states) == len(wanted) and set(states.values()) <= TERMINAL:
            failed = sorted(d for d, s in states.items() if s == "failed")
            if failed:
                print(
                    f"runs failed: {failed}; see the Airflow UI or var/airflow/logs",
                    file=sys.stderr,
                )
                return 1
            print(f"all {len(wanted)} runs succeeded in {time.monotonic() - t0:.0f}s")
            print("each run, start to end: " + ", ".join(
                f"{d} {took[d]:.0f} s" if took.get(d) is not None else f"{d} ?"
                for d in sorted(wanted)))
            return 0
        if time.monotonic() - t0 > limit:
            print("timed out waiting for the runs", file=sys.stderr)
            return 1
        time.sleep(5)


if __name__ == "__main__":
    sys.exit(main())
