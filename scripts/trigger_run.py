"""Trigger a DAG run through Airflow's REST API (v2) and optionally wait for it to finish.

    python scripts/trigger_run.py lakehouse_daily --ds 2024-01-09 --conf '{"scale": 2000}' --wait

What a platform team's tooling does: log in (``POST /auth/token``, the simple auth
manager's user from ``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE``), create the run
(``POST /api/v2/dags/{dag_id}/dagRuns``), then poll ``GET .../dagRuns/{run_id}``. The API
validates ``conf`` against the DAG's Params, so a bad value is refused with a 400 here,
before anything runs. Only the standard library is used.
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
    ap.add_argument("--wait", action="store_true", help="poll until the run finishes")
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
    if args.ds and not _DS.fullmatch(args.ds):
        ap.error(f"--ds must be YYYY-MM-DD, got {args.ds!r}")
    try:
        conf = json.loads(args.conf)
    except ValueError as err:
        ap.error(f"--conf is not JSON: {err}")
    if not isinstance(conf, dict):
        ap.error("--conf must be a JSON object")

    base = args.url.rstrip("/")
    token = login(base, args.user, password_for(args.user))
    # a run needs a logical date: the DAGs' tasks work on {{ ds }}
    ds = args.ds or time.strftime("%Y-%m-%d", time.gmtime())
    body: dict = {"conf": conf, "logical_date": f"{ds}T00:00:00Z"}
    dag = urllib.parse.quote(args.dag_id)
    run = _request("POST", f"{base}/api/v2/dags/{dag}/dagRuns", body, token)
    run_id = run["dag_run_id"]
    print(f"created {args.dag_id} run {run_id} (state {run['state']})", flush=True)
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


if __name__ == "__main__":
    sys.exit(main())
