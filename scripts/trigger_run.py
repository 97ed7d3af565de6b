"""Trigger a DAG run through Airflow's REST API (v2) and optionally wait for it to finish.

    python scripts/trigger_run.py lakehouse_daily --ds 2024-01-09 --conf '{"scale": 2000}' --wait
    python scripts/trigger_run.py lakehouse_daily --backfill 2024-01-01 2024-01-07 --wait

What a platform team's tooling does: log in (``POST /auth/token``, the simple auth
manager's user from ``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE``), create the run
(``POST /api/v2/dags/{dag_id}/dagRuns``), then poll ``GET .../dagRuns/{run_id}``. The API
validates ``conf`` against the DAG's Params, so a bad value is refused with a 400 here,
before anything runs. ``--backfill FROM TO`` creates a backfill instead (``POST
/api/v2/backfills``, one run per day, at most ``--max-active-runs`` at once) and waits for
all its runs. The DAG must be unpaused for a backfill's tasks to run. Only the standard
library is used.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TERMINAL = {"success", "failed"}
_DAG_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
_DS = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _request(method: str, url: str, body: dict | None = None, token: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        detail = err.read().decode(errors="replace")
        raise SystemExit(f"{method} {url} -> HTTP {err.code}: {detail}") from None


def login(base: str, user: str, password: str) -> str:
    return _request("POST", f"{base}/auth/token", {"username": user, "password": password})[
        "access_token"
    ]


def password_for(user: str) -> str:
    if os.environ.get("AIRFLOW_PASSWORD"):
        return os.environ["AIRFLOW_PASSWORD"]
    path = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "")
    try:
        with open(path) as fh:
            return json.load(fh)[user]
    except (OSError, KeyError, ValueError):
        raise SystemExit(
            f"no password for {user!r}: set AIRFLOW_PASSWORD or source scripts/env.sh"
        ) from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dag_id")
    ap.add_argument("--ds", help="logical date YYYY-MM-DD (default: today, UTC)")
    ap.add_argument("--conf", default="{}", help="run conf (JSON object): the DAG's Params")
    ap.add_argument("--backfill", nargs=2, metavar=("FROM", "TO"),
                    help="backfill the days FROM..TO (YYYY-MM-DD, inclusive) instead")
    ap.add_argument("--max-active-runs", type=int, default=1, help="for --backfill")
    ap.add_argument("--wait", action="store_true", help="poll until the run(s) finish")
    ap.add_argument("--timeout", type=float, default=7200)
    ap.add_argument("--user", default="admin")
    ap.add_argument(
        "--url",
        default=os.environ.get(
            "AIRFLOW__API__BASE_URL",
            f"http://127.0.0.1:{os.environ.get('LAKEHOUSE_AIRFLOW_PORT', '8080')}",
        ),
    )
    args = ap.parse_args(argv)
    if not _DAG_ID.fullmatch(args.dag_id):
        ap.error(f"invalid dag id {args.dag_id!r}")
    for value in [args.ds or "", *(args.backfill or [])]:
        if value and not _DS.fullmatch(value):
            ap.error(f"dates must be YYYY-MM-DD, got {value!r}")
    try:
        conf = json.loads(args.conf)
    except ValueError as err:
        ap.error(f"--conf is not JSON: {err}")
    if not isinstance(conf, dict):
        ap.error("--conf must be a JSON object")

    base = args.url.rstrip("/")
    token = login(base, args.user, password_for(args.user))
    if args.backfill:
        return backfill(base, token, args, conf)
    # a run needs a logical date: the DAGs' tasks work on {{ ds }}
    ds = args.ds or time.strftime("%Y-%m-%d", time.gmtime())
    body: dict = {"conf": conf, "logical_date": f"{ds}T00:00:00Z"}
    dag = urllib.parse.quote(args.dag_id)
    run = _request("POST", f"{base}/api/v2/dags/{dag}/dagRuns", body, token)
    run_id = run["dag_run_id"]
    print(f"created {args.dag_id} run {run_id} (state {run['state']})", flush=True)
    if _request("GET", f"{base}/api/v2/dags/{dag}", token=token).get("is_paused"):
        # a paused DAG's runs stay queued: say so instead of waiting without a word
        print(f"{args.dag_id} is paused: the run stays queued until the DAG is unpaused "
              "(the toggle in the UI, or PATCH /api/v2/dags/{dag_id} {\"is_paused\": false})",
              file=sys.stderr, flush=True)  # fmt: skip
    if not args.wait:
        return 0
    t0, state = time.monotonic(), run["state"]
    logged_in = t0
    while state not in TERMINAL:
        if time.monotonic() - t0 > args.timeout:
            print(f"timed out after {args.timeout:.0f} s in state {state}", file=sys.stderr)
            return 1
        time.sleep(15)
        path = f"{base}/api/v2/dags/{dag}/dagRuns/{urllib.parse.quote(run_id)}"
        new = _request("GET", path, token=token)["state"]
        if new != state:
            print(f"[{time.monotonic() - t0:6.0f}s] {run_id}: {new}", flush=True)
        state = new
        if time.monotonic() - logged_in > 3000:  # tokens expire: log in again now and then
            token, logged_in = login(base, args.user, password_for(args.user)), time.monotonic()
    return 0 if state == "success" else 1


def backfill(base: str, token: str, args, conf: dict) -> int:
    """Create a backfill through the API and (with --wait) follow its runs to the end."""
    start, end = args.backfill
    body = {
        "dag_id": args.dag_id,
        "from_date": f"{start}T00:00:00Z",
        "to_date": f"{end}T00:00:00Z",
        "dag_run_conf": conf,
        "max_active_runs": args.max_active_runs,
        "reprocess_behavior": "failed",
    }
    created = _request("POST", f"{base}/api/v2/backfills", body, token)
    print(f"created backfill {created['id']} of {args.dag_id} {start} .. {end}", flush=True)
    if not args.wait:
        return 0
    dag = urllib.parse.quote(args.dag_id)
    query = urllib.parse.urlencode({
        "run_type": "backfill", "logical_date_gte": f"{start}T00:00:00Z",
        "logical_date_lte": f"{end}T00:00:00Z", "order_by": "logical_date", "limit": 100,
    })
    t0, logged_in, seen = time.monotonic(), time.monotonic(), {}
    while True:
        runs = _request("GET", f"{base}/api/v2/dags/{dag}/dagRuns?{query}", token=token)
        for run in runs["dag_runs"]:
            key = run["logical_date"][:10]
            if seen.get(key) != run["state"]:
                seen[key] = run["state"]
                print(f"[{time.monotonic() - t0:6.0f}s] {key} {run['dag_run_id']}: "
                      f"{run['state']}", flush=True)
        states = list(seen.values())
        if states and all(s in TERMINAL for s in states):
            done = _request("GET", f"{base}/api/v2/backfills/{created['id']}", token=token)
            if done.get("completed_at"):
                failed = sorted(k for k, s in seen.items() if s != "success")
                print(f"backfill {created['id']}: {len(states) - len(failed)} of {len(states)} "
                      f"runs succeeded in {time.monotonic() - t0:.0f} s"
                      + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
                return 1 if failed else 0
        if time.monotonic() - t0 > args.timeout:
            print(f"timed out after {args.timeout:.0f} s: {seen}", file=sys.stderr)
            return 1
        time.sleep(30)
        if time.monotonic() - logged_in > 3000:
            token, logged_in = login(base, args.user, password_for(args.user)), time.monotonic()


if __name__ == "__main__":
    sys.exit(main())
