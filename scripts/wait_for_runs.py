"""Wait for a DAG's runs over a date range to finish, printing progress; exit 1 if any failed.

Uses Airflow's own CLI output (JSON) so it works against any metadata database.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time

TERMINAL = {"success", "failed"}


def runs(dag: str) -> list[dict]:
    out = subprocess.run(
        ["airflow", "dags", "list-runs", dag, "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Airflow may log lines before the JSON document: take the line that is the document.
    for line in reversed(out.splitlines()):
        if line.startswith("[{") or line.strip() == "[]":
            return json.loads(line)
    return []


def main() -> int:
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
        for r in runs(dag):
            day = str(r.get("logical_date", ""))[:10]
            # the latest run of each wanted day is the one this backfill made
            if day in wanted and str(r.get("run_after", "")) >= newest.get(day, ""):
                newest[day] = str(r.get("run_after", ""))
                states[day] = r.get("state", "?")
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
            return 0
        if time.monotonic() - t0 > limit:
            print("timed out waiting for the runs", file=sys.stderr)
            return 1
        time.sleep(5)


if __name__ == "__main__":
    sys.exit(main())
