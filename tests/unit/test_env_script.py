"""scripts/env.sh is sourced by every script, often more than once in one process tree."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env_after(sources: int, extra: str = "") -> str:
    script = f"{extra} " + "; ".join(["source scripts/env.sh"] * sources)
    script += '; printf "%s" "$AIRFLOW_CONN_SPARK_LAKEHOUSE"'
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True).stdout


def test_spark_connection_is_valid_json_however_often_sourced():
    once, thrice = _env_after(1), _env_after(3)
    assert once == thrice
    conn = json.loads(thrice)
    assert conn["conn_type"] == "spark" and conn["host"] == "local[2]"


def test_spark_master_is_configuration():
    conn = json.loads(_env_after(2, "export LAKEHOUSE_SPARK_MASTER=spark://h:7077;"))
    assert conn["host"] == "spark://h:7077"


def _demo_window(*args: str) -> subprocess.CompletedProcess:
    """Run the lines of scripts/demo.sh that read START DAYS SCALE and compute END (nothing
    after them: no Airflow is started)."""
    lines = (ROOT / "scripts" / "demo.sh").read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith('START="${1:-'))
    last = next(i for i, line in enumerate(lines) if line.startswith('[[ "$SCALE"'))
    script = "set -euo pipefail; . scripts/lib.sh\n" + "\n".join(lines[first : last + 1])
    script += '\nprintf "%s %s" "$END" "$SCALE"'
    return subprocess.run(["bash", "-c", script, "demo.sh", *args], cwd=ROOT, text=True,
                          capture_output=True, env={"PATH": "/usr/bin:/bin"})  # fmt: skip


def test_demo_window_from_start_and_days():
    assert _demo_window().stdout == "2024-01-03 20000"
    assert _demo_window("2024-12-30", "3", "500").stdout == "2025-01-01 500"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["2024-01-01');import os;print('x", "3"], "START must be a date YYYY-MM-DD"),
        (["2024-01-01'[:0]+print('x') or '2024-01-01", "3"], "START must be a date"),
        (["2024-02-30", "3"], "no valid date range"),
        (["２０２４-０１-０１", "3"], "START must be a date"),
        (["2024-01-01", "3')+0;print('x"], "DAYS must be a positive integer"),
        (["2024-01-01", "0"], "DAYS must be a positive integer"),
        (["2024-01-01", "-1"], "DAYS must be a positive integer"),
        (["9999-12-31", "5"], "no valid date range"),
        (["2024-01-01", "3", '1, "generate_raw": false'], "SCALE must be a positive integer"),
    ],
)
def test_demo_rejects_a_bad_start_days_or_scale(args, error):
    out = _demo_window(*args)
    assert out.returncode != 0 and error in out.stderr, out
    assert "x" not in out.stdout  # the injected print never ran


def _bash(script: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True)  # fmt: skip


def test_airflow_refuses_to_start_without_its_postgresql(tmp_path):
    """No credentials (a state dir set-up never ran in): Airflow would fall back to a SQLite
    file of its own; scripts/airflow.sh stops first, saying why, and starts nothing."""
    state = tmp_path / "state"
    state.mkdir()
    done = _bash("scripts/airflow.sh start", LAKEHOUSE_STATE_DIR=str(state))
    assert done.returncode == 1
    assert "LAKEHOUSE_PG_PASSWORD is not set" in done.stderr and "make setup" in done.stderr
    assert not list(state.rglob("*.db")) and not list(state.rglob("*.pid")), list(state.rglob("*"))


def test_a_sqlite_metadata_database_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/airflow.db"
    done = _bash("source scripts/env.sh; lakehouse_require_airflow_db",
                 LAKEHOUSE_STATE_DIR=str(tmp_path), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=url)
    assert done.returncode == 1 and "must be PostgreSQL" in done.stderr
    assert "'sqlite' URL" in done.stderr and str(tmp_path) not in done.stderr  # no URL echoed


def test_the_local_postgresql_is_airflows_database_once_set_up(tmp_path):
    script = ('source scripts/env.sh; lakehouse_require_airflow_db && '
              'printf "%s" "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN%%:*}"')
    done = _bash(script, LAKEHOUSE_STATE_DIR=str(tmp_path),
                 LAKEHOUSE_PG_PASSWORD=secrets.token_urlsafe(12))  # a throwaway value
    assert done.returncode == 0, done.stderr
    assert done.stdout == "postgresql+psycopg2"


def test_the_state_s_world_brings_its_experiment_files(tmp_path):
    """demo.sh records the world in the state; every later command reads its experiment
    files from the state (only a plain name is taken from the file)."""
    show = '. scripts/env.sh; printf "%s|%s" "$LAKEHOUSE_WORLD" "${LAKEHOUSE_EXPERIMENTS_DIR:-}"'
    assert _bash(show, LAKEHOUSE_STATE_DIR=str(tmp_path)).stdout == "default|"
    (tmp_path / "world").write_text("truth\n")
    assert _bash(show, LAKEHOUSE_STATE_DIR=str(tmp_path)).stdout == (
        f"truth|{tmp_path}/worlds/truth/experiments")
    # "tru" + "touchx" (the letters of "$(touch x)") + "th": never run, never a path
    (tmp_path / "world").write_text("tru$(touch x)th/../")
    assert _bash(show, LAKEHOUSE_STATE_DIR=str(tmp_path)).stdout.startswith("trutouchxth|")
    assert not (ROOT / "x").exists()
    # the caller's choice wins (demo.sh sets it before sourcing)
    out = _bash(show, LAKEHOUSE_STATE_DIR=str(tmp_path), LAKEHOUSE_WORLD="default").stdout
    assert out == "default|"


def test_a_world_s_demo_takes_the_world_s_days_and_scale(tmp_path):
    from include.generator.worlds import main, world

    assert main(["truth", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["homepage_cta_test.yaml",
                                                          "pdp_redesign.yaml"]  # fmt: skip
    assert main(["nowhere", str(tmp_path)]) == 2
    assert world("default").generator.events_per_day == 20_000
    assert world("truth").generator.events_per_day == 50_000
    assert world("truth", 1000).days()[-1] == "2024-01-12"
    assert world("compact").generator.events_per_day == 50_000
    with pytest.raises(ValueError, match="unknown world"):
        world("x")
