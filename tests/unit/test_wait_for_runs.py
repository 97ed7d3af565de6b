"""scripts/wait_for_runs.py: which demo days need a backfill (catchup will not run them)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "wait_for_runs", Path(__file__).resolve().parents[2] / "scripts" / "wait_for_runs.py"
)
wfr = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(wfr)

D = dt.date.fromisoformat


def run(day: str, state: str, kind: str = "scheduled", after: str | None = None) -> dict:
    return {
        "run_id": f"{kind}__{day}T00:00:00+00:00",
        "logical_date": f"{day}T00:00:00+00:00",
        "run_after": after or f"{day}T00:00:00+00:00",
        "state": state,
    }


def test_days_after_the_latest_scheduled_run_are_left_to_catchup():
    runs = [run("2024-01-01", "running")]
    assert wfr.backfill_range(runs, D("2024-01-01"), D("2024-01-03")) is None


def test_no_scheduled_run_at_all_means_backfill_everything():
    assert wfr.backfill_range([], D("2024-01-01"), D("2024-01-03")) == (
        "2024-01-01", "2024-01-03"
    )


def test_days_before_a_later_run_and_failed_days_are_backfilled():
    runs = [run("2024-01-09", "success"), run("2024-01-02", "failed")]
    assert wfr.backfill_range(runs, D("2024-01-01"), D("2024-01-03")) == (
        "2024-01-01", "2024-01-03"
    )
    # the newest run of a day decides: a failed scheduled run re-run by a successful backfill
    runs += [run("2024-01-02", "success", "backfill", after="2024-01-02T00:00:01+00:00"),
             run("2024-01-01", "success"), run("2024-01-03", "success")]
    assert wfr.backfill_range(runs, D("2024-01-01"), D("2024-01-03")) is None


def asset_run(after: str, state: str) -> dict:
    return {
        "run_id": f"asset_triggered__{after}_x",
        "logical_date": None,
        "run_after": after,
        "state": state,
    }


def test_settle_looks_only_at_runs_made_since_the_demo_started():
    runs = [
        asset_run("2026-12-02T11:59:18.001060+00:00", "failed"),  # an earlier demo's
        asset_run("2026-12-02T12:14:37.294744+00:00", "success"),
        asset_run("2026-12-02T12:30:04.731351+00:00", "running"),
        asset_run("2026-12-02T12:31:00+00:00", "queued"),
    ]
    pending, failed = wfr.unfinished_and_failed(runs, "2026-12-02T12:00:00Z")
    assert pending == [
        "asset_triggered__2026-12-02T12:30:04.731351+00:00_x",
        "asset_triggered__2026-12-02T12:31:00+00:00_x",
    ]
    assert failed == []
    pending, failed = wfr.unfinished_and_failed(runs, "2026-12-02T11:00:00Z")
    assert failed == ["asset_triggered__2026-12-02T11:59:18.001060+00:00_x"]


def test_only_dags_parsed_since_the_airflow_start_count_as_ready():
    listed = [
        {"dag_id": "lakehouse_daily", "last_parsed_time": "2026-12-07T03:10:05.5+00:00"},
        # serialised by an earlier start (another schedule window): not ready yet
        {"dag_id": "experiment_a", "last_parsed_time": "2026-12-07T02:59:59+00:00"},
        {"dag_id": "experiment_b", "last_parsed_time": None},  # never parsed
        {"dag_id": "experiment_c", "last_parsed_time": "2026-12-07T03:10:00Z"},  # the same second
    ]
    assert wfr.parsed_since(listed, "2026-12-07T03:10:00Z") == {"lakehouse_daily", "experiment_c"}


def test_the_experiment_dags_are_one_per_readout_config():
    # experiments/ holds homepage_cta_test.yaml and pdp_redesign.yaml, both with a readout
    assert sorted(wfr.experiment_dags()) == [
        "experiment_homepage_cta_test", "experiment_pdp_redesign"]


def test_forget_deletes_the_runs_of_the_window_only(monkeypatch, capsys):
    runs = [run("2024-01-01", "success"), run("2024-01-03", "failed"),
            run("2024-01-04", "success"), run("2023-12-31", "success", kind="manual")]
    monkeypatch.setattr(wfr, "runs", lambda dag: runs)
    calls = []
    monkeypatch.setattr(wfr, "_api", lambda path, method="GET", body=None: calls.append(
        (method, path)) or {})
    assert wfr.forget("lakehouse_daily", D("2024-01-01"), D("2024-01-03")) == 0
    assert calls == [
        ("DELETE", "dags/lakehouse_daily/dagRuns/scheduled__2024-01-01T00%3A00%3A00%2B00%3A00"),
        ("DELETE", "dags/lakehouse_daily/dagRuns/scheduled__2024-01-03T00%3A00%3A00%2B00%3A00"),
    ]
    assert "forgot 2 runs" in capsys.readouterr().out

    def unknown(dag):
        raise SystemExit("GET .../dags/lakehouse_daily/dagRuns -> HTTP 404")

    monkeypatch.setattr(wfr, "runs", unknown)
    assert wfr.forget("lakehouse_daily", D("2024-01-01"), D("2024-01-03")) == 0
    assert "no runs of lakehouse_daily to forget" in capsys.readouterr().out


def test_a_run_s_wall_time_is_its_end_minus_its_start():
    """The demo prints each day's run time: 00:00:00 -> 00:03:38.9 is 3 * 60 + 38.9 s; a run
    without an end (still running) has none, and neither has a malformed one."""
    done = {"start_date": "2024-01-02T10:00:00Z", "end_date": "2024-01-02T10:03:38.900000Z"}
    assert wfr.run_seconds(done) == 3 * 60 + 38.9
    assert wfr.run_seconds({"start_date": "2024-01-02T10:00:00Z", "end_date": None}) is None
    assert wfr.run_seconds({"state": "queued"}) is None


def test_runs_keep_what_the_run_time_needs(monkeypatch):
    """runs() reads the API's list: each run keeps its start and end, so the time printed
    is the API's (a run of 2 min 42 s here)."""
    page = {"dag_runs": [{"dag_run_id": "scheduled__2024-01-01T00:00:00+00:00",
                          "logical_date": "2024-01-01T00:00:00Z", "run_after": "x",
                          "state": "success", "start_date": "2026-12-07T10:00:00Z",
                          "end_date": "2026-12-07T10:02:42Z"}], "total_entries": 1}  # fmt: skip
    monkeypatch.setattr(wfr, "_api", lambda path: page)
    (run,) = wfr.runs("lakehouse_daily")
    assert wfr.run_seconds(run) == 162
